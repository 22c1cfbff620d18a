#include "agent/outputs/http_sink.h"

#include "agent/outputs/http_client.h"
#include "agent/util/gzip.h"

namespace vigil {

HttpSink::HttpSink(HttpClient& client, const OutputConfig& config, AgentInfo agent)
    : client_(client), config_(config), agent_(std::move(agent)) {}

HttpSink::~HttpSink() { abort(); }

size_t HttpSink::max_batch(size_t configured) const {
  return config_.format == OutputFormat::kPagerDuty ? 1 : configured;
}

void HttpSink::send(const std::vector<SpoolEntry>& batch, std::function<void(SendOutcome)> done) {
  std::string body;
  switch (config_.format) {
    case OutputFormat::kVigil:
      body = vigil_body(agent_, batch);
      break;
    case OutputFormat::kPagerDuty:
      body = pagerduty_body(config_.routing_key, batch.empty() ? "{}" : batch.front().payload);
      break;
    case OutputFormat::kAlertmanager: {
      std::vector<std::string> records;
      records.reserve(batch.size());
      for (const SpoolEntry& e : batch) {
        records.push_back(e.payload);
      }
      body = alertmanager_body(records, std::chrono::system_clock::now());
      break;
    }
  }
  post(std::move(body), std::move(done));
}

bool HttpSink::send_state(const std::vector<std::string>& open_incidents,
                          std::function<void(SendOutcome)> done) {
  if (config_.format != OutputFormat::kAlertmanager) {
    return false;
  }
  post(alertmanager_body(open_incidents, std::chrono::system_clock::now()), std::move(done));
  return true;
}

void HttpSink::post(std::string body, std::function<void(SendOutcome)> done) {
  HttpRequest req;
  req.url = config_.url;
  req.timeout = config_.timeout;
  req.ca_file = config_.ca_file;
  req.cert_file = config_.cert_file;
  req.key_file = config_.key_file;
  req.tls_verify = config_.tls_verify;
  req.proxy = config_.proxy;
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("User-Agent", std::string("vigil/") + VIGIL_VERSION);
  if (!config_.token.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + config_.token);
  }
  for (const auto& h : config_.headers) {
    req.headers.push_back(h);
  }
  if (config_.gzip) {
    req.headers.emplace_back("Content-Encoding", "gzip");
    req.body = gzip(body);
  } else {
    req.body = std::move(body);
  }
  in_flight_ = client_.post(
      std::move(req), [this, alive = liveness_.guard(), done = std::move(done)](HttpResponse resp) {
        if (!alive.valid()) {
          return;
        }
        in_flight_ = 0;
        done(classify_http(resp.status, resp.error, resp.body, resp.retry_after, resp.location));
      });
}

void HttpSink::abort() {
  if (in_flight_ != 0) {
    client_.cancel(in_flight_);
    in_flight_ = 0;
  }
}

}  // namespace vigil
