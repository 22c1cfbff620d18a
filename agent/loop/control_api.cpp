#include "agent/loop/control_api.h"

#include <nlohmann/json.hpp>

#include "agent/loop/silence_keeper.h"
#include "agent/silences/silence_json.h"

namespace vigil {
namespace {

HttpAnswer text(int status, const std::string& line) {
  return HttpAnswer{status, "text/plain; charset=utf-8", line + "\n"};
}

HttpAnswer json_answer(std::string body) {
  return HttpAnswer{200, "application/json", std::move(body) + "\n"};
}

// "/silences/ID" -> "ID"; "/incidents/ID/ack" -> "ID".
std::string middle(const std::string& path, size_t prefix, size_t suffix) {
  if (path.size() < prefix + suffix) {
    return "";
  }
  return path.substr(prefix, path.size() - prefix - suffix);
}

// The ack's optional body: {"comment": "..."}.
Result<std::string> ack_comment(const std::string& body) {
  if (body.empty()) {
    return std::string();
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("the body is not a JSON object");
  }
  auto it = j.find("comment");
  if (it == j.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return make_error("comment must be a string");
  }
  std::string comment = it->get<std::string>();
  if (comment.size() > kMaxCommentBytes) {
    return make_error("the comment is longer than " + std::to_string(kMaxCommentBytes) + " bytes");
  }
  return comment;
}

}  // namespace

ControlApi::ControlApi(uv_loop_s* loop, SilenceKeeper& silences, Ack ack)
    : silences_(silences), ack_(std::move(ack)), names_(loop) {}

void ControlApi::handle(const StatusRequest& req, const Peer& peer, Responder respond) {
  const std::string& p = req.path;
  bool read = req.method == "GET" || req.method == "HEAD";
  if (p == "/silences") {
    if (read) {
      respond(json_answer(silences_json(silences_.list(), silences_.now())));
    } else if (req.method == "POST") {
      add_silence(req, peer, std::move(respond));
    } else {
      respond(text(405, "/silences takes GET or POST"));
    }
    return;
  }
  if (p.rfind("/silences/", 0) == 0) {
    std::string id = middle(p, 10, 0);
    if (req.method != "DELETE") {
      respond(text(405, "/silences/ID takes DELETE"));
    } else if (id.empty() || id.find('/') != std::string::npos) {
      respond(text(404, "no silence has the id '" + id + "'"));
    } else {
      expire_silence(id, std::move(respond));
    }
    return;
  }
  // /incidents/ID/ack, as the status server routes it here.
  std::string target = middle(p, 11, 4);
  if (req.method != "POST") {
    respond(text(405, "/incidents/ID/ack takes POST"));
  } else if (target.empty() || target.find('/') != std::string::npos) {
    respond(text(404, "no open incident has the id or check '" + target + "'"));
  } else {
    ack(target, req, peer, std::move(respond));
  }
}

void ControlApi::with_author(const Peer& peer, std::function<void(const std::string&)> then) {
  if (!peer.known) {
    then("unknown peer");
    return;
  }
  Liveness::Token token = liveness_.guard();
  names_.lookup(peer.uid, [token, then = std::move(then)](const std::string& name) {
    if (token.valid()) {
      then(name);
    }
  });
}

void ControlApi::add_silence(const StatusRequest& req, const Peer& peer, Responder respond) {
  if (silences_.full()) {
    respond(text(409, "too many silences: " + std::to_string(SilenceSet::kMaxLive) +
                          " are pending or active already; expire some first"));
    return;
  }
  Result<Silence> parsed = parse_silence_request(req.body);
  if (!parsed.ok()) {
    respond(text(400, parsed.error()));
    return;
  }
  auto silence = std::make_shared<Silence>(std::move(parsed).value());
  with_author(peer, [this, silence, respond = std::move(respond)](const std::string& name) {
    silence->peer = name;
    if (silence->created_by.empty()) {
      silence->created_by = name;
    }
    Result<std::string> id = silences_.add(std::move(*silence));
    if (!id.ok()) {
      respond(text(400, id.error()));
      return;
    }
    respond(json_answer(nlohmann::json({{"silenceID", id.value()}}).dump()));
  });
}

void ControlApi::expire_silence(const std::string& id, Responder respond) {
  switch (silences_.expire(id)) {
    case SilenceSet::Expiry::kExpired:
      respond(json_answer(nlohmann::json({{"silenceID", id}, {"state", "expired"}}).dump()));
      return;
    case SilenceSet::Expiry::kNotFound:
      respond(text(404, "no silence has the id '" + id + "'"));
      return;
    case SilenceSet::Expiry::kAlreadyExpired:
      respond(text(409, "silence " + id + " has expired already"));
      return;
    case SilenceSet::Expiry::kWindow:
      respond(text(409, "silence " + id +
                            " is a [silence] window of the configuration: change the "
                            "configuration and reload"));
      return;
  }
}

void ControlApi::ack(const std::string& target, const StatusRequest& req, const Peer& peer,
                     Responder respond) {
  Result<std::string> comment = ack_comment(req.body);
  if (!comment.ok()) {
    respond(text(400, comment.error()));
    return;
  }
  with_author(peer, [this, target, comment = comment.value(),
                     respond = std::move(respond)](const std::string& name) {
    IncidentManager::AckOutcome out = ack_(target, name, comment);
    switch (out.kind) {
      case IncidentManager::AckOutcome::Kind::kAcknowledged:
        respond(json_answer(out.records.empty() ? "{}" : out.records.front().json));
        return;
      case IncidentManager::AckOutcome::Kind::kNotFound:
        respond(text(404, out.message));
        return;
      case IncidentManager::AckOutcome::Kind::kAlreadyAcknowledged:
        respond(text(409, out.message));
        return;
    }
  });
}

}  // namespace vigil
