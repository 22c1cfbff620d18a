#include "agent/outputs/http_client.h"

#include <stdlib.h>
#include <uv.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/util/gzip.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

using nlohmann::json;
using test::Receiver;
using test::ReceiverOptions;
using test::TempDir;

using test::TestLoop;

// Closes the client, lets the close callbacks run, then closes the loop.
int close_all(TestLoop& loop, HttpClient* client) {
  if (client != nullptr) {
    client->close();
  }
  return loop.close();
}

std::optional<HttpResponse> post_and_wait(TestLoop& loop, HttpClient& client, HttpRequest req) {
  std::optional<HttpResponse> got;
  int calls = 0;
  client.post(std::move(req), [&](HttpResponse r) {
    ++calls;
    got = std::move(r);
  });
  loop.run_until([&] { return calls > 0; });
  REQUIRE(calls <= 1);
  return got;
}

HttpRequest json_request(const std::string& url, const std::string& body = R"({"a":1})") {
  HttpRequest req;
  req.url = url;
  req.body = body;
  req.headers = {{"Content-Type", "application/json"}};
  req.timeout = Duration(10000);
  return req;
}

std::vector<json> logged(const Receiver& receiver) {
  std::vector<json> out;
  for (const auto& line : receiver.requests()) {
    out.push_back(json::parse(line));
  }
  return out;
}

const std::string& certs() { return test::test_certs(); }

ReceiverOptions scripted(const std::string& script) {
  ReceiverOptions o;
  o.script = script;
  return o;
}

ReceiverOptions tls_options(const std::string& leaf = "server") {
  ReceiverOptions o;
  o.tls_cert = certs() + "/" + leaf + ".crt";
  o.tls_key = certs() + "/" + leaf + ".key";
  return o;
}

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = getenv(name);
    if (old != nullptr) {
      old_ = old;
    }
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

TEST_CASE("libcurl older than 7.85.0 is refused with its version", "[http]") {
  CHECK(libcurl_version_problem(0x075100, "7.81.0") ==
        "libcurl 7.81.0 is too old: vigil needs 7.85.0 or later for HTTP outputs");
  // Without its text, the number says it.
  CHECK(libcurl_version_problem(0x075402, "") ==
        "libcurl 7.84.2 is too old: vigil needs 7.85.0 or later for HTTP outputs");
  CHECK(libcurl_version_problem(0x075500, "7.85.0").empty());
  CHECK(libcurl_version_problem(0x075801, "7.88.1").empty());
  CHECK(libcurl_version_problem(0x080b00, "8.11.0").empty());
}

TEST_CASE("the libcurl of this host is recent enough", "[http]") {
  CHECK(http_unavailable_reason().empty());
}

