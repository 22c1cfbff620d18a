#include "plugins/exec/exec.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/plugin/services.h"
#include "agent/plugin/spawner.h"
#include "agent/util/strings.h"
#include "plugins/exec/command_line.h"
#include "plugins/exec/perfdata.h"

namespace vigil {
namespace {

constexpr std::span<const std::string_view> kMetrics = {};

// Commands run with this environment and nothing else: the agent's own
// environment (tokens, proxies) is none of their business, and a fixed PATH
// and locale make their output the same as in a test.
constexpr std::string_view kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kOutputCap = 64 * 1024;
// The message becomes an event's text: one line, not a page.
constexpr size_t kMessageMax = 1024;

std::vector<std::string> command_env() { return {"PATH=" + std::string(kPath), "LANG=C"}; }

std::string format_seconds(Duration d) {
  std::string s = std::to_string(to_seconds(d));
  while (!s.empty() && s.back() == '0') {
    s.pop_back();
  }
  if (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  return s + "s";
}

// What a check makes of one run: an exit code with its message and perfdata,
// or a failed collection (could not start, killed at its timeout, killed by
// someone else).
Result<Sample> to_sample(const SpawnResult& r, const std::string& command, Duration timeout) {
  if (!r.error.empty()) {
    return make_error(r.error);
  }
  if (r.timed_out) {
    return make_error(command + " timed out after " + format_seconds(timeout) + " and was killed");
  }
  if (!r.exit_code) {
    int sig = r.signal.value_or(0);
    return make_error(command + " was killed by signal " + std::to_string(sig) + " (" +
                      strsignal(sig) + ")");
  }
  PluginOutput parsed = parse_plugin_output(r.output);
  Sample s;
  s.state_code = *r.exit_code;
  if (!parsed.message.empty()) {
    s.message = sanitize_utf8(parsed.message, kMessageMax);
  }
  s.set("status", static_cast<double>(*r.exit_code));
  for (auto& [name, value] : parsed.metrics) {
    s.set(std::move(name), value);
  }
  return s;
}

class ExecCollector final : public Collector {
 public:
  explicit ExecCollector(std::vector<std::string> argv) : argv_(std::move(argv)) {}

  void collect(const CollectContext& ctx, CollectDone done) override {
    Spawner* spawner = ctx.services != nullptr ? ctx.services->spawner : nullptr;
    if (spawner == nullptr) {
      done(make_error("exec checks need the agent's spawner"));
      return;
    }
    SpawnRequest request;
    request.argv = argv_;
    request.env = command_env();
    request.timeout = ctx.timeout;
    request.output_cap = kOutputCap;
    // The callback holds no pointer to this collector: a reload may destroy
    // the check while its command still runs.
    spawner->run(request, [done = std::move(done), command = argv_[0], timeout = ctx.timeout](
                              SpawnResult r) { done(to_sample(r, command, timeout)); });
  }

 private:
  std::vector<std::string> argv_;
};

// The command, split into words; the line, for check-config's errors. The
// split stays pure: whether the program exists is for check() (check-config)
// and for each run to find out.
struct ExecOptions {
  std::vector<std::string> argv;
  Entry command;
};

Status set_command(ExecOptions& o, const Entry& e) {
  auto words = split_command(e.value);
  if (!words.ok()) {
    return make_error(words.error());
  }
  const std::string& program = words.value()[0];
  if (program[0] != '/' && program.find('/') != std::string::npos) {
    return make_error("command '" + program +
                      "' must be an absolute path or a name found in PATH (" + std::string(kPath) +
                      ")");
  }
  o.argv = std::move(words.value());
  o.command = e;
  return {};
}

const KeyTable<ExecOptions> kKeys = {
    key<ExecOptions>("command", ValueType::kString, set_command)
        .required()
        .help("the command and its arguments, split into words as a shell would, without "
              "expansion (below)"),
};

Result<std::unique_ptr<Collector>> create(const ExecOptions& options, const PluginConfig& config) {
  (void)config;
  return std::unique_ptr<Collector>(new ExecCollector(options.argv));
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::vector<Error> check(const ExecOptions& options, const PluginConfig& config) {
  (void)config;
  const Entry& e = options.command;
  const std::string& program = options.argv[0];
  if (program[0] == '/') {
    if (!is_executable_file(program)) {
      return {make_error_at(e.file, e.line, "command '" + program + "' is not an executable file")};
    }
    return {};
  }
  for (const std::string& dir : split_list(kPath, ':')) {
    if (is_executable_file(dir + "/" + program)) {
      return {};
    }
  }
  return {make_error_at(
      e.file, e.line,
      "command '" + program + "' is not an executable found in PATH (" + std::string(kPath) + ")")};
}

}  // namespace

const Plugin kExecPlugin = {
    .name = "exec",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .create = create_with<kKeys, create>,
    .check = check_with<kKeys, check>,
    // Monitoring plugins expect about this long, whatever the check's interval.
    .default_timeout = "10s",
};

}  // namespace vigil
