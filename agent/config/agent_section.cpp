#include <unistd.h>

#include "agent/config/address.h"
#include "agent/config/loader.h"
#include "agent/config/section_keys.h"
#include "agent/config/sections.h"
#include "agent/config/tags.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

std::string system_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
    return "localhost";
  }
  return buf;
}

Status set_hostname(AgentConfig& agent, const Entry& e) {
  agent.hostname = std::string(trim(e.value));
  if (agent.hostname.empty()) {
    return make_error("hostname: empty (leave it out for the system's)");
  }
  return {};
}

Status set_tags(AgentConfig& agent, const Entry& e) {
  Result<Tags> tags = parse_tags(e.value);
  if (!tags.ok()) {
    return make_error("tags: " + tags.error());
  }
  agent.tags = std::move(tags.value());
  return {};
}

Status set_status_listen(AgentConfig& agent, const Entry& e) {
  std::string listen(trim(e.value));
  if (!is_listen_address(listen)) {
    return make_error("status_listen: invalid address '" + listen +
                      "' (use unix:PATH, HOST:PORT or off)");
  }
  agent.status_listen = std::move(listen);
  return {};
}

}  // namespace

const KeyTable<AgentConfig>& agent_key_table() {
  static const KeyTable<AgentConfig> kTable = {
      key<AgentConfig>("hostname", ValueType::kString, set_hostname)
          .default_text("system hostname")
          .help("`host` field of every record"),
      key("interval", &AgentConfig::interval)
          .default_value("10s")
          .greater_than("0")
          .help("default check interval"),
      key("state_dir", &AgentConfig::state_dir)
          .path()
          .default_value("/var/lib/vigil")
          .help("spool, incident state, log offsets, status socket"),
      // Read by the loader before any section is built: it decides which files to read.
      key<AgentConfig>("include", ValueType::kString)
          .default_value("conf.d/*.ini")
          .help("glob of more INI files, relative to the main file's folder; main file only"),
      key<AgentConfig>("tags", ValueType::kList, set_tags)
          .help("`key=value,key=value` added to every record"),
      key("log_level", &AgentConfig::log_level)
          .choices("debug,info,warning,error")
          .default_value("info")
          .help("least severe message logged"),
      key<AgentConfig>("status_listen", ValueType::kString, set_status_listen)
          .default_text("unix:<state_dir>/vigil.sock")
          .help("`unix:PATH`, `HOST:PORT` (`0.0.0.0:PORT`, `[::]:PORT`) or `off`; a unix PATH "
                "that exists is replaced only if it is a socket nobody listens on inside "
                "`state_dir`"),
      key("heartbeat", &AgentConfig::heartbeat)
          .default_value("60s")
          .help("interval of `heartbeat` records; `0` = off"),
      key("procfs", &AgentConfig::procfs)
          .path()
          .default_value("/proc")
          .help("the host's /proc (`/host/proc` in a container)"),
      key("sysfs", &AgentConfig::sysfs)
          .path()
          .default_value("/sys")
          .help("the host's /sys (`/host/sys` in a container)"),
      key("shutdown_timeout", &AgentConfig::shutdown_timeout)
          .default_value("5s")
          .help("how long SIGTERM may spend delivering before exit"),
  };
  return kTable;
}

void build_agent(const ParsedSection* parsed, AgentConfig* agent, ConfigErrors* errors) {
  const KeyTable<AgentConfig>& table = agent_key_table();
  (void)table.apply_defaults(agent);
  if (parsed != nullptr) {
    fill_section(*parsed, {table.target(agent)}, errors);
  }
  if (agent->hostname.empty()) {
    agent->hostname = system_hostname();
  }
  if (agent->status_listen.empty()) {
    agent->status_listen = "unix:" + agent->state_dir + "/vigil.sock";
  }
}

}  // namespace vigil
