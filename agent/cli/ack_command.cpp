#include <cstdio>
#include <nlohmann/json.hpp>

#include "agent/cli/agent_client.h"
#include "agent/cli/commands.h"
#include "agent/util/strings.h"

// `vigil ack INCIDENT_ID|CHECK [--comment TEXT]` (docs/CLI.md): asks the agent to
// acknowledge an open incident; the agent names the user who connected.
namespace vigil::cli {

int ack_command(const CommandArgs& args) {
  std::string target;
  std::string comment;
  for (size_t i = 0; i < args.rest.size(); ++i) {
    std::string v;
    switch (take_value(args.rest, &i, "--comment", &v)) {
      case Take::kTaken:
        comment = v;
        continue;
      case Take::kMissing:
        return usage_error("--comment needs a value");
      case Take::kOther:
        break;
    }
    if (starts_with(args.rest[i], "--") || !target.empty()) {
      return usage_error("unknown argument '" + args.rest[i] + "'");
    }
    target = args.rest[i];
  }
  if (target.empty()) {
    return usage_error("ack needs an INCIDENT_ID or a CHECK");
  }
  if (!plain_id(target)) {
    return refuse("no open incident has the id or check '" + target + "'");
  }
  nlohmann::json body = nlohmann::json::object();
  if (!comment.empty()) {
    body["comment"] = comment;
  }
  std::optional<AgentReply> reply =
      ask_or_refuse(args.config, "POST", "/incidents/" + target + "/ack",
                    body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!reply) {
    return 1;
  }
  nlohmann::json rec = nlohmann::json::parse(reply->body, nullptr, false);
  if (rec.is_discarded() || !rec.is_object()) {
    return refuse("the agent's reply is not an incident record");
  }
  printf("acknowledged incident %s of %s as %s\n", rec.value("incident_id", "?").c_str(),
         rec.value("check", "?").c_str(), rec.value("acknowledged_by", "?").c_str());
  return 0;
}

}  // namespace vigil::cli
