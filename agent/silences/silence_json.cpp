#include "agent/silences/silence_json.h"

#include <nlohmann/json.hpp>

namespace vigil {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int kVersion = 1;

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ordered_json matchers_json(const std::vector<Matcher>& matchers) {
  ordered_json out = ordered_json::array();
  for (const Matcher& m : matchers) {
    ordered_json o;
    o["name"] = m.name;
    o["value"] = m.value;
    o["isRegex"] = m.is_regex;
    o["isEqual"] = m.is_equal;
    out.push_back(std::move(o));
  }
  return out;
}

ordered_json null_or(const std::string& s) {
  return s.empty() ? ordered_json(nullptr) : ordered_json(s);
}

// The fields of one silence, in Alertmanager's order, then vigil's.
ordered_json silence_object(const Silence& s, const SilenceState* state) {
  ordered_json o;
  o["id"] = s.id;
  if (state != nullptr) {
    o["status"] = {{"state", silence_state_name(*state)}};
  }
  o["updatedAt"] = format_rfc3339(s.updated_at);
  o["matchers"] = matchers_json(s.matchers);
  o["startsAt"] = format_rfc3339(s.starts_at);
  o["endsAt"] = format_rfc3339(s.ends_at);
  o["createdBy"] = s.created_by;
  o["comment"] = s.comment;
  o["expireOnResolve"] = s.expire_on_resolve;
  o["peer"] = null_or(s.peer);
  if (state != nullptr) {
    o["window"] = null_or(s.window);
  }
  return o;
}

// Reads fields of one JSON object; the first wrong one is the error.
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) {
      fail("", "an object");
    }
  }
  const std::string& error() const { return error_; }

  std::string str(const char* k, bool required = true) {
    const json* v = get(k);
    if (v == nullptr || v->is_null()) {
      if (required) {
        fail(k, "a string");
      }
      return {};
    }
    if (!v->is_string()) {
      fail(k, "a string");
      return {};
    }
    return v->get<std::string>();
  }
  bool boolean(const char* k, bool fallback) {
    const json* v = get(k);
    if (v == nullptr || v->is_null()) {
      return fallback;
    }
    if (!v->is_boolean()) {
      fail(k, "true or false");
      return fallback;
    }
    return v->get<bool>();
  }
  SystemTime time(const char* k) {
    std::string text = str(k);
    SystemTime t{};
    if (error_.empty() && !parse_rfc3339(text, &t)) {
      fail(k, "an RFC 3339 time (2026-11-24T13:15:02Z)");
    }
    return t;
  }
  const json* array(const char* k) {
    const json* v = get(k);
    if (v == nullptr || !v->is_array()) {
      fail(k, "an array");
      return nullptr;
    }
    return v;
  }
  void fail(const std::string& k, const char* expected) {
    if (error_.empty()) {
      error_ = where_ + (k.empty() ? "" : (where_.empty() ? "" : ".") + k) + " must be " + expected;
    }
  }
  void fail_with(std::string message) {
    if (error_.empty()) {
      error_ = std::move(message);
    }
  }

 private:
  const json* get(const char* k) const {
    if (!j_.is_object()) {
      return nullptr;
    }
    auto it = j_.find(k);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& j_;
  std::string where_;
  std::string error_;
};

std::vector<Matcher> read_matchers(Fields& f, const json* list) {
  std::vector<Matcher> out;
  if (list == nullptr) {
    return out;
  }
  if (list->size() > kMaxMatchers) {
    f.fail_with("a silence takes at most " + std::to_string(kMaxMatchers) + " matchers");
    return out;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    Fields m((*list)[i], "matchers[" + std::to_string(i) + "]");
    std::string name = m.str("name");
    std::string value = m.str("value");
    bool is_regex = m.boolean("isRegex", false);
    bool is_equal = m.boolean("isEqual", true);  // Alertmanager's default
    if (!m.error().empty()) {
      f.fail_with(m.error());
      return out;
    }
    Result<Matcher> made = make_matcher(std::move(name), std::move(value), is_regex, is_equal);
    if (!made.ok()) {
      f.fail_with(made.error());
      return out;
    }
    out.push_back(std::move(made).value());
  }
  return out;
}

// One silence of silences.json, or the fields a request may set.
Silence read_silence(Fields& f, bool stored) {
  Silence s;
  if (stored) {
    s.id = f.str("id");
    s.updated_at = f.time("updatedAt");
    s.peer = f.str("peer", false);
  }
  s.matchers = read_matchers(f, f.array("matchers"));
  s.starts_at = f.time("startsAt");
  s.ends_at = f.time("endsAt");
  s.created_by = f.str("createdBy", stored);
  s.comment = f.str("comment", stored);
  s.expire_on_resolve = f.boolean("expireOnResolve", false);
  return s;
}

}  // namespace

std::string silences_json(const std::vector<Silence>& silences, SystemTime now) {
  ordered_json out = ordered_json::array();
  for (const Silence& s : silences) {
    SilenceState state = s.state(now);
    out.push_back(silence_object(s, &state));
  }
  return dump(out);
}

std::string silence_request_json(const Silence& s) {
  ordered_json o;
  o["matchers"] = matchers_json(s.matchers);
  o["startsAt"] = format_rfc3339(s.starts_at);
  o["endsAt"] = format_rfc3339(s.ends_at);
  o["createdBy"] = null_or(s.created_by);
  o["comment"] = s.comment;
  o["expireOnResolve"] = s.expire_on_resolve;
  return dump(o);
}

Result<Silence> parse_silence_request(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return make_error("the body is not JSON");
  }
  Fields f(j, "");
  Silence s = read_silence(f, false);
  if (!f.error().empty()) {
    return make_error(f.error());
  }
  return s;
}

std::string silences_document(const std::vector<Silence>& silences) {
  ordered_json list = ordered_json::array();
  for (const Silence& s : silences) {
    list.push_back(silence_object(s, nullptr));
  }
  ordered_json doc;
  doc["version"] = kVersion;
  doc["silences"] = std::move(list);
  return dump(doc) + "\n";
}

Result<std::vector<Silence>> parse_silences_document(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("not a JSON object");
  }
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() != kVersion) {
    return make_error("unsupported version");
  }
  Fields top(j, "");
  const json* list = top.array("silences");
  if (list == nullptr) {
    return make_error(top.error());
  }
  std::vector<Silence> out;
  for (size_t i = 0; i < list->size(); ++i) {
    Fields f((*list)[i], "silences[" + std::to_string(i) + "]");
    Silence s = read_silence(f, true);
    if (!f.error().empty()) {
      return make_error(f.error());
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vigil
