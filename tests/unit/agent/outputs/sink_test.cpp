#include "agent/outputs/sink.h"

#include <catch2/catch.hpp>
#include <string>

namespace vigil {

using Kind = SendOutcome::Kind;

TEST_CASE("classify_http acknowledges every 2xx", "[sink]") {
  long status = GENERATE(200L, 201L, 202L, 204L, 299L);
  SendOutcome o = classify_http(status, "", "ok", std::nullopt, "");
  CHECK(o.kind == Kind::kAck);
  CHECK(o.status == status);
}

TEST_CASE("classify_http retries a 3xx without following it and names its Location", "[sink]") {
  long status = GENERATE(301L, 302L, 307L, 308L);
  SendOutcome o = classify_http(status, "", "", std::nullopt, "https://elsewhere/in");
  CHECK(o.kind == Kind::kRetry);
  CHECK(o.error.find(std::to_string(status)) != std::string::npos);
  CHECK(o.error.find("https://elsewhere/in") != std::string::npos);
  SendOutcome none = classify_http(302, "", "", std::nullopt, "");
  CHECK(none.kind == Kind::kRetry);
  CHECK_FALSE(none.error.empty());
}

TEST_CASE("classify_http retries 408, 429 and 5xx, keeping Retry-After", "[sink]") {
  long status = GENERATE(408L, 429L, 500L, 502L, 503L, 504L, 599L);
  SendOutcome o = classify_http(status, "", "busy", Duration(1500), "");
  CHECK(o.kind == Kind::kRetry);
  CHECK(o.status == status);
  CHECK(o.error == "HTTP " + std::to_string(status));
  REQUIRE(o.retry_after.has_value());
  CHECK(o.retry_after->count() == 1500);
  CHECK(o.reply == "busy");
}

TEST_CASE("classify_http splits on 413", "[sink]") {
  SendOutcome o = classify_http(413, "", "too big", std::nullopt, "");
  CHECK(o.kind == Kind::kSplit);
  CHECK(o.status == 413);
}

TEST_CASE("classify_http moves other 4xx to dead letters with the reply", "[sink]") {
  long status = GENERATE(400L, 401L, 403L, 404L, 409L, 422L, 499L);
  SendOutcome o = classify_http(status, "", "{\"error\":\"bad\"}", std::nullopt, "");
  CHECK(o.kind == Kind::kDeadLetter);
  CHECK(o.status == status);
  CHECK(o.reply == "{\"error\":\"bad\"}");
  CHECK(o.error == "HTTP " + std::to_string(status));
}

TEST_CASE("classify_http retries a transport failure with the transport's own text", "[sink]") {
  SendOutcome o =
      classify_http(0, "SSL certificate problem: unable to get local issuer", "", std::nullopt, "");
  CHECK(o.kind == Kind::kRetry);
  CHECK(o.status == 0);
  CHECK(o.error == "SSL certificate problem: unable to get local issuer");
  SendOutcome silent = classify_http(0, "", "", std::nullopt, "");
  CHECK(silent.kind == Kind::kRetry);
  CHECK_FALSE(silent.error.empty());
}

}  // namespace vigil
