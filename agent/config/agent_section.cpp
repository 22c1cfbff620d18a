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

}  // namespace

void build_agent(const ParsedSection* parsed, AgentConfig* agent, ConfigErrors* errors) {
  std::string listen;
  if (parsed != nullptr) {
    const Section& s = parsed->section;
    check_section_keys(*parsed, {agent_keys()}, errors);
    if (const Entry* e = s.find("hostname")) {
      agent->hostname = std::string(trim(e->value));
      if (agent->hostname.empty()) {
        add_error(errors, e->file, e->line, "hostname: empty (leave it out for the system's)");
      }
    }
    agent->interval = duration_value(s, "interval").value_or(agent->interval);
    agent->state_dir = string_value(s, "state_dir").value_or(agent->state_dir);
    agent->include = string_value(s, "include").value_or(agent->include);
    if (const Entry* e = s.find("tags")) {
      Result<Tags> tags = parse_tags(e->value);
      if (tags.ok()) {
        agent->tags = tags.value();
      } else {
        add_error(errors, e->file, e->line, "tags: " + tags.error());
      }
    }
    agent->log_level = string_value(s, "log_level").value_or(agent->log_level);
    if (const Entry* e = s.find("status_listen")) {
      listen = std::string(trim(e->value));
      if (!is_listen_address(listen)) {
        add_error(
            errors, e->file, e->line,
            "status_listen: invalid address '" + listen + "' (use unix:PATH, HOST:PORT or off)");
      }
    }
    agent->heartbeat = duration_value(s, "heartbeat").value_or(agent->heartbeat);
    agent->procfs = string_value(s, "procfs").value_or(agent->procfs);
    agent->sysfs = string_value(s, "sysfs").value_or(agent->sysfs);
    agent->shutdown_timeout =
        duration_value(s, "shutdown_timeout").value_or(agent->shutdown_timeout);
  }
  if (agent->hostname.empty()) {
    agent->hostname = system_hostname();
  }
  agent->status_listen = listen.empty() ? "unix:" + agent->state_dir + "/vigil.sock" : listen;
}

}  // namespace vigil
