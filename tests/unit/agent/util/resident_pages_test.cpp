#include "agent/util/resident_pages.h"

#include <link.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace vigil {
namespace {

// The resident KiB of the mapping that holds `address` (/proc/self/smaps).
size_t resident_kib_at(const void* address) {
  auto a = reinterpret_cast<uintptr_t>(address);
  FILE* f = fopen("/proc/self/smaps", "re");
  REQUIRE(f != nullptr);
  char line[512];
  bool inside = false;
  size_t kib = 0;
  while (fgets(line, sizeof line, f) != nullptr) {
    unsigned long start = 0;
    unsigned long end = 0;
    if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
      inside = a >= start && a < end;
    } else if (inside && sscanf(line, "Rss: %zu kB", &kib) == 1) {
      break;
    }
  }
  fclose(f);
  return kib;
}

// The program's code: its executable segment, [start, end).
struct Code {
  const uint8_t* start = nullptr;
  size_t size = 0;
};

Code program_code() {
  Code code;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* out = static_cast<Code*>(data);
        if (out->start != nullptr) {
          return 1;  // the program comes first
        }
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) != 0) {
            out->start = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
            out->size = ph.p_memsz;
          }
        }
        return 1;
      },
      &code);
  return code;
}

// Reads every page (which maps it) and sums the bytes.
uint64_t checksum(const Code& code) {
  uint64_t sum = 0;
  for (size_t i = 0; i < code.size; i += 64) {
    sum = sum * 31 + code.start[i];
  }
  return sum;
}

int g_counter = 41;                              // .data: written at run time
const char* const kNames[] = {"cpu", "memory"};  // relocated pointers: RELRO

TEST_CASE("start-up pages are given back and come back intact when used again",
          "[util][footprint]") {
  Code code = program_code();
  REQUIRE(code.start != nullptr);
  REQUIRE(code.size > (1u << 20));
  uint64_t before = checksum(code);  // every page of the code is mapped now
  size_t resident = resident_kib_at(code.start);
  REQUIRE(resident > 1024);

  ++g_counter;
  auto heap = std::make_unique<std::vector<std::string>>(1000, std::string(100, 'x'));
  ReleasedPages released = release_start_up_pages();

  CHECK(released.objects >= 2);  // the program and libc at least
  CHECK(released.mapped_bytes >= code.size / 2);
  // Only what this test has touched since is mapped again.
  CHECK(resident_kib_at(code.start) < resident / 2);
  CHECK(released.resident_after < released.resident_before);
  // Code, read-only data, relocated pointers, writable data and the heap are as they were.
  CHECK(checksum(code) == before);
  CHECK(std::string(kNames[0]) + kNames[1] == "cpumemory");
  CHECK(g_counter == 42);
  CHECK(heap->size() == 1000);
  CHECK((*heap)[999] == std::string(100, 'x'));
}

TEST_CASE("resident bytes are this process's VmRSS", "[util][footprint]") {
  size_t rss = resident_bytes();
  CHECK(rss > 1024 * 1024);
  CHECK(rss < size_t{4} << 30);
}

}  // namespace
}  // namespace vigil
