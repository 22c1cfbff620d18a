#include "agent/spool/crc32c.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

namespace vigil {

TEST_CASE("crc32c matches the published check values", "[spool]") {
  // The standard check value of CRC-32C, and the iSCSI test vectors of RFC 3720 B.4.
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(crc32c(std::string(32, '\xFF')) == 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
  }
  CHECK(crc32c(ascending) == 0x46DD794Eu);
  CHECK(crc32c("") == 0u);
}

TEST_CASE("crc32c hardware and table versions agree at every length and alignment", "[spool]") {
  std::mt19937 rng(42);
  std::string data(1000, '\0');
  for (char& c : data) {
    c = static_cast<char>(rng());
  }
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 500, 991}) {
      const char* p = data.data() + start;
      CHECK(crc32c_extend(0, p, len) == crc32c_extend_portable(0, p, len));
    }
  }
}

TEST_CASE("crc32c can be computed over pieces", "[spool]") {
  std::string a = "the quick brown fox ";
  std::string b = "jumps over the lazy dog";
  uint32_t whole = crc32c(a + b);
  CHECK(crc32c_extend(crc32c(a), b.data(), b.size()) == whole);
  CHECK(crc32c_extend_portable(crc32c_extend_portable(0, a.data(), a.size()), b.data(), b.size()) ==
        whole);
}

}  // namespace vigil
