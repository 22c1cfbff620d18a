#include "plugins/tcp/tcp.h"

#include <catch2/catch.hpp>
#include <filesystem>
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

using test::free_port;
using test::KeyLines;
using test::metric;
using test::Probed;
using test::Receiver;
using test::ReceiverOptions;
using test::TempDir;
using test::TestLoop;

// One collection of a tcp check with these keys, on a real loop and prober.
Probed probe(const KeyLines& keys, Duration timeout = Duration(5000)) {
  return test::probe_once(kTcpPlugin, keys, timeout);
}

// An error of create(), as check-config prints it.
std::string create_error(const KeyLines& keys) {
  return test::create_error(kTcpPlugin, keys, 20, "db");
}

}  // namespace

TEST_CASE("tcp addresses are HOST:PORT or [IPv6]:PORT", "[tcp]") {
  auto a = parse_address("db.example.com:5432");
  REQUIRE(a.ok());
  CHECK(a->host == "db.example.com");
  CHECK(a->port == 5432);
  auto v6 = parse_address("[::1]:25");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 25);
  CHECK(parse_address("db.example.com").error() == "'db.example.com' has no port (HOST:PORT)");
  for (const char* bad : {":80", "h:", "h:0", "h:65536", "h:x", "::1:80", "[::1]", "[::1]80"}) {
    INFO(bad);
    CHECK_FALSE(parse_address(bad).ok());
  }
}

TEST_CASE("tcp send takes escapes", "[tcp]") {
  CHECK(unescape_send(R"(PING\r\n)").value() == "PING\r\n");
  CHECK(unescape_send(R"(a\\b\t)").value() == "a\\b\t");
  CHECK_FALSE(unescape_send(R"(a\x)").ok());
  CHECK_FALSE(unescape_send("a\\").ok());
}

TEST_CASE("a port-less address and a bad expect are errors at their line", "[tcp]") {
  CHECK(create_error({{"address", "localhost"}}) ==
        "probes.ini:21: address: 'localhost' has no port (HOST:PORT)");
  CHECK(create_error({{"address", "localhost:1"}, {"send", "a\\qb"}}) ==
        "probes.ini:22: send: unknown escape \\q (\\n \\r \\t \\\\)");
  CHECK(create_error({{"address", "localhost:1"}, {"expect", "(x"}})
            .rfind("probes.ini:22: expect: missing closing parenthesis", 0) == 0);
}

TEST_CASE("tcp: an open port is up, a closed one is up 0 with the reason", "[tcp]") {
  TempDir dir;
  Receiver rx(dir.path());
  REQUIRE(rx.ok());
  Probed open = probe({{"address", "127.0.0.1:" + std::to_string(rx.port())}});
  CHECK(metric(open.sample(), "up") == 1);
  CHECK(metric(open.sample(), "connect_seconds") > 0);
  CHECK(open.sample().find("cert_expiry_days") == nullptr);
  // Plain TCP never loads libcurl.
  CHECK_FALSE(open.http_started);

  Probed closed = probe({{"address", "127.0.0.1:" + std::to_string(free_port())}});
  CHECK(metric(closed.sample(), "up") == 0);
  CHECK(closed.sample().find("connect_seconds") == nullptr);
  REQUIRE(closed.sample().message);
  CHECK_THAT(*closed.sample().message, Catch::Contains("Connection refused"));
}

TEST_CASE("tcp: send and expect talk to the service", "[tcp]") {
  TempDir dir;
  Receiver rx(dir.path());
  REQUIRE(rx.ok());
  std::string address = "localhost:" + std::to_string(rx.port());
  std::string send = R"(GET /tcp HTTP/1.0\r\n\r\n)";
  Probed good = probe({{"address", address}, {"send", send}, {"expect", R"(^HTTP/1\.\d 200)"}});
  CHECK(metric(good.sample(), "up") == 1);
  CHECK(good.sample().message == std::string("HTTP/1.1 200 OK"));
  Probed bad = probe({{"address", address}, {"send", send}, {"expect", "^220 "}});
  CHECK(metric(bad.sample(), "up") == 0);
  CHECK(bad.sample().message == std::string("the first line does not match: HTTP/1.1 200 OK"));
}

