#include "agent/util/gzip.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

namespace vigil {
namespace {

// Inflates a gzip stream (15 + 16 window bits: gzip only, no zlib or raw streams).
std::string gunzip(const std::string& in) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  }
  inflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);
  CHECK(z.avail_in == 0);  // nothing after the trailer
  return out;
}

std::string pseudo_random(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1664525u + 1013904223u;  // a fixed LCG: the same bytes every run
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

TEST_CASE("gzip output inflates back to its input", "[http]") {
  std::string json;
  for (int i = 0; i < 2000; ++i) {
    json += R"({"kind":"event","id":")" + std::to_string(i) + R"(","host":"web-01"},)";
  }
  std::string input = GENERATE_COPY(std::string(), std::string("x"), json,
                                    pseudo_random(1 << 20, 7), std::string(3u << 20, 'a'));
  std::string packed = gzip(input);
  REQUIRE(packed.size() >= 18);  // a gzip header and trailer at least
  CHECK(static_cast<unsigned char>(packed[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(packed[1]) == 0x8b);
  CHECK(gunzip(packed) == input);
}

TEST_CASE("gzip shrinks repetitive JSON", "[http]") {
  std::string json;
  for (int i = 0; i < 500; ++i) {
    json += R"({"kind":"event","check":"cpu","state":"ok","tags":{}},)";
  }
  CHECK(gzip(json).size() * 10 < json.size());
}

}  // namespace
}  // namespace vigil
