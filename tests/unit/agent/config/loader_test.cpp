#include "agent/config/loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "agent/config/plugin_registry.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

// A configuration folder with a fake environment. Plugins are not asked to
// validate: these tests are about the grammar, whatever each plugin checks.
class ConfigDir {
 public:
  std::string write(const std::string& name, const std::string& text) const {
    return dir.write(name, text);
  }
  LoadResult load(const std::string& main_text) const {
    return load_config(write("vigil.ini", main_text), options());
  }
  LoadResult load_file(const std::string& path) const { return load_config(path, options()); }
  LoadOptions options() const {
    LoadOptions o;
    o.validate_plugins = false;
    // libcurl is not loaded for grammar tests; one test below fakes it failing.
    o.http_unavailable = [] { return std::string(); };
    o.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) {
        return std::nullopt;
      }
      return it->second;
    };
    return o;
  }
  std::string main() const { return dir.file("vigil.ini"); }

  test::TempDir dir;
  std::map<std::string, std::string> env;
};

std::vector<std::string> messages(const LoadResult& r) {
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) {
    out.push_back(e.to_string());
  }
  return out;
}

using Messages = std::vector<std::string>;

// The hint of an unknown section lists the registered plugins.
std::string section_hint() {
  std::string out = "(use agent, incidents, output, silence";
  for (const Plugin* p : all_plugins()) {
    out += ", " + std::string(p->name);
  }
  return out + ")";
}

}  // namespace

TEST_CASE("an empty file gives the defaults", "[config]") {
  ConfigDir d;
  LoadResult r = d.load("");
  REQUIRE(r.errors.empty());
  const Config& c = *r.config;
  CHECK(c.path == d.main());
  char host[256] = {};
  REQUIRE(gethostname(host, sizeof host - 1) == 0);
  CHECK(c.agent.hostname == host);
  CHECK(c.agent.interval == Duration(10000));
  CHECK(c.agent.state_dir == "/var/lib/vigil");
  CHECK(c.agent.status_listen == "unix:/var/lib/vigil/vigil.sock");
  CHECK(c.agent.heartbeat == Duration(60000));
  CHECK(c.agent.include == d.dir.path() + "/conf.d/*.ini");
  CHECK(c.checks.empty());
  REQUIRE(c.outputs.size() == 1);
  CHECK(c.outputs[0].name == "default");
  CHECK(c.outputs[0].url == "stdout");
  CHECK(c.incidents.flap_changes == 5);
  CHECK(c.incidents.problem_window == std::chrono::hours(24));
}

