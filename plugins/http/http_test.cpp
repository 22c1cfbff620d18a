#include "plugins/http/http.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tests/support/plugin_test.h"
#include "tests/support/probe_test.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

using nlohmann::json;
using test::free_port;
using test::KeyLines;
using test::metric;
using test::Probed;
using test::Receiver;
using test::ReceiverOptions;
using test::TempDir;
using test::TestLoop;

// One collection of a http check with these keys, on a real loop and prober.
Probed probe(const KeyLines& keys, Duration timeout = Duration(5000)) {
  return test::probe_once(kHttpPlugin, keys, timeout);
}

ReceiverOptions tls_receiver() {
  ReceiverOptions o;
  o.tls_cert = test::test_certs() + "/server.crt";
  o.tls_key = test::test_certs() + "/server.key";
  return o;
}

// An error of create(), as check-config prints it.
std::string create_error(const KeyLines& keys) {
  return test::create_error(kHttpPlugin, keys, 10, "web");
}

}  // namespace

TEST_CASE("expect_status takes codes and ranges", "[http]") {
  Result<StatusRanges> r = parse_expect_status("200-399, 418");
  REQUIRE(r.ok());
  CHECK(r.value() == StatusRanges{{200, 399}, {418, 418}});
  CHECK(status_expected(r.value(), 200));
  CHECK(status_expected(r.value(), 399));
  CHECK(status_expected(r.value(), 418));
  CHECK_FALSE(status_expected(r.value(), 400));
  CHECK_FALSE(status_expected(r.value(), 0));
  for (const char* bad : {"", "abc", "99", "600", "300-200", "200-", "-300", "2xx"}) {
    INFO(bad);
    CHECK_FALSE(parse_expect_status(bad).ok());
  }
}

TEST_CASE("a bad url, expect_status or header is an error at its line", "[http]") {
  CHECK(create_error({{"url", "ftp://example.com/"}}) ==
        "probes.ini:11: url: must start with http:// or https://");
  CHECK(create_error({{"url", "https://:443/"}}) == "probes.ini:11: url: has no host");
  CHECK(create_error({{"url", "http://x/"}, {"expect_status", "200-abc"}}) ==
        "probes.ini:12: expect_status: '200-abc' is not a status code (100-599) or a range of "
        "them (LOW-HIGH)");
  // The header's value is never shown: it may be a credential.
  CHECK(create_error({{"url", "http://x/"}, {"header", "no colon s3cret"}}) ==
        "probes.ini:12: header: expected 'Name: value'");
  CHECK(create_error({{"url", "http://x/"}, {"match", "(open"}})
            .rfind("probes.ini:12: match: missing closing parenthesis", 0) == 0);
  CHECK(create_error({{"method", "GET"}}) ==
        "probes.ini:10: missing required key 'url' in [http web]");
}

TEST_CASE("http: a 200 is up, with its status line and timings", "[http]") {
  TempDir dir;
  Receiver rx(dir.path());
  REQUIRE(rx.ok());
  Probed p = probe({{"url", rx.url("/health")}, {"header", "X-Probe: yes"}});
  const Sample& s = p.sample();
  CHECK(metric(s, "up") == 1);
  CHECK(metric(s, "status_code") == 200);
  CHECK(metric(s, "duration_seconds") > 0);
  CHECK(metric(s, "connect_seconds") > 0);
  CHECK(metric(s, "first_byte_seconds") >= metric(s, "connect_seconds"));
  CHECK(s.find("tls_seconds") == nullptr);
  CHECK(s.find("cert_expiry_days") == nullptr);
  CHECK(s.find("body_match") == nullptr);
  CHECK(s.message == std::string("HTTP/1.1 200 OK"));
  auto seen = rx.requests();
  REQUIRE(seen.size() == 1);
  auto req = json::parse(seen[0]);
  CHECK(req["method"] == "GET");
  CHECK(req["path"] == "/health");
  CHECK(req["headers"]["X-Probe"] == "yes");
}

