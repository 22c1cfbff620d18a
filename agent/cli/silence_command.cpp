#include <cstdio>
#include <nlohmann/json.hpp>

#include "agent/cli/agent_client.h"
#include "agent/cli/commands.h"
#include "agent/cli/silence_table.h"
#include "agent/silences/silence_json.h"
#include "agent/util/strings.h"

// `vigil silence add | list | expire` (docs/CLI.md): the agent decides, over its
// status socket; this side turns arguments into a request and the reply into
// lines. Every refusal, of the arguments' values here or of the agent, is one
// `vigil: MESSAGE` line on stderr and exit code 1.
namespace vigil::cli {
namespace {

struct AddArgs {
  std::vector<std::string> matchers;
  std::optional<std::string> for_text, until, starts, comment, author;
  bool expire_on_resolve = false;
};

// Reads `add`'s arguments; returns 0 when fine, else the exit code.
int read_add(const std::vector<std::string>& rest, AddArgs* a) {
  const std::pair<const char*, std::optional<std::string>*> options[] = {{"--for", &a->for_text},
                                                                         {"--until", &a->until},
                                                                         {"--starts", &a->starts},
                                                                         {"--comment", &a->comment},
                                                                         {"--author", &a->author}};
  for (size_t i = 1; i < rest.size(); ++i) {
    Take t = Take::kOther;
    for (const auto& [option, target] : options) {
      std::string v;
      t = take_value(rest, &i, option, &v);
      if (t == Take::kMissing) {
        return usage_error(std::string(option) + " needs a value");
      }
      if (t == Take::kTaken) {
        *target = v;
        break;
      }
    }
    if (t == Take::kTaken) {
      continue;
    }
    if (rest[i] == "--expire-on-resolve") {
      a->expire_on_resolve = true;
    } else if (starts_with(rest[i], "--")) {
      return usage_error("unknown argument '" + rest[i] + "'");
    } else {
      a->matchers.push_back(rest[i]);
    }
  }
  return 0;
}

int add(const CommandArgs& args) {
  AddArgs a;
  if (int code = read_add(args.rest, &a); code != 0) {
    return code;
  }
  Silence s;
  for (const std::string& text : a.matchers) {
    Result<Matcher> m = parse_matcher(text);
    if (!m.ok()) {
      return refuse(m.error());
    }
    s.matchers.push_back(std::move(m).value());
  }
  s.starts_at = std::chrono::system_clock::now();
  if (a.starts && !parse_rfc3339(*a.starts, &s.starts_at)) {
    return refuse("--starts: '" + *a.starts + "' is not an RFC 3339 time (2026-11-24T02:00:00Z)");
  }
  if (a.for_text && a.until) {
    return refuse("give --for or --until, not both");
  }
  if (a.for_text) {
    Result<Duration> d = parse_duration(*a.for_text);
    if (!d.ok()) {
      return refuse("--for: " + d.error());
    }
    // From the start, or from now if that is later: the agent moves a start in
    // the past to now.
    s.ends_at = std::max(s.starts_at, std::chrono::system_clock::now()) + d.value();
  } else if (a.until) {
    if (!parse_rfc3339(*a.until, &s.ends_at)) {
      return refuse("--until: '" + *a.until + "' is not an RFC 3339 time (2026-11-24T04:00:00Z)");
    }
  } else {
    return refuse("a silence needs an end: --for DURATION or --until TIME");
  }
  s.comment = a.comment.value_or("");
  s.created_by = a.author.value_or("");  // empty: the agent names the user who connected
  s.expire_on_resolve = a.expire_on_resolve;
  std::optional<AgentReply> reply =
      ask_or_refuse(args.config, "POST", "/silences", silence_request_json(s));
  if (!reply) {
    return 1;
  }
  nlohmann::json j = nlohmann::json::parse(reply->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("silenceID") ||
      !j["silenceID"].is_string()) {
    return refuse("the agent's reply has no silenceID");
  }
  printf("%s\n", j["silenceID"].get<std::string>().c_str());
  return 0;
}

int list(const CommandArgs& args) {
  bool json = false;
  bool all = false;
  for (size_t i = 1; i < args.rest.size(); ++i) {
    if (args.rest[i] == "--json") {
      json = true;
    } else if (args.rest[i] == "--all") {
      all = true;
    } else {
      return usage_error("unknown argument '" + args.rest[i] + "'");
    }
  }
  std::optional<AgentReply> reply = ask_or_refuse(args.config, "GET", "/silences");
  if (!reply) {
    return 1;
  }
  nlohmann::json silences = nlohmann::json::parse(reply->body, nullptr, false);
  if (silences.is_discarded() || !silences.is_array()) {
    return refuse("the agent's list of silences is not a JSON array");
  }
  nlohmann::json shown = nlohmann::json::array();
  for (const nlohmann::json& s : silences) {
    bool expired = s.is_object() && s.contains("status") && s["status"].is_object() &&
                   s["status"].value("state", "") == "expired";
    if (all || !expired) {
      shown.push_back(s);
    }
  }
  if (json) {
    printf("%s\n", shown.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    fputs(render_silence_table(shown).c_str(), stdout);
  }
  return 0;
}

int expire(const CommandArgs& args) {
  if (args.rest.size() != 2) {
    return usage_error(args.rest.size() < 2 ? "silence expire needs an ID"
                                            : "unknown argument '" + args.rest[2] + "'");
  }
  const std::string& id = args.rest[1];
  if (!plain_id(id)) {
    return refuse("no silence has the id '" + id + "'");
  }
  if (!ask_or_refuse(args.config, "DELETE", "/silences/" + id)) {
    return 1;
  }
  printf("%s expired\n", id.c_str());
  return 0;
}

}  // namespace

int silence_command(const CommandArgs& args) {
  std::string sub = args.rest.empty() ? "" : args.rest[0];
  if (sub == "add") {
    return add(args);
  }
  if (sub == "list") {
    return list(args);
  }
  if (sub == "expire") {
    return expire(args);
  }
  return usage_error(sub.empty() ? "silence needs add, list or expire"
                                 : "unknown silence command '" + sub + "'");
}

}  // namespace vigil::cli
