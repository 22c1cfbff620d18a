#include "agent/util/line_matcher.h"

#include <string.h>

#include <optional>
#include <utility>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent/util/literal_prefilter.h"

namespace vigil {
namespace {

// Bounds the backtracking of one match call: a pattern like (a+)+$ on a long line
// would otherwise stall the loop (PCRE2's default is 10 million).
constexpr uint32_t kMatchLimit = 1000000;

struct CodeFree {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchDataFree {
  void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};
struct ContextFree {
  void operator()(pcre2_match_context* c) const { pcre2_match_context_free(c); }
};
using Code = std::unique_ptr<pcre2_code, CodeFree>;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) {
    return "error " + std::to_string(code);
  }
  return reinterpret_cast<const char*>(buf);
}

// PCRE2_MATCH_INVALID_UTF keeps a (*UTF) pattern safe on lines that are not UTF-8.
Result<Code> compile(const std::string& text) {
  int err = 0;
  PCRE2_SIZE at = 0;
  pcre2_code* c = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                PCRE2_MATCH_INVALID_UTF, &err, &at, nullptr);
  if (c == nullptr) {
    return make_error(pcre2_message(err) + " at offset " + std::to_string(at));
  }
  // Without JIT (an architecture it does not support, or no executable memory)
  // pcre2_match interprets the pattern: slower, still right.
  pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
  return Code(c);
}

bool has_backrefs(const pcre2_code* c) {
  uint32_t max_ref = 0;
  pcre2_pattern_info(c, PCRE2_INFO_BACKREFMAX, &max_ref);
  return max_ref > 0;
}

Result<std::vector<Code>> compile_set(const std::vector<PatternText>& patterns, bool combine) {
  std::vector<Code> alone;
  bool can_combine = combine && patterns.size() > 1;
  for (const PatternText& p : patterns) {
    auto c = compile(p.text);
    if (!c.ok()) {
      return make_error_at(p.file, p.line, "invalid regex '" + p.text + "': " + c.error());
    }
    can_combine = can_combine && !has_backrefs(c.value().get());
    alone.push_back(std::move(c.value()));
  }
  if (can_combine) {
    std::string alt;
    for (const PatternText& p : patterns) {
      alt += alt.empty() ? "(?:" : "|(?:";
      alt += p.text;
      alt += ")";
    }
    auto c = compile(alt);
    if (c.ok()) {
      std::vector<Code> one;
      one.push_back(std::move(c.value()));
      return one;
    }
  }
  return alone;
}

}  // namespace

struct LineMatcher::Impl {
  std::vector<Code> match;
  std::vector<Code> exclude;
  std::optional<LiteralPrefilter> prefilter;
  std::unique_ptr<pcre2_match_data, MatchDataFree> data;
  std::unique_ptr<pcre2_match_context, ContextFree> context;

  bool any(const std::vector<Code>& codes, std::string_view line) const {
    // PCRE2 10.42 rejects a null subject even when its length is 0.
    if (line.data() == nullptr) {
      line = std::string_view("", 0);
    }
    for (const Code& c : codes) {
      int rc = pcre2_match(c.get(), reinterpret_cast<PCRE2_SPTR>(line.data()), line.size(), 0, 0,
                           data.get(), context.get());
      if (rc >= 0) {
        return true;
      }
    }
    return false;
  }
};

LineMatcher::LineMatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LineMatcher::LineMatcher(LineMatcher&&) noexcept = default;
LineMatcher& LineMatcher::operator=(LineMatcher&&) noexcept = default;
LineMatcher::~LineMatcher() = default;

Result<LineMatcher> LineMatcher::create(const std::vector<PatternText>& match,
                                        const std::vector<PatternText>& exclude) {
  return create(match, exclude, Options{});
}

Result<LineMatcher> LineMatcher::create(const std::vector<PatternText>& match,
                                        const std::vector<PatternText>& exclude, Options options) {
  auto impl = std::make_unique<Impl>();
  auto m = compile_set(match, options.combine);
  if (!m.ok()) {
    return m.error_info();
  }
  impl->match = std::move(m.value());
  auto x = compile_set(exclude, options.combine);
  if (!x.ok()) {
    return x.error_info();
  }
  impl->exclude = std::move(x.value());

  if (options.prefilter) {
    std::vector<std::string> literals;
    for (const PatternText& p : match) {
      literals.push_back(required_literal(p.text));
    }
    impl->prefilter = LiteralPrefilter::build(literals, options.simd);
  }
  // One match data for every call: the matcher runs on one thread, and only
  // whether a pattern matched is used, not where.
  impl->data.reset(pcre2_match_data_create(1, nullptr));
  impl->context.reset(pcre2_match_context_create(nullptr));
  pcre2_set_match_limit(impl->context.get(), kMatchLimit);
  return LineMatcher(std::move(impl));
}

Status LineMatcher::validate(const PatternText& pattern) {
  auto c = compile(pattern.text);
  if (!c.ok()) {
    return make_error_at(pattern.file, pattern.line,
                         "invalid regex '" + pattern.text + "': " + c.error());
  }
  return {};
}

bool LineMatcher::matches(std::string_view line) const {
  if (impl_->prefilter && !impl_->prefilter->may_match(line)) {
    return false;
  }
  return impl_->any(impl_->match, line) && !impl_->any(impl_->exclude, line);
}

size_t LineMatcher::match_lines(std::string_view lines,
                                const std::function<void(std::string_view)>& on_match) const {
  auto line_at = [&](size_t start, size_t nl) {
    size_t end = nl > start && lines[nl - 1] == '\r' ? nl - 1 : nl;
    return lines.substr(start, end - start);
  };
  size_t count = 0;
  size_t pos = 0;
  if (!impl_->prefilter) {
    while (pos < lines.size()) {
      size_t nl = lines.find('\n', pos);
      if (nl == std::string_view::npos) {
        nl = lines.size();
      }
      std::string_view line = line_at(pos, nl);
      if (matches(line)) {
        ++count;
        on_match(line);
      }
      pos = nl + 1;
    }
    return count;
  }
  // A literal never holds a '\n' (required_literal ends its runs there), so the
  // line that holds an occurrence is the one around it; the search goes on after
  // that line, whether it matched or not.
  while (pos < lines.size()) {
    size_t hit = impl_->prefilter->find(lines, pos);
    if (hit == std::string_view::npos) {
      break;
    }
    const char* base = lines.data();
    const auto* before = static_cast<const char*>(memrchr(base + pos, '\n', hit - pos));
    size_t start = before != nullptr ? static_cast<size_t>(before - base) + 1 : pos;
    const auto* after = static_cast<const char*>(memchr(base + hit, '\n', lines.size() - hit));
    size_t nl = after != nullptr ? static_cast<size_t>(after - base) : lines.size();
    std::string_view line = line_at(start, nl);
    if (impl_->any(impl_->match, line) && !impl_->any(impl_->exclude, line)) {
      ++count;
      on_match(line);
    }
    pos = nl + 1;
  }
  return count;
}

bool LineMatcher::has_prefilter() const { return impl_->prefilter.has_value(); }
bool LineMatcher::has_simd_prefilter() const {
  return impl_->prefilter.has_value() && impl_->prefilter->simd();
}
size_t LineMatcher::match_programs() const { return impl_->match.size(); }

}  // namespace vigil
