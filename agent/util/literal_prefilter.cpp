#include "agent/util/literal_prefilter.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

namespace vigil {
namespace {

bool is_quantifier(char c) { return c == '?' || c == '*' || c == '{'; }

// Skips a character class starting at pattern[i] == '['; returns the index after
// its closing ']', or npos when it is not closed. A ']' right after '[' or '[^' is
// a member, and POSIX classes ([:alpha:]) nest one level.
size_t skip_class(std::string_view s, size_t i) {
  ++i;
  if (i < s.size() && s[i] == '^') {
    ++i;
  }
  if (i < s.size() && s[i] == ']') {
    ++i;
  }
  while (i < s.size()) {
    if (s[i] == '\\') {
      i += 2;
      continue;
    }
    if (s[i] == '[' && i + 1 < s.size() && s[i + 1] == ':') {
      size_t close = s.find(":]", i + 2);
      if (close == std::string_view::npos) {
        return std::string_view::npos;
      }
      i = close + 2;
      continue;
    }
    if (s[i] == ']') {
      return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

// Skips a group starting at pattern[i] == '('; returns the index after its ')'.
size_t skip_group(std::string_view s, size_t i) {
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (c == '[') {
      i = skip_class(s, i);
      if (i == std::string_view::npos) {
        return i;
      }
      continue;
    }
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) {
        return i + 1;
      }
    }
    ++i;
  }
  return std::string_view::npos;
}

// An opening parenthesis at s[i] that changes what later bytes mean: option
// settings such as (?i), or (*UTF) and other verbs, after which quantifiers may
// apply to code points.
bool changes_meaning(std::string_view s, size_t i) {
  if (i + 2 < s.size() && s[i + 1] == '?' &&
      (isalpha(static_cast<unsigned char>(s[i + 2])) != 0 || s[i + 2] == '-' || s[i + 2] == '^' ||
       s[i + 2] == '#')) {
    return true;
  }
  return i + 1 < s.size() && s[i + 1] == '*';
}

// Past the body of {n}, {n,}, {n,m} that starts at s[i], so that its digits are
// not taken for bytes; i itself when it is no count (a literal brace).
size_t after_repeat_count(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && (isdigit(static_cast<unsigned char>(s[j])) != 0 || s[j] == ',')) {
    ++j;
  }
  return j < s.size() && s[j] == '}' ? j + 1 : i;
}

// Past the escape at s[i] (a backslash): *byte is the byte it stands for, or
// nullopt for a class such as \d or \b (with a braced argument, \b{wb}). npos for
// escapes not worth parsing: with arguments (\x41, \cA, \g1, \pL …) or cut short.
size_t after_escape(std::string_view s, size_t i, std::optional<char>* byte) {
  if (i + 1 >= s.size()) {
    return std::string_view::npos;
  }
  char e = s[i + 1];
  if (isdigit(static_cast<unsigned char>(e)) != 0 || strchr("QEgkpPNoucx", e) != nullptr) {
    return std::string_view::npos;
  }
  if (isalnum(static_cast<unsigned char>(e)) == 0) {
    *byte = e;
    return i + 2;
  }
  byte->reset();
  i += 2;
  if (i < s.size() && s[i] == '{') {
    size_t close = s.find('}', i);
    return close == std::string_view::npos ? std::string_view::npos : close + 1;
  }
  return i;
}

}  // namespace