TEST_CASE("a full configuration fills every structure", "[config]") {
  ConfigDir d;
  std::string token = d.write("token", "  s3cret\n\n");
  LoadResult r = d.load(
      "; a comment\n"
      "# another\n"
      "[agent]\n"
      "hostname = web1\n"
      "interval = 30s\n"
      "state_dir = /srv/vigil\n"
      "tags = env=prod, team = ops\n"
      "log_level = debug\n"
      "heartbeat = 0\n"
      "procfs = /host/proc\n"
      "shutdown_timeout = 2s\n"
      "[incidents]\n"
      "escalate_after = 15m, 1h\n"
      "renotify = 30m\n"
      "resolve_after = 1m\n"
      "flap_changes = 4\n"
      "[disk root]\n"
      "path = /   ; the root file system\n"
      "warning = used_percent > 80\n"
      "critical = used_percent > 95 for 5m clear 90\n"
      "critical = free_bytes < 1GiB\n"
      "tags = team=storage, disk=root\n"
      "runbook = https://wiki/disk\n"
      "unknown_after = 5\n"
      "renotify = 1h\n"
      "[exec backup]\n"
      "command = /usr/local/bin/check_backup --age 1d\n"
      "interval = 5m\n"
      "warning = age_seconds > 1d\n"
      "[output central]\n"
      "url = https://vigil.example.com/ingest\n"
      "token_file = " +
      token +
      "\n"
      "header = X-Tenant: acme\n"
      "tls_verify = no\n"
      "proxy = http://proxy.local:3128\n"
      "batch_max = 100\n"
      "batch_bytes = 512KiB\n"
      "compress = gzip\n"
      "spool_max = 4KiB\n"
      "spool_full = drop_newest\n"
      "min_severity = critical\n"
      "min_level = 1\n"
      "send = incident, problem\n");
  INFO(Catch::Detail::stringify(messages(r)));
  REQUIRE(r.errors.empty());
  const Config& c = *r.config;
  CHECK(c.agent.hostname == "web1");
  CHECK(c.agent.interval == Duration(30000));
  CHECK(c.agent.status_listen == "unix:/srv/vigil/vigil.sock");
  CHECK(c.agent.tags == Tags{{"env", "prod"}, {"team", "ops"}});
  CHECK(c.agent.log_level == "debug");
  CHECK(c.agent.heartbeat == Duration(0));
  CHECK(c.agent.procfs == "/host/proc");
  CHECK(c.agent.sysfs == "/sys");
  CHECK(c.agent.shutdown_timeout == Duration(2000));
  CHECK(c.incidents.escalate_after ==
        std::vector<Duration>{std::chrono::minutes(15), std::chrono::hours(1)});
  CHECK(c.incidents.renotify == std::chrono::minutes(30));
  CHECK(c.incidents.flap_changes == 4);

  REQUIRE(c.checks.size() == 2);
  const CheckConfig& disk = c.checks[0];
  CHECK(disk.name == "root");
  CHECK(disk.plugin == "disk");
  CHECK(disk.plugin_def != nullptr);
  CHECK(disk.interval == Duration(30000));
  CHECK(disk.timeout == Duration(30000));
  CHECK(disk.unknown_after == 5);
  CHECK(disk.runbook == "https://wiki/disk");
  CHECK(disk.tags == Tags{{"env", "prod"}, {"team", "storage"}, {"disk", "root"}});
  CHECK(disk.enabled);
  REQUIRE(disk.rules.size() == 3);
  CHECK(disk.rules[0].severity == CheckState::kWarning);
  CHECK(disk.rules[1].severity == CheckState::kCritical);
  CHECK(disk.rules[1].text == "used_percent > 95 for 5m clear 90");
  CHECK(disk.rules[2].value == 1073741824.0);
  CHECK(disk.incidents.renotify == std::chrono::hours(1));
  CHECK(disk.incidents.flap_changes == 4);
  CHECK(disk.incidents.escalate_after.size() == 2);
  CHECK(disk.section.find("path")->value == "/");
  CHECK(disk.section.line == 17);

  const CheckConfig& backup = c.checks[1];
  CHECK(backup.name == "backup");
  CHECK(backup.interval == std::chrono::minutes(5));
  CHECK(backup.timeout == Duration(10000));
  REQUIRE(backup.rules.size() == 1);
  CHECK(backup.rules[0].value == 86400);

  REQUIRE(c.outputs.size() == 1);
  const OutputConfig& o = c.outputs[0];
  CHECK(o.name == "central");
  CHECK(o.url == "https://vigil.example.com/ingest");
  CHECK(o.token == "s3cret");
  CHECK(o.headers == std::vector<std::pair<std::string, std::string>>{{"X-Tenant", "acme"}});
  CHECK_FALSE(o.tls_verify);
  CHECK(o.proxy == "http://proxy.local:3128");
  CHECK(o.batch_max == 100);
  CHECK(o.batch_bytes == 512 * 1024);
  CHECK(o.gzip);
  CHECK(o.spool_max == 4096);
  CHECK(o.drop_newest);
  CHECK(o.min_severity == CheckState::kCritical);
  CHECK(o.min_level == 1);
  CHECK_FALSE(o.send_event);
  CHECK(o.send_incident);
  CHECK(o.send_problem);
  CHECK_FALSE(o.send_heartbeat);
  CHECK(o.file == d.main());
  CHECK(o.line == 30);
}

TEST_CASE("the main file that cannot be read is one error at line 0", "[config]") {
  ConfigDir d;
  LoadResult r = d.load_file(d.dir.file("missing.ini"));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].file == d.dir.file("missing.ini"));
  CHECK(r.errors[0].line == 0);
  CHECK_FALSE(r.config.has_value());
}

TEST_CASE("unknown sections and keys are reported at their line", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu]\n"
      "colour = blue\n"
      "[frobnicate]\n"
      "x = 1\n");
  CHECK(messages(r) == Messages{d.main() + ":2: unknown key 'colour' in [cpu]",
                                d.main() + ":3: unknown section [frobnicate] " + section_hint()});
  CHECK_FALSE(r.config.has_value());
}

TEST_CASE("malformed durations, sizes and booleans are reported at their line", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[agent]\n"
      "interval = 10 seconds\n"
      "heartbeat = -1s\n"
      "[output]\n"
      "url = stdout\n"
      "spool_max = 10GB\n"
      "tls_verify = maybe\n");
  CHECK(messages(r) ==
        Messages{
            d.main() + ":2: interval: invalid duration unit in '10 seconds' (use ms, s, m, h, d)",
            d.main() + ":3: heartbeat: negative duration '-1s'",
            d.main() + ":6: spool_max: invalid size unit in '10GB' (use KiB, MiB, GiB)",
            d.main() + ":7: tls_verify: invalid boolean 'maybe' (use true/false, yes/no, on/off)"});
}

