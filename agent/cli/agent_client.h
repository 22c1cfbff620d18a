#pragma once

#include <optional>
#include <string>

#include "agent/util/result.h"

namespace vigil::cli {

// The running agent's reply to one request over its status_listen address.
struct AgentReply {
  int status = 0;
  std::string body;
};

// The agent's address from the configuration at `config_path`; nullopt after
// printing why on stderr (an invalid configuration, status_listen = off).
std::optional<std::string> agent_address(const std::string& config_path);

// One HTTP/1.1 request to `unix:PATH` or `HOST:PORT` (0.0.0.0 and :: are asked on
// the loopback address), waiting at most 10 seconds for the whole reply. The
// error says why the agent could not be reached.
Result<AgentReply> ask_agent(const std::string& address, const std::string& method,
                             const std::string& path, const std::string& body = "");

// The first line of a refusal's body, for a one-line message.
std::string first_line(const std::string& body);

// Prints `vigil: MESSAGE` on stderr; returns 1, the exit code of a refusal.
int refuse(const std::string& message);

// Asks the agent that the configuration names; a 200 reply, or nullopt after
// printing one `vigil:` line on stderr (the configuration, an agent that cannot
// be reached, or its refusal: the first line of its reply).
std::optional<AgentReply> ask_or_refuse(const std::string& config_path, const std::string& method,
                                        const std::string& path, const std::string& body = "");

// Whether an id or check name can go into a request path as it is:
// [A-Za-z0-9_.:-]+ (incident and silence ids, check names, config:NAME).
bool plain_id(const std::string& s);

}  // namespace vigil::cli
