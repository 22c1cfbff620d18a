#include "plugins/log/offset_store.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace vigil {
namespace {

constexpr std::string_view kHeader = "vigil-log-offsets 1";

// Splits off the next space-separated word.
bool next_word(std::string_view& s, std::string_view* word) {
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos || sp == 0) {
    return false;
  }
  *word = s.substr(0, sp);
  s.remove_prefix(sp + 1);
  return true;
}

bool parse_u64(std::string_view w, int base, uint64_t* out) {
  if (w.empty() || w.size() > 20) {
    return false;
  }
  std::string copy(w);
  char* end = nullptr;
  unsigned long long v = strtoull(copy.c_str(), &end, base);
  if (end == nullptr || *end != '\0' || copy[0] == '-') {
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

uint64_t fingerprint_hash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string format_offsets(const OffsetState& state) {
  std::string out(kHeader);
  out += '\n';
  for (const std::string& g : state.seen_globs) {
    if (g.find('\n') == std::string::npos) {
      out += "seen " + g + "\n";
    }
  }
  for (const FileRecord& f : state.files) {
    if (f.path.find('\n') != std::string::npos || f.path.empty()) {
      continue;
    }
    char buf[160];
    snprintf(buf, sizeof buf,
             "file %" PRIu64 " %" PRIu64 " %" PRIu32 " %016" PRIx64 " %" PRIu64 " %d ", f.dev,
             f.ino, f.fp_len, f.fp_hash, f.offset, f.skipping ? 1 : 0);
    out += buf;
    out += f.path;
    out += '\n';
  }
  return out;
}

Result<OffsetState> parse_offsets(std::string_view text) {
  OffsetState state;
  bool header = false;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return make_error("offsets: truncated last line");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (!header) {
      if (line != kHeader) {
        return make_error("offsets: unknown format");
      }
      header = true;
      continue;
    }
    std::string_view kind;
    if (!next_word(line, &kind)) {
      return make_error("offsets: bad line " + std::to_string(line_no));
    }
    if (kind == "seen") {
      state.seen_globs.emplace(line);
      continue;
    }
    if (kind != "file") {
      return make_error("offsets: bad line " + std::to_string(line_no));
    }
    FileRecord f;
    std::string_view w[6];
    bool ok = true;
    for (auto& word : w) {
      ok = ok && next_word(line, &word);
    }
    uint64_t fp_len = 0;
    uint64_t skipping = 0;
    ok = ok && parse_u64(w[0], 10, &f.dev) && parse_u64(w[1], 10, &f.ino) &&
         parse_u64(w[2], 10, &fp_len) && parse_u64(w[3], 16, &f.fp_hash) &&
         parse_u64(w[4], 10, &f.offset) && parse_u64(w[5], 10, &skipping) && skipping <= 1 &&
         fp_len <= UINT32_MAX && !line.empty();
    if (!ok) {
      return make_error("offsets: bad line " + std::to_string(line_no));
    }
    f.fp_len = static_cast<uint32_t>(fp_len);
    f.skipping = skipping == 1;
    f.path = std::string(line);
    state.files.push_back(std::move(f));
  }
  if (!header) {
    return make_error("offsets: empty file");
  }
  return state;
}

}  // namespace vigil