TEST_CASE("interval and timeout must be greater than 0", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu]\n"
      "interval = 0\n"
      "timeout = 0s\n");
  CHECK(messages(r) == Messages{d.main() + ":2: interval: must be greater than 0",
                                d.main() + ":3: timeout: must be greater than 0"});
}

TEST_CASE("malformed rules are reported at their line", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[load]\n"
      "warning = load1 => 4\n"
      "critical = load1 == 8 clear 4\n"
      "critical = load5 >\n");
  CHECK(messages(r) ==
        Messages{d.main() +
                     ":2: warning: invalid rule 'load1 => 4': expected an operator (> >= < <= == "
                     "!=) after 'load1', got '=>'",
                 d.main() + ":3: critical: invalid rule 'load1 == 8 clear 4': 'clear' is only "
                            "valid with > >= < <=",
                 d.main() + ":4: critical: invalid rule 'load5 >': missing value after '>'"});
}

TEST_CASE("a rule naming a metric the plugin lacks is an error, except for exec", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[disk root]\n"
      "path = /\n"
      "warning = usage_percent > 90\n"
      "[exec x]\n"
      "command = /bin/true\n"
      "warning = anything_at_all > 1\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":3: warning: plugin disk has no metric 'usage_percent' (it has "
                            "used_percent, free_bytes, inodes_used_percent, readonly)"});

  LoadResult ok = d.load(
      "[exec x]\n"
      "command = /bin/true\n"
      "warning = anything_at_all > 1\n");
  REQUIRE(ok.errors.empty());
  CHECK(ok.config->checks[0].rules[0].metric == "anything_at_all");
}

TEST_CASE("a missing required key is reported at the section header", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu]\n"
      "\n"
      "[disk data]\n"
      "warning = used_percent > 90\n"
      "[output]\n"
      "format = vigil\n");
  CHECK(messages(r) == Messages{d.main() + ":3: missing required key 'path' in [disk data]",
                                d.main() + ":5: missing required key 'url' in [output]"});
}

TEST_CASE("a key that may not repeat is reported at its second line", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[disk]\n"
      "path = /\n"
      "path = /var\n"
      "warning = used_percent > 80\n"
      "warning = free_bytes < 1GiB\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":3: duplicate key 'path' (first at line 2; only warning, "
                            "critical and keys marked repeatable may repeat)"});
}

TEST_CASE("duplicate check names are reported at the later header", "[config]") {
  ConfigDir d;
  SECTION("two unnamed sections of one plugin") {
    LoadResult r = d.load(
        "[disk]\n"
        "path = /\n"
        "[disk]\n"
        "path = /var\n");
    CHECK(messages(r) ==
          Messages{d.main() + ":3: duplicate check name 'disk' (first at " + d.main() + ":1)"});
  }
  SECTION("a named section of another plugin") {
    LoadResult r = d.load(
        "[memory mem]\n"
        "[process mem]\n"
        "name = sshd\n");
    CHECK(messages(r) ==
          Messages{d.main() + ":2: duplicate check name 'mem' (first at " + d.main() + ":1)"});
  }
  SECTION("across an included file") {
    std::string inc = d.write("conf.d/10-more.ini",
                              "[load]\n"
                              "\n"
                              "[cpu]\n");
    LoadResult r = d.load("[cpu]\n");
    CHECK(messages(r) ==
          Messages{inc + ":3: duplicate check name 'cpu' (first at " + d.main() + ":1)"});
  }
}

TEST_CASE("check names are validated and vigil is reserved", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu .hidden]\n"
      "[cpu vigil]\n"
      "[cpu fine-name_1.x]\n"
      "[output bad/name]\n"
      "url = stdout\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":1: invalid check name '.hidden' (letters, digits and _ . -, not "
                            "starting with . or -)",
                 d.main() + ":2: the check name 'vigil' is reserved for the agent's own check",
                 d.main() + ":4: invalid output name 'bad/name' (letters, digits and _ . -, not "
                            "starting with . or -)"});
}

TEST_CASE("a section without keys is a check", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu]\n"
      "[memory]\n"
      "; nothing here either\n"
      "[load]\n");
  REQUIRE(r.errors.empty());
  REQUIRE(r.config->checks.size() == 3);
  CHECK(r.config->checks[0].name == "cpu");
  CHECK(r.config->checks[1].name == "memory");
  CHECK(r.config->checks[2].name == "load");
  CHECK(r.config->checks[2].section.line == 4);
}

