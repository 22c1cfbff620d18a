#include "agent/status/http_request.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

using State = HttpRequestReader::State;

TEST_CASE("a request without a body is complete at the end of its head", "[status]") {
  HttpRequestReader r;
  CHECK(r.feed("GET /status?x=1 HTTP/1.1\r\nHost: a\r\n", 35) == State::kIncomplete);
  CHECK(r.feed("\r\n", 2) == State::kComplete);
  CHECK(r.request().method == "GET");
  CHECK(r.request().path == "/status");
  CHECK(r.request().body.empty());
}

TEST_CASE("a body is read to its Content-Length, however it arrives", "[status]") {
  std::string req =
      "POST /silences HTTP/1.1\ncontent-length: 11\n\n{\"a\": true}trailing bytes are ignored";
  size_t step = GENERATE(1, 7, 1000);
  HttpRequestReader r;
  State s = State::kIncomplete;
  for (size_t i = 0; i < req.size() && s == State::kIncomplete; i += step) {
    s = r.feed(req.data() + i, std::min(step, req.size() - i));
  }
  REQUIRE(s == State::kComplete);
  CHECK(r.request().method == "POST");
  CHECK(r.request().path == "/silences");
  CHECK(r.request().body == "{\"a\": true}");
}

TEST_CASE("what a request cannot be is answered with a clear status", "[status]") {
  auto [request, status] = GENERATE(table<std::string, int>({
      {"GARBAGE\r\n\r\n", 400},
      {"GET  HTTP/1.1\r\n\r\n", 400},
      {"POST /silences HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST /silences HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400},
      {"POST /silences HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 400},
      {"POST /silences HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
      {"POST /silences HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413},
      {"POST /silences HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'a'), 431},
  }));
  HttpRequestReader r;
  CHECK(r.feed(request.data(), request.size()) == State::kError);
  CHECK(r.error().status == status);
  CHECK(r.error().body.find('\n') == r.error().body.size() - 1);  // one line
}

TEST_CASE("a body of exactly the limit is taken", "[status]") {
  std::string body(HttpRequestReader::kMaxBody, 'x');
  std::string req = "POST /silences HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  HttpRequestReader r;
  REQUIRE(r.feed(req.data(), req.size()) == State::kComplete);
  CHECK(r.request().body.size() == body.size());
}

TEST_CASE("a repeated equal Content-Length is fine", "[status]") {
  std::string req = "POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok";
  HttpRequestReader r;
  REQUIRE(r.feed(req.data(), req.size()) == State::kComplete);
  CHECK(r.request().body == "ok");
}

}  // namespace
}  // namespace vigil
