#include "agent/config/loader.h"

#include <glob.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <exception>
#include <map>

#include "agent/config/expand.h"
#include "agent/config/ini_reader.h"
#include "agent/config/plugin_registry.h"
#include "agent/config/section_keys.h"
#include "agent/config/sections.h"
#include "agent/outputs/http_client.h"
#include "agent/util/fs.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr std::string_view kReservedCheckName = "vigil";

std::optional<std::string> env_lookup(const std::string& name) {
  const char* v = ::getenv(name.c_str());
  if (v == nullptr) {
    return std::nullopt;
  }
  return std::string(v);
}

std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

std::string where(const Section& s) { return s.file + ":" + std::to_string(s.line); }

// Reads the whole configuration: the files, then the sections by type.
class Loader {
 public:
  Loader(const std::string& path, const LoadOptions& options)
      : path_(path), options_(options), lookup_(options.getenv ? options.getenv : env_lookup) {}

  LoadResult run() {
    LoadResult result;
    try {
      load();
    } catch (const std::exception& e) {
      // Only allocation failures get here; report rather than crash.
      add_error(&errors_, path_, 0, std::string("internal error: ") + e.what());
    }
    sort_errors();
    result.errors = std::move(errors_);
    if (result.errors.empty()) {
      result.config = std::move(config_);
    }
    return result;
  }

 private:
  void load() {
    config_.path = path_;
    Result<std::string> text = read_file(path_);
    if (!text.ok()) {
      add_error(&errors_, path_, 0, "cannot read configuration: " + text.error());
      return;
    }
    read_text(path_, text.value());
    read_includes();
    classify();
    build_agent(agent_section_, &config_.agent, &errors_);
    config_.agent.include = include_pattern_;
    const KeyTable<IncidentPolicy>& incident_table = incident_key_table();
    (void)incident_table.apply_defaults(&config_.incidents);
    if (incidents_section_ != nullptr) {
      fill_section(*incidents_section_, {incident_table.target(&config_.incidents)}, &errors_);
    }
    build_checks();
    build_outputs();
    build_silences();
  }

  void read_text(const std::string& file, const std::string& text) {
    files_.push_back(file);
    std::vector<ParsedSection> parsed = parse_ini(file, text, &errors_);
    for (ParsedSection& ps : parsed) {
      expand(&ps);
      sections_.push_back(std::move(ps));
    }
  }

  // A value whose expansion fails is dropped, its key remembered as given.
  void expand(ParsedSection* ps) {
    std::vector<Entry> kept;
    for (Entry& e : ps->section.entries) {
      Result<std::string> v = expand_variables(e.value, lookup_);
      if (!v.ok()) {
        add_error(&errors_, e.file, e.line, e.key + ": " + v.error());
        ps->broken_keys.insert(e.key);
        continue;
      }
      e.value = std::move(v.value());
      kept.push_back(std::move(e));
    }
    ps->section.entries = std::move(kept);
  }