std::string required_literal(std::string_view s) {
  std::string best;
  std::string run;
  auto end_run = [&] {
    if (run.size() > best.size()) {
      best = run;
    }
    run.clear();
  };
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '|') {
      return "";  // top-level alternation: no single literal is required
    }
    if (c == '(') {
      if (changes_meaning(s, i)) {
        return "";
      }
      end_run();
      i = skip_group(s, i);
      if (i == std::string_view::npos) {
        return "";
      }
      continue;
    }
    if (c == '[') {
      end_run();
      i = skip_class(s, i);
      if (i == std::string_view::npos) {
        return "";
      }
      continue;
    }
    if (is_quantifier(c)) {
      // The atom before is optional: it is not required, and it ends the run.
      if (!run.empty()) {
        run.pop_back();
      }
      end_run();
      i = c == '{' ? after_repeat_count(s, i + 1) : i + 1;
      continue;
    }
    if (c == '+') {
      end_run();  // the atom stays required, but what follows need not be adjacent
      ++i;
      continue;
    }
    if (c == '.' || c == '^' || c == '$' || c == '\n' || c == ')') {
      end_run();
      ++i;
      continue;
    }
    if (c == '\\') {
      std::optional<char> byte;
      i = after_escape(s, i, &byte);
      if (i == std::string_view::npos) {
        return "";
      }
      if (byte) {
        run.push_back(*byte);
      } else {
        end_run();  // \d, \s, \b …: not a plain byte
      }
      continue;
    }
    run.push_back(c);
    ++i;
  }
  end_run();
  return best;
}

std::optional<LiteralPrefilter> LiteralPrefilter::build(const std::vector<std::string>& literals,
                                                        bool simd) {
  if (literals.empty()) {
    return std::nullopt;
  }
  LiteralPrefilter f;
  f.min_len_ = SIZE_MAX;
  for (const std::string& lit : literals) {
    // A literal with a newline (a backslash before a raw newline in the pattern)
    // is in no line: PCRE2 alone decides then.
    if (lit.size() < kMinLiteral || lit.find('\n') != std::string::npos) {
      return std::nullopt;
    }
    f.min_len_ = std::min(f.min_len_, lit.size());
  }
  f.literals_ = literals;
  if (simd) {
    f.search_ = LiteralSearch::build(literals);
  }
  f.stride_ = f.min_len_ - 3;
  f.bitmap_.assign((size_t{1} << kBitmapBits) / 64, 0);
  f.heads_.assign(kBuckets, kNone);
  for (uint32_t li = 0; li < f.literals_.size(); ++li) {
    const std::string& lit = f.literals_[li];
    for (uint32_t off = 0; off + 4 <= lit.size(); ++off) {
      uint32_t v = 0;
      memcpy(&v, lit.data() + off, 4);
      uint32_t h = hash(v);
      f.bitmap_[h >> 6] |= uint64_t{1} << (h & 63);
      uint32_t bucket = h & (kBuckets - 1);
      f.grams_.push_back(Gram{v, off, li, f.heads_[bucket]});
      f.heads_[bucket] = static_cast<uint32_t>(f.grams_.size() - 1);
    }
  }
  return f;
}

bool LiteralPrefilter::may_match(std::string_view line) const {
  return line.size() >= min_len_ && sample(line, 0) != std::string_view::npos;
}

size_t LiteralPrefilter::find(std::string_view hay, size_t from) const {
  if (search_) {
    return search_->find(hay, from);
  }
  return sample(hay, from);
}

// Windows are sampled from `from` on, so an occurrence that starts there or later
// covers one of them; one that started earlier is not reported.
size_t LiteralPrefilter::sample(std::string_view hay, size_t from) const {
  size_t len = hay.size();
  const char* p = hay.data();
  for (size_t i = from; i + 4 <= len; i += stride_) {
    uint32_t v = 0;
    memcpy(&v, p + i, 4);
    uint32_t h = hash(v);
    if (((bitmap_[h >> 6] >> (h & 63)) & 1) == 0) {
      continue;
    }
    for (uint32_t g = heads_[h & (kBuckets - 1)]; g != kNone; g = grams_[g].next) {
      const Gram& gram = grams_[g];
      if (gram.value != v || i < from + gram.offset) {
        continue;
      }
      const std::string& lit = literals_[gram.literal];
      size_t start = i - gram.offset;
      if (start + lit.size() <= len && memcmp(p + start, lit.data(), lit.size()) == 0) {
        return start;
      }
    }
  }
  return std::string_view::npos;
}

}  // namespace vigil
