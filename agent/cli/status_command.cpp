#include <cstdio>
#include <nlohmann/json.hpp>

#include "agent/cli/agent_client.h"
#include "agent/cli/commands.h"
#include "agent/cli/status_table.h"

namespace vigil::cli {

int status_command(const std::string& config_path, bool json) {
  std::optional<std::string> address = agent_address(config_path);
  if (!address) {
    return 1;
  }
  Result<AgentReply> reply = ask_agent(*address, "GET", "/status");
  if (!reply.ok()) {
    fprintf(stderr, "vigil: the agent cannot be reached: %s\n", reply.error().c_str());
    return 1;
  }
  if (reply->status != 200) {
    fprintf(stderr, "vigil: the agent gave no status (HTTP %d)\n", reply->status);
    return 1;
  }
  const std::string& text = reply->body;
  if (json) {
    printf("%s\n", text.c_str());
    return 0;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    fprintf(stderr, "vigil: the agent's status is not JSON\n");
    return 1;
  }
  fputs(render_status_table(j).c_str(), stdout);
  return 0;
}

}  // namespace vigil::cli
