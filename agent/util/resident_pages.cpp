#include "agent/util/resident_pages.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

namespace vigil {
namespace {

struct Walk {
  uintptr_t page = 4096;
  uintptr_t vdso = 0;  // the vDSO's ELF header: its pages are the kernel's
  // Mappings that hold anonymous pages, private copies of the file's: those a
  // debugger's breakpoints or text relocations made.
  std::vector<std::pair<uintptr_t, uintptr_t>> copied;
  ReleasedPages* out = nullptr;
};

// The mappings of /proc/self/smaps with Anonymous above 0.
std::vector<std::pair<uintptr_t, uintptr_t>> mappings_with_copies() {
  std::vector<std::pair<uintptr_t, uintptr_t>> out;
  FILE* f = fopen("/proc/self/smaps", "re");
  if (f == nullptr) {
    return out;
  }
  char line[512];
  uintptr_t start = 0;
  uintptr_t end = 0;
  while (fgets(line, sizeof line, f) != nullptr) {
    unsigned long a = 0;
    unsigned long b = 0;
    size_t kib = 0;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
      start = a;
      end = b;
    } else if (sscanf(line, "Anonymous: %zu kB", &kib) == 1 && kib > 0) {
      out.emplace_back(start, end);
    }
  }
  fclose(f);
  return out;
}

// Text relocations make the code pages private copies: dropping them would undo the
// relocations. No library built as position-independent code has them; this checks.
bool has_text_relocations(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_DYNAMIC) {
      continue;
    }
    const auto* dyn = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + ph.p_vaddr);
    for (; dyn->d_tag != DT_NULL; ++dyn) {
      if (dyn->d_tag == DT_TEXTREL ||
          (dyn->d_tag == DT_FLAGS && (dyn->d_un.d_val & DF_TEXTREL) != 0)) {
        return true;
      }
    }
  }
  return false;
}

// [start, end) of the object's segments, loaded; whether `address` is inside one.
bool contains(const dl_phdr_info* info, uintptr_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && address >= start && address < start + ph.p_memsz) {
      return true;
    }
  }
  return false;
}

int release_object(dl_phdr_info* info, size_t, void* data) {
  auto* walk = static_cast<Walk*>(data);
  if ((walk->vdso != 0 && contains(info, walk->vdso)) || has_text_relocations(info)) {
    return 0;
  }
  // The pages relocations wrote, made read-only afterwards: private copies.
  uintptr_t relro_start = 0;
  uintptr_t relro_end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_GNU_RELRO) {
      relro_start = (info->dlpi_addr + ph.p_vaddr) & ~(walk->page - 1);
      relro_end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz + walk->page - 1) & ~(walk->page - 1);
    }
  }
  bool released = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) != 0 || ph.p_memsz != ph.p_filesz) {
      continue;
    }
    // Only pages wholly inside the segment: a page it shares with a writable
    // neighbour stays.
    uintptr_t start = (info->dlpi_addr + ph.p_vaddr + walk->page - 1) & ~(walk->page - 1);
    uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz) & ~(walk->page - 1);
    if (relro_start < relro_end && start < relro_end && relro_start < end) {
      // Never the case in what linkers produce (RELRO is part of the writable
      // segment); an object that does it anyway keeps the overlapping side.
      if (relro_start > start) {
        end = relro_start;
      } else {
        start = std::max(start, relro_end);
      }
    }
    if (start >= end || std::any_of(walk->copied.begin(), walk->copied.end(),
                                    [&](auto m) { return start < m.second && m.first < end; })) {
      continue;
    }
    if (madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) {
      walk->out->mapped_bytes += end - start;
      released = true;
    }
  }
  if (released) {
    ++walk->out->objects;
  }
  return 0;
}

}  // namespace

// Read with system calls and parsed by hand: after the release, stdio and scanf
// would bring 250 KiB of libc's code back for one line.
size_t resident_bytes() {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  char buf[128];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) {
    return 0;
  }
  buf[n] = '\0';
  // "size resident shared text lib data dt", in pages.
  const char* p = strchr(buf, ' ');
  if (p == nullptr) {
    return 0;
  }
  size_t pages = 0;
  for (++p; *p >= '0' && *p <= '9'; ++p) {
    pages = pages * 10 + static_cast<size_t>(*p - '0');
  }
  long page = sysconf(_SC_PAGESIZE);
  return pages * static_cast<size_t>(page > 0 ? page : 4096);
}

ReleasedPages release_start_up_pages() {
  ReleasedPages out;
  out.resident_before = resident_bytes();
  Walk walk;
  long page = sysconf(_SC_PAGESIZE);
  walk.page = page > 0 ? static_cast<uintptr_t>(page) : 4096;
  walk.vdso = static_cast<uintptr_t>(getauxval(AT_SYSINFO_EHDR));
  walk.copied = mappings_with_copies();
  walk.out = &out;
  dl_iterate_phdr(&release_object, &walk);
  malloc_trim(0);
  out.resident_after = resident_bytes();
  return out;
}

}  // namespace vigil