TEST_CASE("indented keys belong to their section, not to the previous key", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[disk root]\n"
      "  path = /\n"
      "\tcritical = used_percent > 95\n"
      "    warning = used_percent > 90\n");
  INFO(Catch::Detail::stringify(messages(r)));
  REQUIRE(r.errors.empty());
  const CheckConfig& c = r.config->checks[0];
  CHECK(c.section.find("path")->value == "/");
  REQUIRE(c.rules.size() == 2);
  CHECK(c.rules[0].severity == CheckState::kCritical);
  CHECK(c.rules[0].text == "used_percent > 95");
  CHECK(c.rules[1].text == "used_percent > 90");
}

TEST_CASE("a line of 199 bytes is too long and one of 198 is not", "[config]") {
  ConfigDir d;
  std::string prefix = "runbook = ";
  std::string ok_line = prefix + std::string(198 - prefix.size(), 'a');
  std::string long_line = prefix + std::string(199 - prefix.size(), 'b');
  REQUIRE(ok_line.size() == 198);

  LoadResult ok = d.load("[cpu]\n" + ok_line + "\r\n");
  REQUIRE(ok.errors.empty());
  CHECK(ok.config->checks[0].runbook == std::string(188, 'a'));

  LoadResult bad = d.load("[cpu]\n" + long_line + "\n; " + std::string(197, 'c') + "\n");
  CHECK(messages(bad) == Messages{d.main() + ":2: line too long (199 bytes, at most 198)",
                                  d.main() + ":3: line too long (199 bytes, at most 198)"});
}

TEST_CASE("an over-long required key line does not also count as missing", "[config]") {
  ConfigDir d;
  LoadResult r = d.load("[disk]\npath = /" + std::string(200, 'x') + "\n");
  CHECK(messages(r) == Messages{d.main() + ":2: line too long (208 bytes, at most 198)"});
}

TEST_CASE("variables expand from the environment", "[config]") {
  ConfigDir d;
  d.env["HOST_NAME"] = "db7";
  d.env["EMPTY"] = "";
  LoadResult r = d.load(
      "[agent]\n"
      "hostname = ${HOST_NAME}\n"
      "state_dir = ${STATE:-/tmp/vigil}\n"
      "[cpu]\n"
      "runbook = costs $$5, literally $${X}, ${EMPTY:-fallback}, end$\n");
  INFO(Catch::Detail::stringify(messages(r)));
  REQUIRE(r.errors.empty());
  CHECK(r.config->agent.hostname == "db7");
  CHECK(r.config->agent.state_dir == "/tmp/vigil");
  CHECK(r.config->checks[0].runbook == "costs $5, literally ${X}, fallback, end$");
}

TEST_CASE("an undefined variable without default is an error at its line", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[output]\n"
      "url = https://${ENDPOINT}/ingest\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":2: url: undefined variable 'ENDPOINT' (set it, or give a default: "
                            "${ENDPOINT:-VALUE})"});
}

TEST_CASE("included files are read in sorted order after the main file", "[config]") {
  ConfigDir d;
  d.write("conf.d/20-b.ini", "[memory m20]\n");
  d.write("conf.d/03-a.ini", "[memory m03]\n");
  d.write("conf.d/10-c.ini", "[memory m10]\n[agent]\ninterval = 7s\n");
  d.write("conf.d/ignored.txt", "[memory nope]\n");
  LoadResult r = d.load("[memory main]\n");
  REQUIRE(r.errors.empty());
  std::vector<std::string> names;
  for (const CheckConfig& c : r.config->checks) {
    names.push_back(c.name);
    // [agent] in a later file still sets the interval of every check.
    CHECK(c.interval == Duration(7000));
  }
  CHECK(names == std::vector<std::string>{"main", "m03", "m10", "m20"});
}

TEST_CASE("include is relative to the main file and may be absolute", "[config]") {
  ConfigDir d;
  d.write("checks/a.ini", "[load]\n");
  std::string main_path = d.write("etc/vigil.ini", "[agent]\ninclude = ../checks/*.ini\n");
  LoadResult r = d.load_file(main_path);
  REQUIRE(r.errors.empty());
  REQUIRE(r.config->checks.size() == 1);

  std::string abs_main =
      d.write("etc/abs.ini", "[agent]\ninclude = " + d.dir.path() + "/checks/*.ini\n");
  LoadResult r2 = d.load_file(abs_main);
  REQUIRE(r2.errors.empty());
  CHECK(r2.config->checks.size() == 1);
}