TEST_CASE("A plain HTTP POST delivers its body and headers and reports 200", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/ingest"), R"({"records":[{"id":"x1"}]})");
  req.headers.emplace_back("Authorization", "Bearer s3cret");
  req.headers.emplace_back("X-Custom", "yes");
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->error.empty());
  CHECK(r->body == "{}");
  CHECK_FALSE(r->retry_after);

  auto seen = logged(receiver);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]["method"] == "POST");
  CHECK(seen[0]["path"] == "/ingest");
  CHECK(seen[0]["headers"]["Authorization"] == "Bearer s3cret");
  CHECK(seen[0]["headers"]["X-Custom"] == "yes");
  CHECK(seen[0]["headers"]["Content-Type"] == "application/json");
  CHECK_FALSE(seen[0]["headers"].contains("Expect"));
  CHECK(seen[0]["body"] == json::parse(R"({"records":[{"id":"x1"}]})"));
  CHECK(client.in_flight() == 0);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("HTTPS with the test CA succeeds", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), tls_options());
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/tls"));
  req.ca_file = certs() + "/ca.crt";
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  INFO(r->error);
  CHECK(r->status == 200);
  auto seen = logged(receiver);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]["body"] == json::parse(R"({"a":1})"));
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("HTTPS signed by an unknown CA fails with curl's message and status 0", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), tls_options());
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/tls"));
  req.ca_file = certs() + "/other-ca.crt";
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  CHECK(r->status == 0);
  CHECK_THAT(r->error, Catch::Contains("certificate", Catch::CaseSensitive::No));
  CHECK(receiver.requests().empty());
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("HTTPS to a certificate for another host name fails", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), tls_options("wrong"));
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/tls"));
  req.ca_file = certs() + "/ca.crt";
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  CHECK(r->status == 0);
  CHECK_THAT(r->error, Catch::Contains("localhost"));
  CHECK(receiver.requests().empty());
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("tls_verify false accepts an unknown CA and a wrong host name", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), tls_options("wrong"));
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/tls"));
  req.ca_file = certs() + "/other-ca.crt";
  req.tls_verify = false;
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  INFO(r->error);
  CHECK(r->status == 200);
  CHECK(receiver.requests().size() == 1);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A client certificate is presented to a server that requires one", "[http]") {
  TempDir dir;
  ReceiverOptions o = tls_options();
  o.tls_client_ca = certs() + "/ca.crt";
  Receiver receiver(dir.path(), o);
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/mtls"));
  req.ca_file = certs() + "/ca.crt";
  SECTION("with the certificate the request passes") {
    req.cert_file = certs() + "/client.crt";
    req.key_file = certs() + "/client.key";
    auto r = post_and_wait(loop, client, req);
    REQUIRE(r);
    INFO(r->error);
    CHECK(r->status == 200);
    CHECK(receiver.requests().size() == 1);
  }
  SECTION("without it the server refuses the connection") {
    auto r = post_and_wait(loop, client, req);
    REQUIRE(r);
    CHECK(r->status == 0);
    CHECK_FALSE(r->error.empty());
    CHECK(receiver.requests().empty());
  }
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Error statuses are reported with the reply body", "[http]") {
  TempDir dir;
  int status = GENERATE(400, 413, 500, 503);
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  receiver.set_script(json{{"status", status}, {"body", "no way"}}.dump());
  TestLoop loop;
  HttpClient client(loop.get());

  auto r = post_and_wait(loop, client, json_request(receiver.url("/x")));
  REQUIRE(r);
  CHECK(r->status == status);
  CHECK(r->error.empty());
  CHECK(r->body == "no way");
  CHECK(logged(receiver).at(0)["status"] == status);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Retry-After in seconds is parsed into milliseconds", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), scripted(R"({"status": 429, "retry_after": "2"})"));
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  auto r = post_and_wait(loop, client, json_request(receiver.url("/x")));
  REQUIRE(r);
  CHECK(r->status == 429);
  REQUIRE(r->retry_after);
  CHECK(r->retry_after->count() == 2000);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Retry-After as an HTTP date is parsed relative to now", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  std::string date = http_date(std::time(nullptr) + 60);
  receiver.set_script(json{{"status", 503}, {"retry_after", date}}.dump());
  TestLoop loop;
  HttpClient client(loop.get());

  auto r = post_and_wait(loop, client, json_request(receiver.url("/x")));
  REQUIRE(r);
  CHECK(r->status == 503);
  REQUIRE(r->retry_after);
  INFO(date);
  CHECK(r->retry_after->count() > 50000);
  CHECK(r->retry_after->count() <= 60000);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A redirect is not followed and its Location is reported", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  std::string target = receiver.url("/elsewhere");
  receiver.set_script(json{{"status", 301}, {"headers", {{"Location", target}}}}.dump());
  TestLoop loop;
  HttpClient client(loop.get());

  auto r = post_and_wait(loop, client, json_request(receiver.url("/x")));
  REQUIRE(r);
  CHECK(r->status == 301);
  CHECK(r->location == target);
  auto seen = logged(receiver);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]["path"] == "/x");
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A request that outlives its timeout fails with curl's message", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), scripted(R"({"status": 200, "delay": 5})"));
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/slow"));
  req.timeout = Duration(300);
  auto start = std::chrono::steady_clock::now();
  auto r = post_and_wait(loop, client, req);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(r);
  CHECK(r->status == 0);
  CHECK_THAT(r->error, Catch::Contains("timed out", Catch::CaseSensitive::No));
  CHECK(took >= std::chrono::milliseconds(250));
  CHECK(took < std::chrono::seconds(4));
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A refused connection is a transport error", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  std::string url = receiver.url("/x");
  receiver.stop();
  TestLoop loop;
  HttpClient client(loop.get());

  auto r = post_and_wait(loop, client, json_request(url));
  REQUIRE(r);
  CHECK(r->status == 0);
  CHECK_FALSE(r->error.empty());
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Only the first 4 KiB of a reply body are kept", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  std::string big;
  for (int i = 0; big.size() < 10000; ++i) {
    big += std::to_string(i) + ",";
  }
  receiver.set_script(json{{"status", 400}, {"body", big}}.dump());
  TestLoop loop;
  HttpClient client(loop.get());

  auto r = post_and_wait(loop, client, json_request(receiver.url("/x")));
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(r->body.size() == kMaxResponseBodyBytes);
  CHECK(r->body == big.substr(0, kMaxResponseBodyBytes));
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A gzip-encoded body arrives decoded at the receiver", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  json records = json::array();
  for (int i = 0; i < 200; ++i) {
    records.push_back({{"id", "r" + std::to_string(i)}, {"kind", "event"}});
  }
  std::string plain = records.dump();
  HttpRequest req = json_request(receiver.url("/gz"), gzip(plain));
  req.headers.emplace_back("Content-Encoding", "gzip");
  CHECK(req.body.size() < plain.size());
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  CHECK(r->status == 200);
  auto seen = logged(receiver);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]["headers"]["Content-Encoding"] == "gzip");
  CHECK(seen[0]["body"] == records);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Proxy variables in the environment are ignored without a proxy setting", "[http]") {
  TempDir dir;
  bool tls = GENERATE(false, true);
  Receiver receiver(dir.path(), tls ? tls_options() : ReceiverOptions{});
  REQUIRE(receiver.ok());
  // A proxy that refuses every connection: using it would fail the request.
  ScopedEnv p1("http_proxy", "http://127.0.0.1:1");
  ScopedEnv p2("https_proxy", "http://127.0.0.1:1");
  ScopedEnv p3("HTTPS_PROXY", "http://127.0.0.1:1");
  ScopedEnv p4("ALL_PROXY", "http://127.0.0.1:1");
  ScopedEnv p5("all_proxy", "http://127.0.0.1:1");
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request(receiver.url("/direct"));
  req.ca_file = certs() + "/ca.crt";
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  INFO(r->error);
  CHECK(r->status == 200);
  CHECK(receiver.requests().size() == 1);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A configured proxy carries plain HTTP requests", "[http]") {
  TempDir dir;
  Receiver proxy(dir.path());
  REQUIRE(proxy.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  HttpRequest req = json_request("http://vigil-target.invalid:8080/in");
  req.proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto r = post_and_wait(loop, client, req);
  REQUIRE(r);
  INFO(r->error);
  CHECK(r->status == 200);
  auto seen = logged(proxy);
  REQUIRE(seen.size() == 1);
  // A proxy gets the absolute URL: this request went through it.
  CHECK(seen[0]["path"] == "http://vigil-target.invalid:8080/in");
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Requests in sequence reuse one connection", "[http]") {
  TempDir dir;
  bool tls = GENERATE(false, true);
  Receiver receiver(dir.path(), tls ? tls_options() : ReceiverOptions{});
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  for (int i = 0; i < 3; ++i) {
    HttpRequest req = json_request(receiver.url("/seq"), json{{"n", i}}.dump());
    req.ca_file = certs() + "/ca.crt";
    auto r = post_and_wait(loop, client, req);
    REQUIRE(r);
    INFO(r->error);
    REQUIRE(r->status == 200);
  }
  auto seen = logged(receiver);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0]["peer_port"] == seen[1]["peer_port"]);
  CHECK(seen[1]["peer_port"] == seen[2]["peer_port"]);
  CHECK(seen[2]["body"]["n"] == 2);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Concurrent requests all complete, each exactly once", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), scripted(R"({"status": 202, "delay": 0.2})"));
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  constexpr int kCount = 6;
  std::vector<int> calls(kCount, 0);
  std::vector<long> statuses(kCount, 0);
  for (int i = 0; i < kCount; ++i) {
    client.post(json_request(receiver.url("/c/" + std::to_string(i))), [&, i](HttpResponse r) {
      ++calls[i];
      statuses[i] = r.status;
    });
  }
  CHECK(client.in_flight() == kCount);
  auto all_done = [&] {
    for (int c : calls) {
      if (c == 0) {
        return false;
      }
    }
    return true;
  };
  REQUIRE(loop.run_until(all_done));
  for (int i = 0; i < kCount; ++i) {
    CHECK(calls[i] == 1);
    CHECK(statuses[i] == 202);
  }
  CHECK(receiver.requests().size() == kCount);
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A cancelled request never calls back and others proceed", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), scripted(R"([{"status": 200, "delay": 5}, {"status": 200}])"));
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  int cancelled_calls = 0;
  uint64_t id =
      client.post(json_request(receiver.url("/slow")), [&](HttpResponse) { ++cancelled_calls; });
  CHECK(id != 0);
  // Wait until the receiver holds the request, so the cancel aborts a live transfer.
  REQUIRE(loop.run_until([&] { return receiver.requests().size() == 1; }));
  client.cancel(id);
  CHECK(client.in_flight() == 0);
  client.cancel(id);  // twice is harmless

  auto r = post_and_wait(loop, client, json_request(receiver.url("/fast")));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(cancelled_calls == 0);
  CHECK(close_all(loop, &client) == 0);
  CHECK(cancelled_calls == 0);
}

