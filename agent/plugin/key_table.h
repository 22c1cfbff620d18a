#pragma once

#include <any>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "agent/plugin/section.h"
#include "agent/util/result.h"

// Typed key tables: one entry gives a key's type, limits, default, help text
// and the member of an options struct its value fills, in the manner of Fluent
// Bit's config maps. The core fills the struct from a section (every error at
// its FILE:LINE, defaults applied once, from the table's text) and renders the
// docs from the same table.
//
//   struct DiskOptions { std::string path; Duration window; };
//   const KeyTable<DiskOptions> kKeys = {
//       key("path", &DiskOptions::path).path().required().help("what to watch"),
//       key("window", &DiskOptions::window).default_value("5m").greater_than("0"),
//   };
namespace vigil {

// "[disk root]" or "[cpu]", as messages name a section.
std::string section_label(const Section& section);

// A non-negative decimal integer that fits an int.
std::optional<int> parse_int(std::string_view s);

// Checks one value against its key's type, choices and limits, and gives it
// parsed. Messages start with the key: "window: negative duration '-1s'".
Result<KeyValue> parse_key_value(const KeySpec& spec, std::string_view value);

// One key table and the object its keys fill (of the table's type).
struct KeyTarget {
  std::span<const KeySpec> keys;
  void* options = nullptr;
};

struct FillOptions {
  // A key that no table names is an error ("unknown key"); when false it is
  // skipped, for a plugin that reads its own keys out of a check's section.
  bool unknown_keys_are_errors = true;
  // Keys whose line had an error of its own (an undefined ${VAR}): they count
  // as given, so that no "missing required key" follows.
  const std::set<std::string>* given = nullptr;
};

// Fills the targets from the section's lines in file order (the first table
// that names a key wins): each value is parsed by its key's type and limits and
// stored. Reports unknown keys, repeats of keys that may not repeat (at the
// later line), bad values (at their line) and missing required keys (at the
// header), all of them. Defaults are not applied here: see apply_defaults.
std::vector<Error> fill_keys(const Section& section, std::span<const KeyTarget> targets,
                             const FillOptions& options = {});

// Stores the default of every key whose default is a value, as if written in
// the section. Fails only for a table whose default does not parse, which a
// unit test rules out for every table.
Status apply_defaults(std::span<const KeySpec> keys, void* options);

// A plugin's options object, of the type its key table fills; copies share the
// object. The type is kept, so that get<T>() of any other type gives null.
class PluginOptions {
 public:
  PluginOptions() = default;
  template <typename T>
  explicit PluginOptions(std::shared_ptr<T> object) : data_(object.get()), object_(object) {}

  template <typename T>
  const T* get() const {
    const auto* p = std::any_cast<std::shared_ptr<T>>(&object_);
    return p != nullptr ? p->get() : nullptr;
  }
  // The object, for the stores of the table that made it.
  void* data() const { return data_; }
  bool empty() const { return data_ == nullptr; }

 private:
  void* data_ = nullptr;
  std::any object_;  // std::shared_ptr<T>
};

// A key table as the core and the docs see it, whatever its options type.
class KeyTableBase {
 public:
  virtual ~KeyTableBase() = default;
  KeyTableBase(const KeyTableBase&) = delete;
  KeyTableBase& operator=(const KeyTableBase&) = delete;

  std::span<const KeySpec> keys() const { return keys_; }
  const KeySpec* find(std::string_view name) const;
  // A new options object with the table's defaults applied.
  virtual PluginOptions make() const = 0;
  // A new options object filled from the section's keys of this table (other
  // keys are skipped), or the first error: what a plugin's create() does when
  // its caller did not fill the options.
  Result<PluginOptions> fill(const Section& section) const;

 protected:
  KeyTableBase() = default;
  std::vector<KeySpec> keys_;
};

namespace key_detail {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T>
inline constexpr bool kAlwaysFalse = false;

// The value type a member of type T takes, and whether the key may repeat.
template <typename T>
constexpr ValueType value_type() {
  if constexpr (IsOptional<T>::value) {
    return value_type<typename T::value_type>();
  } else if constexpr (std::is_same_v<T, Duration>) {
    return ValueType::kDuration;
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return ValueType::kSize;
  } else if constexpr (std::is_same_v<T, bool>) {
    return ValueType::kBool;
  } else if constexpr (std::is_same_v<T, int>) {
    return ValueType::kInt;
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Entry> ||
                       std::is_same_v<T, std::vector<std::string>> ||
                       std::is_same_v<T, std::vector<Entry>>) {
    return ValueType::kString;
  } else {
    static_assert(kAlwaysFalse<T>, "no key type for this member type");
  }
}

template <typename T>
constexpr bool repeats() {
  return std::is_same_v<T, std::vector<std::string>> || std::is_same_v<T, std::vector<Entry>>;
}

// Stores a parsed value into a member. Entry members keep the line as written
// with its place, for values the plugin checks later (a regex it compiles).
template <typename T>
Status store_member(T& member, const KeyValue& value, const Entry& entry) {
  if constexpr (IsOptional<T>::value) {
    typename T::value_type v{};
    Status st = store_member(v, value, entry);
    if (st.ok()) {
      member = std::move(v);
    }
    return st;
  } else if constexpr (std::is_same_v<T, Entry>) {
    member = entry;
    return {};
  } else if constexpr (std::is_same_v<T, std::vector<Entry>>) {
    member.push_back(entry);
    return {};
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (const auto* items = std::get_if<std::vector<std::string>>(&value)) {
      member = *items;  // a list replaces
      return {};
    }
    if (const auto* text = std::get_if<std::string>(&value)) {
      member.push_back(*text);  // a repeated key adds
      return {};
    }
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    if (const auto* n = std::get_if<uint64_t>(&value)) {
      member = *n;
      return {};
    }
    if (const auto* i = std::get_if<int>(&value)) {
      member = static_cast<uint64_t>(*i);  // an integer key (.integer()): never negative
      return {};
    }
  } else if (const auto* v = std::get_if<T>(&value)) {
    member = *v;
    return {};
  }
  return make_error(entry.key + ": the key table stores this type in the wrong member");
}

}  // namespace key_detail

// A custom store: it gets the line as written (already checked by the key's
// type, choices and limits) and may reject it.
template <typename Options>
using KeySetter = std::function<Status(Options& options, const Entry& entry)>;

// One entry of a KeyTable<Options>, built by key() and its setters.
template <typename Options>
class Key {
 public:
  Key(std::string_view name, ValueType type, KeyStore store) {
    spec_.name = name;
    spec_.type = type;
    spec_.store = std::move(store);
  }