TEST_CASE("an include that matches nothing is fine", "[config]") {
  ConfigDir d;
  LoadResult r = d.load("[agent]\ninclude = nowhere/*.ini\n");
  CHECK(r.errors.empty());
}

TEST_CASE("an included file that cannot be read is an error at the include line", "[config]") {
  ConfigDir d;
  std::filesystem::create_directories(d.dir.file("conf.d"));
  std::string link = d.dir.file("conf.d/dangling.ini");
  REQUIRE(symlink(d.dir.file("gone.ini").c_str(), link.c_str()) == 0);
  LoadResult r = d.load(
      "[agent]\n"
      "interval = 5s\n"
      "include = conf.d/*.ini\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":3: include: cannot open " + link + ": No such file or directory"});
}

TEST_CASE("an include that is not a regular file is an error and is never waited on", "[config]") {
  ConfigDir d;
  std::filesystem::create_directories(d.dir.file("conf.d/folder.ini"));
  // Nobody ever writes to the FIFO: an open that waited for a writer would
  // hang the test.
  std::string fifo = d.dir.file("conf.d/b-fifo.ini");
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  std::string link = d.dir.file("conf.d/c-link.ini");
  REQUIRE(symlink(fifo.c_str(), link.c_str()) == 0);
  std::string device = d.dir.file("conf.d/d-null.ini");
  REQUIRE(symlink("/dev/null", device.c_str()) == 0);
  d.write("conf.d/e-good.ini", "[load]\n");  // read, and no error of its own
  LoadResult r = d.load("[agent]\ninclude = conf.d/*.ini\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":2: include: " + fifo + " is a FIFO, not a regular file",
                 d.main() + ":2: include: " + link + " is a FIFO, not a regular file",
                 d.main() + ":2: include: " + device + " is a character device, not a regular file",
                 d.main() + ":2: include: " + d.dir.file("conf.d/folder.ini") +
                     " is a folder, not a regular file"});
}

TEST_CASE("an included file may not include again", "[config]") {
  ConfigDir d;
  std::string inc = d.write("conf.d/a.ini", "[agent]\ninclude = more/*.ini\n");
  LoadResult r = d.load("[cpu]\n");
  CHECK(messages(r) == Messages{inc + ":2: include: only the main file may include other files"});
}

TEST_CASE("a second [agent] or [incidents] is reported at its header", "[config]") {
  ConfigDir d;
  std::string inc = d.write("conf.d/a.ini", "[cpu]\n[agent]\ninterval = 1s\n");
  LoadResult r = d.load(
      "[agent]\n"
      "[incidents]\n"
      "[incidents]\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":3: duplicate [incidents] section (first at " + d.main() + ":2)",
                 inc + ":2: duplicate [agent] section (first at " + d.main() + ":1)"});
}

TEST_CASE("several errors are reported at once in file order", "[config]") {
  ConfigDir d;
  std::string inc = d.write("conf.d/x.ini", "[disk]\npath = /\n[disk]\npath = /\n");
  LoadResult r = d.load(
      "[disk]\n"
      "warning = nope > 1\n"
      "[agent]\n"
      "interval = soon\n"
      "[output]\n"
      "url = ftp://x\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":1: missing required key 'path' in [disk]",
                 d.main() + ":2: warning: plugin disk has no metric 'nope' (it has used_percent, "
                            "free_bytes, inodes_used_percent, readonly)",
                 d.main() + ":4: interval: invalid duration 'soon' (use e.g. 250ms, 10s, 5m)",
                 d.main() + ":6: url: invalid url 'ftp://x' (use https://…, http://…, stdout or "
                            "file:PATH)",
                 inc + ":1: duplicate check name 'disk' (first at " + d.main() + ":1)",
                 inc + ":3: duplicate check name 'disk' (first at " + d.main() + ":1)"});
}

TEST_CASE("lines that are not key = value are reported, each of them", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "stray = 1\n"
      "[cpu]\n"
      "just words\n"
      "[memory\n"
      "more words\n"
      "[agent x]\n"
      "[a b c]\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":1: key 'stray' outside of any [section]",
                 d.main() + ":3: expected 'key = value', a [section] or a comment",
                 d.main() + ":4: missing ']' in section header",
                 d.main() + ":5: expected 'key = value', a [section] or a comment",
                 d.main() + ":6: [agent] takes no name",
                 d.main() + ":7: invalid section header '[a b c]' (use [TYPE] or [TYPE NAME])"});
}