TEST_CASE("http: an unexpected status is up 0, a measurement and not an error", "[http]") {
  TempDir dir;
  Receiver rx(dir.path());
  REQUIRE(rx.ok());
  rx.set_script(R"({"status": 503})");
  Probed p = probe({{"url", rx.url("/down")}});
  CHECK(metric(p.sample(), "up") == 0);
  CHECK(metric(p.sample(), "status_code") == 503);
  CHECK(p.sample().message == std::string("HTTP/1.1 503 Service Unavailable"));
  // Unless expected.
  Probed q = probe({{"url", rx.url("/down")}, {"expect_status", "500-503"}, {"method", "HEAD"}});
  CHECK(metric(q.sample(), "up") == 1);
  CHECK(json::parse(rx.requests().back())["method"] == "HEAD");
}

TEST_CASE("http: match reads the body", "[http]") {
  TempDir dir;
  Receiver rx(dir.path());
  REQUIRE(rx.ok());
  rx.set_script(R"({"status": 200, "body": "{\"status\": \"ok\"}"})");
  Probed yes = probe({{"url", rx.url("/")}, {"match", R"("status":\s*"ok")"}});
  CHECK(metric(yes.sample(), "up") == 1);
  CHECK(metric(yes.sample(), "body_match") == 1);
  Probed no = probe({{"url", rx.url("/")}, {"match", "degraded"}});
  CHECK(metric(no.sample(), "up") == 0);
  CHECK(metric(no.sample(), "body_match") == 0);
  CHECK(no.sample().message == std::string("HTTP/1.1 200 OK (the body does not match)"));
}

TEST_CASE("http: a closed port is up 0 with Connection refused", "[http]") {
  int port = free_port();
  Probed p = probe({{"url", "http://127.0.0.1:" + std::to_string(port) + "/"}});
  CHECK(metric(p.sample(), "up") == 0);
  CHECK(metric(p.sample(), "status_code") == 0);
  CHECK(p.sample().find("connect_seconds") == nullptr);
  REQUIRE(p.sample().message);
  CHECK_THAT(*p.sample().message, Catch::Contains("Connection refused"));
}

TEST_CASE("https: the certificate's expiry, a wrong CA, and tls_verify = false", "[http]") {
  TempDir dir;
  Receiver rx(dir.path(), tls_receiver());
  REQUIRE(rx.ok());
  Probed good = probe({{"url", rx.url("/")}, {"ca_file", test::test_certs() + "/ca.crt"}});
  const Sample& s = good.sample();
  CHECK(metric(s, "up") == 1);
  CHECK(metric(s, "tls_seconds") >= metric(s, "connect_seconds"));
  // make_certs.sh's certificates are valid 3650 days from their making.
  CHECK(metric(s, "cert_expiry_days") == Approx(3650).margin(1));

  Probed wrong = probe({{"url", rx.url("/")}, {"ca_file", test::test_certs() + "/other-ca.crt"}});
  CHECK(metric(wrong.sample(), "up") == 0);
  REQUIRE(wrong.sample().message);
  CHECK_THAT(*wrong.sample().message, Catch::Contains("certificate", Catch::CaseSensitive::No));

  Probed blind = probe({{"url", rx.url("/")},
                        {"ca_file", test::test_certs() + "/other-ca.crt"},
                        {"tls_verify", "false"}});
  CHECK(metric(blind.sample(), "up") == 1);
  CHECK(metric(blind.sample(), "cert_expiry_days") == Approx(3650).margin(1));
}

TEST_CASE("http: a slow server is up 0 at the timeout, before the check's", "[http]") {
  TempDir dir;
  Receiver rx(dir.path());
  REQUIRE(rx.ok());
  rx.set_script(R"({"status": 200, "delay": 3})");
  Probed p = probe({{"url", rx.url("/slow")}}, Duration(1000));
  CHECK(metric(p.sample(), "up") == 0);
  REQUIRE(p.sample().message);
  CHECK_THAT(*p.sample().message, Catch::Contains("timed out", Catch::CaseSensitive::No));
  CHECK(p.seconds < 1.0);
  CHECK(p.seconds > 0.8);
}

TEST_CASE("http: without the prober the collection fails", "[http]") {
  auto collector = test::make_collector(kHttpPlugin, {{"url", "http://127.0.0.1:1/"}});
  CollectContext ctx;
  std::optional<Result<Sample>> got;
  collector->collect(ctx, [&](Result<Sample> r) { got = std::move(r); });
  REQUIRE(got);
  CHECK_FALSE(got->ok());
}

}  // namespace vigil
