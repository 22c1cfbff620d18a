#include "agent/util/uuid.h"

#include <sys/random.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>

namespace vigil {
namespace {

void random_bytes(uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
    }
  }
}

std::string format(const std::array<uint8_t, 16>& b) {
  char buf[37];
  snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
  return buf;
}

}  // namespace

std::string uuid_v7(SystemTime now) {
  // 12 bits of rand_a serve as a counter within one millisecond (RFC 9562 method 1),
  // so ids sort in the order they were made.
  static std::mutex mu;
  static int64_t last_ms = 0;
  static uint16_t counter = 0;
  int64_t ms = to_millis(now);
  uint16_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (ms <= last_ms) {
      ms = last_ms;
      if (++counter > 0x0fff) {
        counter = 0;
        ms = ++last_ms;
      }
    } else {
      last_ms = ms;
      counter = 0;
    }
    seq = counter;
  }
  std::array<uint8_t, 16> b{};
  random_bytes(b.data() + 8, 8);
  for (int i = 0; i < 6; ++i) {
    b[i] = static_cast<uint8_t>(static_cast<uint64_t>(ms) >> (40 - 8 * i));
  }
  b[6] = static_cast<uint8_t>(0x70 | ((seq >> 8) & 0x0f));
  b[7] = static_cast<uint8_t>(seq & 0xff);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return format(b);
}

std::string uuid_v4() {
  std::array<uint8_t, 16> b{};
  random_bytes(b.data(), b.size());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return format(b);
}

}  // namespace vigil
