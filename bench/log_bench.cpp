// Benchmark of the log plugin's reading and matching (bench/logs builds and runs it).
//
//   log_bench read FILE      the real path: LogCollector reads FILE from its start
//                            (no persistence) and matches the 10 patterns below;
//                            prints MB per CPU second, CPU and wall seconds
//   log_bench engines FILE   regex engines on the lines of FILE held in memory:
//                            std::regex, PCRE2 per pattern, PCRE2 alternation,
//                            PCRE2 alternation + literal prefilter, line by line;
//                            then on blocks of whole lines (256 KiB, as the reader
//                            hands them over): the SIMD literal search or the
//                            sampling prefilter, and Hyperscan when built with
//                            VIGIL_BENCH_HYPERSCAN (PCRE2 confirms its lines)
#include <string.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#ifdef VIGIL_BENCH_HYPERSCAN
#include <hs/hs.h>
#endif

#include "agent/util/fs.h"
#include "agent/util/line_matcher.h"
#include "agent/util/line_scan.h"
#include "agent/util/literal_prefilter.h"
#include "plugins/log/log_collector.h"

namespace {

const char* const kPatterns[] = {
    R"(Failed password for (invalid user )?\w+)",
    R"(segfault at [0-9a-f]+)",
    R"(Out of memory: Kill(ed)? process \d+)",
    R"(error: .*timed out)",
    R"(I/O error, dev \w+, sector \d+)",
    R"(CMD \(.*\) FAILED)",
    R"(Kernel panic - not syncing)",
    R"(authentication failure;.*user=root)",
    R"(No space left on device)",
    R"(Connection reset by peer)",
};

std::vector<vigil::PatternText> patterns() {
  std::vector<vigil::PatternText> out;
  for (const char* p : kPatterns) {
    out.push_back(vigil::PatternText{p, "", 0});
  }
  return out;
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int bench_read(const std::string& file) {
  vigil::LogOptions options;
  options.globs = {file};
  options.from_beginning = true;
  options.slice_bytes = 64u << 20;
  auto matcher = vigil::LineMatcher::create(patterns(), {});
  if (!matcher.ok()) {
    fprintf(stderr, "%s\n", matcher.error().c_str());
    return 1;
  }
  vigil::LogCollector collector(options, std::move(matcher.value()));
  vigil::CollectContext ctx;  // no state_dir: nothing persisted
  double lines = 0;
  double matched = 0;
  double w0 = wall_now();
  double c0 = cpu_now();
  while (true) {
    ctx.now += std::chrono::seconds(1);
    auto s = collector.read(ctx);
    if (!s.ok()) {
      fprintf(stderr, "%s\n", s.error().c_str());
      return 1;
    }
    double n = *s->find("lines");
    if (n == 0) {
      break;
    }
    lines += n;
    matched += s->occurrences;
  }
  double wall = wall_now() - w0;
  double cpu = cpu_now() - c0;
  FILE* f = fopen(file.c_str(), "rb");
  fseek(f, 0, SEEK_END);
  double bytes = static_cast<double>(ftell(f));
  fclose(f);
  // The rate per CPU second is the figure that matters on a shared machine; the
  // wall rate is printed too.
  printf("read %.0f MB/cpu-s  cpu %.2f s  wall %.2f s (%.0f MB/s)  lines %.0f  matches %.0f\n",
         bytes / cpu / 1e6, cpu, wall, bytes / wall / 1e6, lines, matched);
  return 0;
}

template <typename F>
void time_lines(const char* name, const std::string& data, size_t limit, F&& match) {
  size_t n = std::min(limit, data.size());
  const char* p = data.data();
  const char* end = p + n;
  size_t hits = 0;
  double t0 = cpu_now();
  while (p < end) {
    auto* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) {
      nl = end;
    }
    hits += match(std::string_view(p, static_cast<size_t>(nl - p))) ? 1 : 0;
    p = nl + 1;
  }
  double t = cpu_now() - t0;
  printf("%-44s %8.1f MB/cpu-s  (%zu matching lines in %.0f MB)\n", name,
         static_cast<double>(n) / t / 1e6, hits, static_cast<double>(n) / 1e6);
}

// Blocks of whole lines of about 256 KiB, as LineSplitter hands them to on_lines;
// count_lines as it does (scan_lines), then match(block) gives the matching lines.
template <typename F>
void time_blocks(const char* name, const std::string& data, F&& match) {
  const char* p = data.data();
  const char* end = p + data.size();
  size_t hits = 0;
  double t0 = cpu_now();
  while (p < end) {
    size_t n = std::min<size_t>(256 * 1024, static_cast<size_t>(end - p));
    const auto* last = static_cast<const char*>(memrchr(p, '\n', n));
    n = last != nullptr ? static_cast<size_t>(last + 1 - p) : static_cast<size_t>(end - p);
    std::string_view block(p, n);
    (void)vigil::scan_lines(block, 16384);
    hits += match(block);
    p += n;
  }
  double t = cpu_now() - t0;
  printf("%-44s %8.1f MB/cpu-s  (%zu matching lines in %.0f MB)\n", name,
         static_cast<double>(data.size()) / t / 1e6, hits, static_cast<double>(data.size()) / 1e6);
}

#ifdef VIGIL_BENCH_HYPERSCAN
// Hyperscan over a block: each match it reports is confirmed by PCRE2 on its line
// (Hyperscan's semantics differ: no backreferences or lookaround, and `.`, `$`
// work otherwise), once per line.
struct HsLines {
  std::string_view block;
  size_t line_end = 0;  // the end of the last line looked at
  const vigil::LineMatcher* confirm = nullptr;
  size_t matched = 0;
};

int on_hyperscan_match(unsigned, unsigned long long, unsigned long long to, unsigned, void* p) {
  auto* c = static_cast<HsLines*>(p);
  size_t at = static_cast<size_t>(to) - (to > 0 ? 1 : 0);
  if (at < c->line_end) {
    return 0;
  }
  const char* b = c->block.data();
  const auto* s = static_cast<const char*>(memrchr(b, '\n', at));
  size_t start = s != nullptr ? static_cast<size_t>(s - b) + 1 : 0;
  const auto* e = static_cast<const char*>(memchr(b + at, '\n', c->block.size() - at));
  size_t nl = e != nullptr ? static_cast<size_t>(e - b) : c->block.size();
  c->line_end = nl + 1;
  size_t len = nl - start;
  if (len > 0 && b[start + len - 1] == '\r') {
    --len;
  }
  c->matched += c->confirm->matches(std::string_view(b + start, len)) ? 1 : 0;
  return 0;
}

void time_hyperscan(const char* name, const std::string& data, bool literals) {
  std::vector<std::string> texts;
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (const char* p : kPatterns) {
    texts.push_back(literals ? vigil::required_literal(p) : std::string(p));
  }
  for (unsigned i = 0; i < texts.size(); ++i) {
    ptrs.push_back(texts[i].c_str());
    lens.push_back(texts[i].size());
    flags.push_back(0);
    ids.push_back(i);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  hs_error_t rc = literals ? hs_compile_lit_multi(ptrs.data(), flags.data(), ids.data(),
                                                  lens.data(), static_cast<unsigned>(texts.size()),
                                                  HS_MODE_BLOCK, nullptr, &db, &err)
                           : hs_compile_multi(ptrs.data(), flags.data(), ids.data(),
                                              static_cast<unsigned>(texts.size()), HS_MODE_BLOCK,
                                              nullptr, &db, &err);
  if (rc != HS_SUCCESS) {
    printf("%-44s does not compile: %s\n", name, err->message);
    hs_free_compile_error(err);
    return;
  }
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(db, &scratch);
  auto confirm = vigil::LineMatcher::create(patterns(), {});
  time_blocks(name, data, [&](std::string_view block) {
    HsLines c{block, 0, &confirm.value(), 0};
    hs_scan(db, block.data(), static_cast<unsigned>(block.size()), 0, scratch, on_hyperscan_match,
            &c);
    return c.matched;
  });
  hs_free_scratch(scratch);
  hs_free_database(db);
}
#endif

int bench_engines(const std::string& file) {
  auto text = vigil::read_file(file, size_t{256} << 20);
  if (!text.ok()) {
    // Larger than 256 MiB: take its head.
    FILE* f = fopen(file.c_str(), "rb");
    std::string head(size_t{256} << 20, '\0');
    head.resize(fread(head.data(), 1, head.size(), f));
    fclose(f);
    text = std::move(head);
  }
  const std::string& data = text.value();
  {
    std::string alt;
    for (const char* p : kPatterns) {
      alt += alt.empty() ? "(?:" : "|(?:";
      alt += p;
      alt += ")";
    }
    std::regex re(alt, std::regex::ECMAScript | std::regex::optimize);
    time_lines("std::regex, alternation (first 16 MB)", data, 16u << 20,
               [&](std::string_view l) { return std::regex_search(l.begin(), l.end(), re); });
  }
  struct Variant {
    const char* name;
    vigil::LineMatcher::Options options;
  };
  for (Variant v : {Variant{"PCRE2 JIT, 10 patterns one by one", {false, false}},
                    Variant{"PCRE2 JIT, one alternation", {true, false}},
                    Variant{"PCRE2 JIT, alternation + literal prefilter", {true, true}}}) {
    auto m = vigil::LineMatcher::create(patterns(), {}, v.options);
    if (!m.ok()) {
      fprintf(stderr, "%s\n", m.error().c_str());
      return 1;
    }
    time_lines(v.name, data, data.size(), [&](std::string_view l) { return m->matches(l); });
  }
  time_lines("memchr only (line splitting)", data, data.size(),
             [](std::string_view l) { return l.empty(); });
  for (bool simd : {true, false}) {
    auto m = vigil::LineMatcher::create(patterns(), {}, {true, true, simd});
    if (simd && !m->has_simd_prefilter()) {
      printf("(no AVX2: no SIMD literal search)\n");
      continue;
    }
    time_blocks(
        simd ? "blocks: SIMD literal search + PCRE2 JIT" : "blocks: sampling prefilter + PCRE2 JIT",
        data,
        [&](std::string_view block) { return m->match_lines(block, [](std::string_view) {}); });
  }
  time_blocks("blocks: line count alone (scan_lines)", data,
              [](std::string_view) { return size_t{0}; });
#ifdef VIGIL_BENCH_HYPERSCAN
  time_hyperscan("blocks: Hyperscan, 10 patterns + PCRE2", data, false);
  time_hyperscan("blocks: Hyperscan, 10 literals + PCRE2", data, true);
#endif
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: log_bench read|engines FILE\n");
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "read") {
    return bench_read(argv[2]);
  }
  if (mode == "engines") {
    return bench_engines(argv[2]);
  }
  fprintf(stderr, "usage: log_bench read|engines FILE\n");
  return 2;
}
