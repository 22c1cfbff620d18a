#pragma once

#include <functional>
#include <string>

#include "agent/incidents/incident_manager.h"
#include "agent/loop/liveness.h"
#include "agent/loop/peer_names.h"
#include "agent/status/http_request.h"

struct uv_loop_s;

namespace vigil {

class SilenceKeeper;

// The control endpoints of the status socket (docs/STATUS.md): silences and
// acks. The status server hands them over only from a unix socket, whose mode
// decides who may connect; the peer's uid (SO_PEERCRED), named off the loop,
// is the author of what it does.
//
//   GET    /silences            every silence, Alertmanager's fields and state
//   POST   /silences            a new silence; {"silenceID": ID}
//   DELETE /silences/ID         expires it
//   POST   /incidents/ID/ack    acknowledges the open incident with that
//                               incident_id, or of that check; the ack record
//
// Refusals are one line of text with 400 (a bad request, a silence that breaks
// a rule), 404 (no such silence or open incident), 405, or 409 (already expired
// or acknowledged, a window of the configuration, too many silences).
class ControlApi {
 public:
  using Ack = std::function<IncidentManager::AckOutcome(
      const std::string& incident_or_check, const std::string& author, const std::string& comment)>;

  ControlApi(uv_loop_s* loop, SilenceKeeper& silences, Ack ack);
  ControlApi(const ControlApi&) = delete;
  ControlApi& operator=(const ControlApi&) = delete;

  void handle(const StatusRequest& request, const Peer& peer, Responder respond);

 private:
  void add_silence(const StatusRequest& request, const Peer& peer, Responder respond);
  void expire_silence(const std::string& id, Responder respond);
  void ack(const std::string& target, const StatusRequest& request, const Peer& peer,
           Responder respond);
  // Calls `then` with the peer's user name once known (or a placeholder when the
  // socket gave no credentials).
  void with_author(const Peer& peer, std::function<void(const std::string&)> then);

  SilenceKeeper& silences_;
  Ack ack_;
  PeerNames names_;
  Liveness liveness_;  // last member: gone first, so late callbacks find it stale
};

}  // namespace vigil
