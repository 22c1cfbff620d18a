// Benchmark of the log plugin's reading and matching (bench/logs builds and runs it).
//
//   log_bench read FILE      the real path: LogCollector reads FILE from its start
//                            (no persistence) and matches the 10 patterns below;
//                            prints MB per CPU second, CPU and wall seconds
//   log_bench engines FILE   regex engines on the lines of FILE held in memory:
//                            std::regex, PCRE2 per pattern, PCRE2 alternation,
//                            PCRE2 alternation + literal prefilter
#include <string.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "agent/util/fs.h"
#include "agent/util/line_matcher.h"
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