TEST_CASE("Destroying the client aborts requests in flight without callbacks", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path(), scripted(R"({"status": 200, "delay": 5})"));
  REQUIRE(receiver.ok());
  TestLoop loop;
  int calls = 0;
  {
    HttpClient client(loop.get());
    client.post(json_request(receiver.url("/slow")), [&](HttpResponse) { ++calls; });
    REQUIRE(loop.run_until([&] { return receiver.requests().size() == 1; }));
  }
  CHECK(calls == 0);
  CHECK(close_all(loop, nullptr) == 0);
  CHECK(calls == 0);
}

TEST_CASE("A callback may post the next request", "[http]") {
  TempDir dir;
  Receiver receiver(dir.path());
  REQUIRE(receiver.ok());
  TestLoop loop;
  HttpClient client(loop.get());

  std::vector<long> statuses;
  std::function<void(HttpResponse)> on_done = [&](HttpResponse r) {
    statuses.push_back(r.status);
    if (statuses.size() < 3) {
      client.post(json_request(receiver.url("/chain")), on_done);
    }
  };
  client.post(json_request(receiver.url("/chain")), on_done);
  REQUIRE(loop.run_until([&] { return statuses.size() == 3; }));
  CHECK(statuses == std::vector<long>{200, 200, 200});
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("A callback may destroy the client while others are in flight", "[http]") {
  TempDir dir;
  TempDir slow_dir;
  Receiver receiver(dir.path());
  Receiver slow(slow_dir.path(), scripted(R"({"status": 200, "delay": 5})"));
  REQUIRE(receiver.ok());
  REQUIRE(slow.ok());
  TestLoop loop;
  auto client = std::make_unique<HttpClient>(loop.get());

  int fast_calls = 0;
  int slow_calls = 0;
  client->post(json_request(receiver.url("/fast")), [&](HttpResponse r) {
    ++fast_calls;
    CHECK(r.status == 200);
    // The other request is still waiting on the slow receiver.
    client.reset();
  });
  client->post(json_request(slow.url("/slow")), [&](HttpResponse) { ++slow_calls; });
  REQUIRE(loop.run_until([&] { return fast_calls == 1; }));
  CHECK(client == nullptr);
  CHECK(close_all(loop, nullptr) == 0);
  CHECK(fast_calls == 1);
  CHECK(slow_calls == 0);
}

TEST_CASE("A post after close fails at once", "[http]") {
  TestLoop loop;
  HttpClient client(loop.get());
  client.close();
  int calls = 0;
  HttpResponse got;
  client.post(json_request("http://127.0.0.1:9/x"), [&](HttpResponse r) {
    ++calls;
    got = std::move(r);
  });
  CHECK(calls == 1);
  CHECK(got.status == 0);
  CHECK_FALSE(got.error.empty());
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("Only http and https URLs are allowed", "[http]") {
  TempDir dir;
  std::string secret = dir.write("secret", "do not send");
  TestLoop loop;
  HttpClient client(loop.get());

  auto r = post_and_wait(loop, client, json_request("file://" + secret));
  REQUIRE(r);
  CHECK(r->status == 0);
  CHECK_FALSE(r->error.empty());
  CHECK(r->body.empty());
  CHECK(close_all(loop, &client) == 0);
}

TEST_CASE("parse_retry_after reads seconds and HTTP dates", "[http]") {
  SystemTime now = std::chrono::system_clock::from_time_t(1445412470);  // 07:27:50 GMT
  CHECK(parse_retry_after("120", now) == Duration(120000));
  CHECK(parse_retry_after(" 0 ", now) == Duration(0));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == Duration(10000));
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now) == Duration(10000));
  // A date in the past means now.
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == Duration(0));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  // Absurd values are clamped instead of overflowing.
  auto huge = parse_retry_after("99999999999999999999999", now);
  REQUIRE(huge);
  CHECK(huge->count() > 0);
}

}  // namespace
}  // namespace vigil
