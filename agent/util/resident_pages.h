#pragma once

#include <cstddef>

namespace vigil {

// What release_start_up_pages() did.
struct ReleasedPages {
  size_t objects = 0;          // loaded objects whose read-only segments were released
  size_t mapped_bytes = 0;     // bytes of those segments (resident or not before)
  size_t resident_before = 0;  // this process's resident bytes (VmRSS) before and after
  size_t resident_after = 0;
};

// Start-up uses pages that steady running never touches again: the dynamic linker
// reads the symbol tables of every library it binds (for an HTTP output, libcurl's
// thirty dependencies), the configuration is parsed, every check runs its first
// collection. Those pages stay mapped, and count in VmRSS, until the process exits;
// and the kernel maps code 64 KiB around each page a fault asks for, so that a
// pass through scattered code maps most of a library.
//
// This gives them back: every page wholly inside a read-only segment of a loaded
// object (the program's and each library's code, read-only data and symbol tables)
// is unmapped with MADV_DONTNEED, and malloc_trim returns the heap's free pages.
// Nothing is lost: such a page is the file's, still in the page cache, and the next
// access maps it again (a minor fault). What steady running uses comes back at its
// next pass; the rest stays out.
//
// It never drops a page that differs from the file: writable segments, the part
// that relocations wrote (PT_GNU_RELRO), objects with text relocations and the vDSO
// are left alone, and so is any mapping that holds a private copy of a page (a
// debugger's breakpoint, say; /proc/self/smaps says which). It runs under the dynamic linker's lock
// (dl_iterate_phdr): no library is loaded or unloaded meanwhile. Costs a few milliseconds, once.
ReleasedPages release_start_up_pages();

// This process's resident bytes now (VmRSS: /proc/self/statm); 0 if unknown.
size_t resident_bytes();

}  // namespace vigil