TEST_CASE("the check interval and timeout defaults", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu]\n"
      "[memory]\n"
      "interval = 2s\n"
      "[exec e]\n"
      "command = /bin/true\n"
      "interval = 1s\n"
      "[load]\n"
      "interval = 1m\n"
      "timeout = 2m\n"
      "[agent]\n"
      "interval = 20s\n");
  REQUIRE(r.errors.empty());
  const auto& c = r.config->checks;
  CHECK(c[0].interval == Duration(20000));
  CHECK(c[0].timeout == Duration(20000));
  CHECK(c[1].timeout == Duration(2000));
  CHECK(c[2].timeout == Duration(10000));
  CHECK(c[3].timeout == std::chrono::minutes(2));
}

TEST_CASE("a log check without rules gets matches > 0 at its severity", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[log a]\n"
      "path = /var/log/syslog\n"
      "match = error\n"
      "[log b]\n"
      "path = /var/log/syslog\n"
      "match = panic\n"
      "severity = critical\n"
      "[log c]\n"
      "path = /var/log/syslog\n"
      "match = x\n"
      "critical = lines > 1000\n");
  REQUIRE(r.errors.empty());
  const auto& c = r.config->checks;
  REQUIRE(c[0].rules.size() == 1);
  CHECK(c[0].rules[0].text == "matches > 0");
  CHECK(c[0].rules[0].severity == CheckState::kWarning);
  REQUIRE(c[1].rules.size() == 1);
  CHECK(c[1].rules[0].severity == CheckState::kCritical);
  REQUIRE(c[2].rules.size() == 1);
  CHECK(c[2].rules[0].text == "lines > 1000");
}

TEST_CASE("plugin keys are type-checked against the plugin's table", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[log a]\n"
      "path = /var/log/syslog\n"
      "match = error\n"
      "from = middle\n"
      "max_line = huge\n"
      "window = 1m\n"
      "window = 2m\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":4: from: invalid value 'middle' (use end, beginning)",
                 d.main() + ":5: max_line: invalid size 'huge' (use e.g. 512, 64KiB, 10MiB)",
                 d.main() + ":7: duplicate key 'window' (first at line 6; only warning, "
                            "critical and keys marked repeatable may repeat)"});
}

TEST_CASE("check overrides of [incidents] keys start from [incidents]", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu]\n"
      "problem_count = 2\n"
      "escalate_after = 5m, 1m\n"
      "[incidents]\n"
      "problem_count = 7\n"
      "flap_window = 1h\n"
      "flap_changes = 0\n");
  CHECK(messages(r) ==
        Messages{d.main() +
                     ":3: escalate_after: durations must be greater than 0 and strictly increasing",
                 d.main() + ":7: flap_changes: must be at least 1"});

  LoadResult ok = d.load(
      "[cpu]\n"
      "problem_count = 2\n"
      "[incidents]\n"
      "problem_count = 7\n"
      "flap_window = 1h\n");
  REQUIRE(ok.errors.empty());
  CHECK(ok.config->incidents.problem_count == 7);
  CHECK(ok.config->checks[0].incidents.problem_count == 2);
  CHECK(ok.config->checks[0].incidents.flap_window == std::chrono::hours(1));
}

TEST_CASE("correlate_window defaults to 2m and a check may set its own", "[config]") {
  ConfigDir d;
  LoadResult ok = d.load(
      "[cpu]\n"
      "correlate_window = 0\n"
      "[memory]\n"
      "[load]\n"
      "correlate_window = 30s\n");
  REQUIRE(ok.errors.empty());
  CHECK(ok.config->incidents.correlate_window == std::chrono::minutes(2));
  CHECK(ok.config->checks[0].incidents.correlate_window == Duration(0));
  CHECK(ok.config->checks[1].incidents.correlate_window == std::chrono::minutes(2));
  CHECK(ok.config->checks[2].incidents.correlate_window == std::chrono::seconds(30));
}

TEST_CASE("depends_on names other checks of the configuration", "[config]") {
  ConfigDir d;
  LoadResult ok = d.load(
      "[cpu]\n"
      "depends_on = memory, load\n"
      "[memory]\n"
      "[load]\n");
  REQUIRE(ok.errors.empty());
  CHECK(ok.config->checks[0].depends_on == std::vector<std::string>{"memory", "load"});
  CHECK(ok.config->checks[1].depends_on.empty());

  LoadResult bad = d.load(
      "[cpu]\n"
      "depends_on = memory, nosuch\n"
      "[memory]\n"
      "depends_on = memory\n"
      "[load]\n"
      "depends_on = ,\n");
  CHECK(messages(bad) == Messages{d.main() + ":2: depends_on: no check named 'nosuch'",
                                  d.main() + ":4: depends_on: a check cannot depend on itself",
                                  d.main() + ":6: depends_on: expected at least one check name"});
}