  // A key of a base struct's table, in the table of a struct derived from it.
  template <typename Base>
  requires(std::is_base_of_v<Base, Options> && !std::is_same_v<Base, Options>)
      Key(const Key<Base>& base)
      : spec_(base.spec()) {  // NOLINT(google-explicit-constructor)
    if (spec_.store) {
      spec_.store = [store = std::move(spec_.store)](const KeyValue& value, const Entry& entry,
                                                     void* options) {
        return store(value, entry, static_cast<Base*>(static_cast<Options*>(options)));
      };
    }
  }

  Key& required() {
    spec_.required = true;
    return *this;
  }
  Key& repeatable() {
    spec_.repeatable = true;
    return *this;
  }
  // The default, stored before the section is read and shown in the docs.
  Key& default_value(std::string_view text) {
    spec_.default_text = text;
    spec_.default_is_value = true;
    return *this;
  }
  // A default the code works out (`system hostname`): shown in the docs only.
  Key& default_text(std::string_view text) {
    spec_.default_text = text;
    spec_.default_is_value = false;
    return *this;
  }
  Key& help(std::string_view text) {
    spec_.help = text;
    return *this;
  }
  Key& choices(std::string_view comma_separated) {
    spec_.type = ValueType::kChoice;
    spec_.choices = comma_separated;
    return *this;
  }
  Key& path() {
    spec_.type = ValueType::kPath;
    return *this;
  }
  Key& regex() {
    spec_.type = ValueType::kRegex;
    return *this;
  }
  Key& rule() {
    spec_.type = ValueType::kRule;
    return *this;
  }
  // An integer where the member is a size_t or uint64_t (a count, not bytes).
  Key& integer() {
    spec_.type = ValueType::kInt;
    return *this;
  }
  // A comma-separated list on one line; a vector member takes its items.
  Key& list() {
    spec_.type = ValueType::kList;
    spec_.repeatable = false;
    return *this;
  }
  Key& greater_than(std::string_view limit) {
    spec_.greater_than = limit;
    return *this;
  }
  Key& at_least(std::string_view limit) {
    spec_.at_least = limit;
    return *this;
  }
  Key& at_most(std::string_view limit) {
    spec_.at_most = limit;
    return *this;
  }

  const KeySpec& spec() const { return spec_; }

 private:
  KeySpec spec_;
};

// A key whose value fills a member; its type follows the member's: Duration,
// uint64_t (a size), bool, int, std::string, Entry (the line with its place),
// std::optional of those, or a std::vector of strings or entries (a key that
// may repeat, each line one item; .list() for items on one line).
template <typename Options, typename T>
Key<Options> key(std::string_view name, T Options::*member) {
  Key<Options> k(name, key_detail::value_type<T>(),
                 [member](const KeyValue& value, const Entry& entry, void* options) {
                   return key_detail::store_member(static_cast<Options*>(options)->*member, value,
                                                   entry);
                 });
  if constexpr (key_detail::repeats<T>()) {
    k.repeatable();
  }
  return k;
}

// A key whose value a function stores (a choice that becomes an enum, a value
// checked against others).
template <typename Options>
Key<Options> key(std::string_view name, ValueType type, KeySetter<Options> set) {
  return Key<Options>(name, type,
                      [set = std::move(set)](const KeyValue&, const Entry& entry, void* options) {
                        return set(*static_cast<Options*>(options), entry);
                      });
}

// A key that is only checked: the core reads it itself.
template <typename Options>
Key<Options> key(std::string_view name, ValueType type) {
  return Key<Options>(name, type, nullptr);
}

// The keys of one section type and the struct they fill.
template <typename Options>
class KeyTable final : public KeyTableBase {
 public:
  using OptionsType = Options;

  KeyTable() = default;
  KeyTable(std::initializer_list<Key<Options>> keys) {
    for (const Key<Options>& k : keys) {
      keys_.push_back(k.spec());
    }
  }

  PluginOptions make() const override {
    auto options = std::make_shared<Options>();
    // Cannot fail for a table whose defaults parse; the key tables test checks them all.
    (void)vigil::apply_defaults(keys_, options.get());
    return PluginOptions(std::move(options));
  }

  Status apply_defaults(Options* options) const { return vigil::apply_defaults(keys_, options); }
  KeyTarget target(Options* options) const { return KeyTarget{keys_, options}; }

  // The options a caller filled, or else new ones filled from the section.
  Result<PluginOptions> options_for(const PluginOptions& given, const Section& section) const {
    if (given.get<Options>() != nullptr) {
      return given;
    }
    return fill(section);
  }
};

}  // namespace vigil