  // Only the main file's [agent] may include: an included file that includes
  // again would make the order of files depend on the order of reading.
  void read_includes() {
    // Copied out: reading more files below moves the sections around.
    std::optional<Entry> include;
    for (const ParsedSection& ps : sections_) {
      if (ps.valid && ps.section.type == "agent" && ps.section.name.empty()) {
        if (const Entry* e = ps.section.find("include")) {
          include = *e;
        } else if (ps.broken_keys.count("include") > 0) {
          return;  // reported; reading the default glob instead would mislead
        }
        break;
      }
    }
    std::string pattern = include ? std::string(trim(include->value)) : default_include();
    if (pattern.empty()) {
      return;
    }
    if (pattern[0] != '/') {
      pattern = folder_of(path_) + "/" + pattern;
    }
    include_pattern_ = pattern;
    int line = include ? include->line : 0;
    glob_t g{};
    int rc = glob(pattern.c_str(), 0, nullptr, &g);
    std::vector<std::string> matches;
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        matches.emplace_back(g.gl_pathv[i]);
      }
    }
    globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      add_error(&errors_, path_, line, "include: cannot expand '" + pattern + "'");
      return;
    }
    // Byte order, whatever the locale says: the order of files decides the
    // order of checks.
    std::sort(matches.begin(), matches.end());
    std::string main_real = real_path(path_);
    size_t first_included = sections_.size();
    for (const std::string& m : matches) {
      if (real_path(m) == main_real) {
        continue;  // `include = *.ini` beside the main file
      }
      // Only regular files: a FIFO here would block check-config, or the loop
      // of a running agent on reload, until some writer came along.
      Result<std::string> text = read_regular_file(m);
      if (!text.ok()) {
        add_error(&errors_, path_, line, "include: " + text.error());
        continue;
      }
      read_text(m, text.value());
    }
    for (size_t i = first_included; i < sections_.size(); ++i) {
      const ParsedSection& ps = sections_[i];
      if (ps.section.type != "agent") {
        continue;
      }
      for (const Entry* e : ps.section.all("include")) {
        add_error(&errors_, e->file, e->line,
                  "include: only the main file may include other files");
      }
    }
  }

  // The default of [agent] include, from its key table.
  static std::string default_include() {
    const KeySpec* spec = agent_key_table().find("include");
    return spec != nullptr ? std::string(spec->default_text) : std::string();
  }

  // Sorts sections by type; [agent] and [incidents] are applied before any
  // check, wherever they appear.
  void classify() {
    for (ParsedSection& ps : sections_) {
      if (!ps.valid) {
        continue;
      }
      const Section& s = ps.section;
      if (s.type == "agent" || s.type == "incidents") {
        const ParsedSection*& slot = s.type == "agent" ? agent_section_ : incidents_section_;
        if (!s.name.empty()) {
          add_error(&errors_, s.file, s.line, "[" + s.type + "] takes no name");
        } else if (slot != nullptr) {
          add_error(&errors_, s.file, s.line,
                    "duplicate [" + s.type + "] section (first at " + where(slot->section) + ")");
        } else {
          slot = &ps;
        }
      } else if (s.type == "output") {
        output_sections_.push_back(&ps);
      } else if (s.type == "silence") {
        silence_sections_.push_back(&ps);
      } else if (const Plugin* p = plugin_named(s.type)) {
        check_sections_.emplace_back(&ps, p);
      } else {
        add_error(&errors_, s.file, s.line,
                  "unknown section " + section_label(s) +
                      " (use agent, incidents, output, silence" + plugin_names() + ")");
      }
    }
  }

  std::span<const Plugin* const> plugins() const {
    return options_.plugins.empty() ? all_plugins() : options_.plugins;
  }

  const Plugin* plugin_named(std::string_view name) const {
    for (const Plugin* p : plugins()) {
      if (p->name == name) {
        return p;
      }
    }
    return nullptr;
  }

  std::string plugin_names() const {
    std::string out;
    for (const Plugin* p : plugins()) {
      out += ", " + std::string(p->name);
    }
    return out;
  }

  // Names are unique per kind; a repeat is reported at the later header.
  bool check_name(const Section& s, const std::string& name, std::string_view kind,
                  std::map<std::string, const Section*>* seen) {
    if (!is_valid_name(name)) {
      add_error(&errors_, s.file, s.line,
                "invalid " + std::string(kind) + " name '" + name +
                    "' (letters, digits and _ . -, not starting with . or -)");
      return false;
    }
    if (kind == "check" && name == kReservedCheckName) {
      add_error(&errors_, s.file, s.line,
                "the check name 'vigil' is reserved for the agent's own check");
      return false;
    }
    auto [it, inserted] = seen->emplace(name, &s);
    if (!inserted) {
      add_error(&errors_, s.file, s.line,
                "duplicate " + std::string(kind) + " name '" + name + "' (first at " +
                    where(*it->second) + ")");
      return false;
    }
    return true;
  }

  void build_checks() {
    std::map<std::string, const Section*> seen;
    for (const auto& [ps, plugin] : check_sections_) {
      size_t before = errors_.size();
      const Section& s = ps->section;
      std::string name = s.name.empty() ? std::string(plugin->name) : s.name;
      check_name(s, name, "check", &seen);
      CheckConfig check = build_check(*ps, *plugin, config_.agent, config_.incidents, &errors_);
      bool clean = errors_.size() == before && ps->broken_keys.empty();
      if (clean && check.enabled && options_.validate_plugins) {
        validate_with_plugin(check);
      }
      config_.checks.push_back(std::move(check));
    }
    check_dependencies(seen);
  }

  // depends_on names other checks of the configuration.
  void check_dependencies(const std::map<std::string, const Section*>& checks) {
    for (const CheckConfig& c : config_.checks) {
      const Entry* e = c.section.find("depends_on");
      for (const std::string& d : c.depends_on) {
        if (d == c.name) {
          report(make_error("depends_on: a check cannot depend on itself"), c.section, e);
        } else if (checks.count(d) == 0) {
          report(make_error("depends_on: no check named '" + d + "'"), c.section, e);
        }
      }
    }
  }

  void report(const Error& err, const Section& s, const Entry* e) {
    add_error(&errors_, e != nullptr ? e->file : s.file, e != nullptr ? e->line : s.line,
              err.message);
  }

  void report(const Error& e, const Section& s) {
    add_error(&errors_, e.file.empty() ? s.file : e.file, e.line == 0 ? s.line : e.line, e.message);
  }

  // The plugin checks what only it knows (regexes, command words); the
  // collector it builds is thrown away.
  void validate_with_plugin(const CheckConfig& check) {
    const Plugin& plugin = *check.plugin_def;
    PluginConfig pc{check.section, check.name, config_.agent.procfs, config_.agent.sysfs,
                    check.options};
    try {
      if (plugin.create != nullptr) {
        Result<std::unique_ptr<Collector>> made = plugin.create(pc);
        if (!made.ok()) {
          report(made.error_info(), check.section);
          return;
        }
      }
      if (options_.deep && plugin.check != nullptr) {
        for (const Error& e : plugin.check(pc)) {
          report(e, check.section);
        }
      }
    } catch (const std::exception& e) {
      report(make_error("plugin " + check.plugin + " failed: " + e.what()), check.section);
    }
  }

  void build_outputs() {
    std::map<std::string, const Section*> seen;
    for (const ParsedSection* ps : output_sections_) {
      const Section& s = ps->section;
      check_name(s, s.name.empty() ? "default" : s.name, "output", &seen);
      config_.outputs.push_back(build_output(*ps, &errors_));
    }
    check_http_library();
    if (output_sections_.empty()) {
      OutputConfig out;
      out.name = "default";
      out.url = "stdout";
      out.file = path_;
      out.line = 0;
      config_.outputs.push_back(std::move(out));
    }
  }

  // [silence NAME]: maintenance windows, each named.
  void build_silences() {
    std::map<std::string, const Section*> seen;
    for (const ParsedSection* ps : silence_sections_) {
      const Section& s = ps->section;
      if (s.name.empty()) {
        add_error(&errors_, s.file, s.line, "[silence] needs a name: [silence NAME]");
      } else {
        check_name(s, s.name, "silence", &seen);
      }
      config_.silences.push_back(build_silence(*ps, &errors_));
    }
  }

  // Once, at the first HTTP output's url: every HTTP output fails alike.
  void check_http_library() {
    if (!options_.check_http_library) {
      return;
    }
    for (const ParsedSection* ps : output_sections_) {
      const Entry* url = ps->section.find("url");
      if (url == nullptr) {
        continue;
      }
      std::string_view u = trim(url->value);
      if (!starts_with(u, "http://") && !starts_with(u, "https://")) {
        continue;
      }
      std::string reason =
          options_.http_unavailable ? options_.http_unavailable() : http_unavailable_reason();
      if (!reason.empty()) {
        add_error(&errors_, url->file, url->line, "url: " + reason);
      }
      return;
    }
  }

  // File order: the main file, then included files as read; by line within
  // a file. Errors found in later passes (checks, outputs) land where they
  // belong.
  void sort_errors() {
    auto rank = [this](const ConfigError& e) {
      auto it = std::find(files_.begin(), files_.end(), e.file);
      return std::make_pair(static_cast<size_t>(it - files_.begin()), e.line);
    };
    std::stable_sort(errors_.begin(), errors_.end(),
                     [&](const ConfigError& a, const ConfigError& b) { return rank(a) < rank(b); });
  }

  const std::string& path_;
  const LoadOptions& options_;
  VariableLookup lookup_;
  ConfigErrors errors_;
  Config config_;
  std::vector<std::string> files_;
  std::vector<ParsedSection> sections_;
  std::string include_pattern_;
  const ParsedSection* agent_section_ = nullptr;
  const ParsedSection* incidents_section_ = nullptr;
  std::vector<const ParsedSection*> output_sections_;
  std::vector<const ParsedSection*> silence_sections_;
  std::vector<std::pair<const ParsedSection*, const Plugin*>> check_sections_;
};

}  // namespace

LoadResult load_config(const std::string& path, const LoadOptions& options) {
  Loader loader(path, options);
  return loader.run();
}

std::span<const KeySpec> agent_keys() { return agent_key_table().keys(); }
std::span<const KeySpec> incident_keys() { return incident_key_table().keys(); }
std::span<const KeySpec> output_keys() { return output_key_specs(); }
std::span<const KeySpec> check_keys() { return check_key_table().keys(); }
std::span<const KeySpec> silence_keys() { return silence_key_specs(); }

}  // namespace vigil