TEST_CASE("tags must be key=value pairs", "[config]") {
  ConfigDir d;
  LoadResult r = d.load("[agent]\ntags = env=prod, oops\n[cpu]\ntags = =x\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":2: tags: invalid tag 'oops' (use key=value,key=value)",
                 d.main() + ":4: tags: tag '=x' has no key (use key=value,key=value)"});
}

TEST_CASE("status_listen takes unix paths, host and port, or off", "[config]") {
  ConfigDir d;
  for (const char* ok : {"off", "unix:/run/vigil.sock", "127.0.0.1:9100", "0.0.0.0:9100",
                         "[::]:9100", "localhost:0"}) {
    LoadResult r = d.load(std::string("[agent]\nstatus_listen = ") + ok + "\n");
    INFO(ok);
    REQUIRE(r.errors.empty());
    CHECK(r.config->agent.status_listen == ok);
  }
  for (const char* bad : {"unix:", "9100", "host:99999", "[::1:80", "http://x:1"}) {
    LoadResult r = d.load(std::string("[agent]\nstatus_listen = ") + bad + "\n");
    INFO(bad);
    CHECK(messages(r) == Messages{d.main() + ":2: status_listen: invalid address '" + bad +
                                  "' (use unix:PATH, HOST:PORT or off)"});
  }
}

TEST_CASE("output urls, names and defaults", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[output]\n"
      "url = file:/var/lib/vigil/records.jsonl\n"
      "min_severity = unknown\n"
      "[output pd]\n"
      "url = https://events.pagerduty.com/v2/enqueue\n"
      "format = pagerduty\n"
      "routing_key = abc\n"
      "[output am]\n"
      "url = http://am:9093/api/v2/alerts\n"
      "format = alertmanager\n");
  REQUIRE(r.errors.empty());
  const auto& o = r.config->outputs;
  REQUIRE(o.size() == 3);
  CHECK(o[0].name == "default");
  CHECK(o[0].min_severity == CheckState::kWarning);
  CHECK(o[0].send_event);
  CHECK(o[0].spool_max == 256ull << 20);
  CHECK(o[0].line == 1);
  CHECK(o[1].format == OutputFormat::kPagerDuty);
  CHECK(o[1].routing_key == "abc");
  CHECK(o[2].format == OutputFormat::kAlertmanager);

  LoadResult dup = d.load("[output]\nurl = stdout\n[output default]\nurl = stdout\n");
  CHECK(messages(dup) ==
        Messages{d.main() + ":3: duplicate output name 'default' (first at " + d.main() + ":1)"});
}

TEST_CASE("output values are checked", "[config]") {
  ConfigDir d;
  std::string empty_token = d.write("empty-token", " \n");
  LoadResult r = d.load(
      "[output a]\n"
      "url = https://x\n"
      "token_file = " +
      d.dir.file("no-token") +
      "\n"
      "ca_file = " +
      d.dir.file("no-ca.pem") +
      "\n"
      "header = no colon here\n"
      "proxy = socks5://p:1080\n"
      "batch_max = 0\n"
      "spool_max = 4095\n"
      "send = event, alarm\n"
      "[output b]\n"
      "url = https://y\n"
      "token_file = " +
      empty_token +
      "\n"
      "[output c]\n"
      "url = https://y\n"
      "format = pagerduty\n"
      "[output d]\n"
      "url = https://y\n"
      "token = t\n"
      "token_file = " +
      empty_token + "\n");
  CHECK(messages(r) ==
        Messages{d.main() + ":3: token_file: cannot open " + d.dir.file("no-token") +
                     ": No such file or directory",
                 d.main() + ":4: ca_file: cannot read '" + d.dir.file("no-ca.pem") +
                     "': No such file or directory",
                 d.main() + ":5: header: expected 'Name: value' (no ':' found; the value is not "
                            "shown)",
                 d.main() + ":6: proxy: invalid proxy 'socks5://p:1080' (use http://HOST:PORT)",
                 d.main() + ":7: batch_max: must be at least 1",
                 d.main() + ":8: spool_max: must be at least 4KiB",
                 d.main() + ":9: send: unknown record kind 'alarm' (use event, incident, problem, "
                            "heartbeat)",
                 d.main() + ":12: token_file: '" + empty_token + "' is empty",
                 d.main() + ":13: missing routing_key in [output c] (format pagerduty needs it)",
                 d.main() + ":19: token and token_file exclude each other"});
}