TEST_CASE("tcp: a silent service is up 0 at the timeout", "[tcp]") {
  TempDir dir;
  Receiver rx(dir.path());
  REQUIRE(rx.ok());
  // The receiver says nothing until it has a request.
  Probed p = probe({{"address", "127.0.0.1:" + std::to_string(rx.port())}, {"expect", "."}},
                   Duration(500));
  CHECK(metric(p.sample(), "up") == 0);
  CHECK(metric(p.sample(), "connect_seconds") > 0);
  CHECK(p.sample().message == std::string("timed out after 450 ms waiting for a line"));
}

TEST_CASE("tcp with tls reports the certificate's expiry", "[tcp]") {
  TempDir dir;
  ReceiverOptions o;
  o.tls_cert = test::test_certs() + "/server.crt";
  o.tls_key = test::test_certs() + "/server.key";
  Receiver rx(dir.path(), o);
  REQUIRE(rx.ok());
  std::string address = "localhost:" + std::to_string(rx.port());
  Probed p =
      probe({{"address", address}, {"tls", "true"}, {"ca_file", test::test_certs() + "/ca.crt"}});
  INFO(p.sample().message.value_or(""));
  CHECK(metric(p.sample(), "up") == 1);
  CHECK(metric(p.sample(), "connect_seconds") > 0);
  CHECK(metric(p.sample(), "cert_expiry_days") == Approx(3650).margin(1));
  CHECK(p.http_started);

  Probed wrong = probe(
      {{"address", address}, {"tls", "true"}, {"ca_file", test::test_certs() + "/other-ca.crt"}});
  CHECK(metric(wrong.sample(), "up") == 0);
  CHECK(wrong.sample().find("cert_expiry_days") == nullptr);
  REQUIRE(wrong.sample().message);
  CHECK_THAT(*wrong.sample().message, Catch::Contains("certificate", Catch::CaseSensitive::No));

  // send and expect over the TLS connection.
  std::string send = R"(GET /tls HTTP/1.0\r\n\r\n)";
  Probed talk = probe({{"address", address},
                       {"tls", "true"},
                       {"ca_file", test::test_certs() + "/ca.crt"},
                       {"send", send},
                       {"expect", R"(^HTTP/1\.\d 200)"}});
  INFO(talk.sample().message.value_or(""));
  CHECK(metric(talk.sample(), "up") == 1);
  CHECK(talk.sample().message == std::string("HTTP/1.1 200 OK"));
  CHECK(metric(talk.sample(), "cert_expiry_days") == Approx(3650).margin(1));
  CHECK(rx.requests().size() == 1);

  // A TLS server that says nothing: up 0 at the timeout, the handshake measured.
  Probed silent = probe({{"address", address},
                         {"tls", "true"},
                         {"ca_file", test::test_certs() + "/ca.crt"},
                         {"expect", "."}},
                        Duration(700));
  CHECK(metric(silent.sample(), "up") == 0);
  CHECK(metric(silent.sample(), "cert_expiry_days") == Approx(3650).margin(1));
  CHECK(silent.sample().message == std::string("timed out after 630 ms waiting for a line"));
}

}  // namespace vigil

namespace vigil {
namespace {

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("tcp probes leave no connection open behind them", "[tcp]") {
  TempDir dir;
  ReceiverOptions o;
  o.tls_cert = test::test_certs() + "/server.crt";
  o.tls_key = test::test_certs() + "/server.key";
  Receiver rx(dir.path(), o);
  REQUIRE(rx.ok());
  TestLoop loop;
  {
    NetProber prober(loop.get());
    auto run = [&](bool tls, bool talk) {
      ProbeRequest req;
      req.kind = ProbeRequest::Kind::kTcp;
      req.host = "localhost";
      req.port = rx.port();
      req.tls = tls;
      req.ca_file = test::test_certs() + "/ca.crt";
      if (talk) {
        req.send = "GET / HTTP/1.0\r\n\r\n";
        req.read_line = true;
      }
      req.timeout = Duration(5000);
      std::optional<ProbeResult> got;
      prober.probe(req, [&](ProbeResult r) { got = std::move(r); });
      REQUIRE(loop.run_until([&] { return got.has_value(); }));
      CHECK(got->error.empty());
      CHECK(got->failure.empty());
    };
    run(true, true);  // loads libcurl and makes the client's handles
    size_t before = open_fds();
    for (int i = 0; i < 3; ++i) {
      run(true, true);
      run(true, false);
    }
    CHECK(open_fds() == before);
    CHECK(prober.in_flight() == 0);
  }
  CHECK(loop.close() == 0);
}

}  // namespace vigil