TEST_CASE("errors never show a secret", "[config]") {
  ConfigDir d;
  d.env["PROXY_PASSWORD"] = "sk-proxy-pass";
  LoadResult r = d.load(
      "[output a]\n"
      "url = htps://user:sk-url-pass@host/x?api_key=sk-url-query\n"
      "header = X-Api-Key sk-header-value\n"
      "header = X Api: sk-header-value2\n"
      "proxy = http://user:${PROXY_PASSWORD}@proxy:3128\n"
      "token = sk-tok${en\n"
      "routing_key = sk-rk${1:-sk-default}\n"
      "[output b]\n"
      "url = sk-pasted-into-url\n");
  std::vector<std::string> got = messages(r);
  CHECK(got == Messages{d.main() + ":2: url: invalid url 'htps://host/x?…' (use https://…, "
                                   "http://…, stdout or file:PATH)",
                        d.main() + ":3: header: expected 'Name: value' (no ':' found; the value "
                                   "is not shown)",
                        d.main() + ":4: header: invalid header name before ':' (letters, digits "
                                   "and !#$%&'*+-.^_`|~; the value is not shown)",
                        d.main() + ":5: proxy: credentials in the proxy URL are not supported "
                                   "(use http://HOST:PORT; the value is not shown)",
                        d.main() + ":6: token: unterminated '${' (write '$$' for a literal '$')",
                        d.main() + ":7: routing_key: invalid variable name in '${…}' (letters, "
                                   "digits and _, not starting with a digit; write '$$' for a "
                                   "literal '$')",
                        d.main() + ":9: url: invalid url (use https://…, http://…, stdout or "
                                   "file:PATH)"});
  for (const std::string& m : got) {
    CHECK(m.find("sk-") == std::string::npos);
  }
}

TEST_CASE("token, CA and key files must be regular files, never waited on", "[config]") {
  ConfigDir d;
  std::string fifo = d.dir.file("fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  LoadResult r = d.load("[output a]\nurl = https://x\ntoken_file = " + fifo +
                        "\nca_file = " + fifo + "\nkey_file = " + d.dir.path() + "\n");
  CHECK(messages(r) ==
        Messages{
            d.main() + ":3: token_file: " + fifo + " is a FIFO, not a regular file",
            d.main() + ":4: ca_file: cannot read '" + fifo + "': it is a FIFO, not a regular file",
            d.main() + ":5: key_file: cannot read '" + d.dir.path() +
                "': it is a folder, not a regular file"});
}

TEST_CASE("an HTTP output needs a libcurl that works", "[config]") {
  ConfigDir d;
  LoadOptions o = d.options();
  int asked = 0;
  o.http_unavailable = [&asked] {
    ++asked;
    return std::string("libcurl 7.81.0 is too old: vigil needs 7.85.0 or later for HTTP outputs");
  };
  std::string main = d.write("vigil.ini",
                             "[output file]\nurl = file:/tmp/x\n"
                             "[output a]\nformat = vigil\nurl = https://a\n"
                             "[output b]\nurl = http://b\n");
  LoadResult r = load_config(main, o);
  CHECK(messages(r) == Messages{main + ":5: url: libcurl 7.81.0 is too old: vigil needs 7.85.0 or "
                                       "later for HTTP outputs"});
  CHECK(asked == 1);

  // Without an HTTP output libcurl does not matter (and is not loaded).
  asked = 0;
  r = load_config(d.write("vigil.ini", "[output]\nurl = stdout\n"), o);
  CHECK(r.errors.empty());
  r = load_config(d.write("vigil.ini", "[cpu]\n"), o);
  CHECK(r.errors.empty());
  CHECK(asked == 0);

  // Commands that send nothing may skip the check.
  o.check_http_library = false;
  r = load_config(main, o);
  CHECK(r.errors.empty());
  CHECK(asked == 0);
}

TEST_CASE("a disabled check is not handed to its plugin", "[config]") {
  ConfigDir d;
  LoadOptions o = d.options();
  o.validate_plugins = true;
  LoadResult r = load_config(d.write("vigil.ini", "[cpu]\nenabled = false\n"), o);
  REQUIRE(r.errors.empty());
  CHECK_FALSE(r.config->checks[0].enabled);
}

TEST_CASE("inline comments need white space before the semicolon", "[config]") {
  ConfigDir d;
  LoadResult r = d.load(
      "[cpu] ; the host\n"
      "runbook = see a;b ; not this\n");
  REQUIRE(r.errors.empty());
  CHECK(r.config->checks[0].runbook == "see a;b");
}

}  // namespace vigil
