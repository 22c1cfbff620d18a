#include "agent/config/ini_reader.h"

#include <ini.h>

#include <cctype>
#include <cstring>
#include <exception>

#include "agent/util/strings.h"

namespace vigil {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r'; }

std::string_view skip_blanks(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_blank(s[i])) {
    ++i;
  }
  return s.substr(i);
}

// The state shared by the reader and the handler. inih calls the reader for a
// line, then the handler (at most once) for that same line, so the handler
// learns its line number from here: inih 55 does not pass one.
class IniParser {
 public:
  IniParser(const std::string& file, std::string_view text, ConfigErrors* errors)
      : file_(file), text_(text), errors_(errors) {}

  std::vector<ParsedSection> run() {
    int rc = ini_parse_stream(&IniParser::on_read, this, &IniParser::on_pair, this);
    if (rc > 0 && error_lines_.count(rc) == 0) {
      error(rc, "syntax error");
    } else if (rc < 0) {
      error(0, "cannot parse (inih error " + std::to_string(rc) + ")");
    }
    return std::move(sections_);
  }

 private:
  static char* on_read(char* buf, int size, void* self) noexcept {
    try {
      return static_cast<IniParser*>(self)->read_line(buf, size);
    } catch (const std::exception&) {
      return nullptr;
    }
  }

  static int on_pair(void* self, const char* section, const char* name,
                     const char* value) noexcept {
    (void)section;  // inih's copy is cut at 50 bytes and merges same-named sections.
    try {
      static_cast<IniParser*>(self)->pair(name, value);
    } catch (const std::exception&) {
      // Out of memory: nothing sensible is left to report.
    }
    // Always go on: errors are recorded here with their line, and a zero
    // would only make inih remember the first one.
    return 1;
  }

  void error(int line, std::string message) {
    error_lines_.insert(line);
    add_error(errors_, file_, line, std::move(message));
  }

  // inih skips a line it cannot split into key and value without calling the
  // handler and reports only the first such line: noticing the missing call
  // reports every one of them.
  void finish_line() {
    if (expect_pair_ && !got_pair_ && error_lines_.count(line_) == 0) {
      error(line_, "expected 'key = value', a [section] or a comment");
    }
    expect_pair_ = false;
    got_pair_ = false;
  }

  char* read_line(char* buf, int size) {
    finish_line();
    if (pos_ >= text_.size() || size < 3) {
      return nullptr;
    }
    size_t end = text_.find('\n', pos_);
    size_t next = end == std::string_view::npos ? text_.size() : end + 1;
    std::string_view raw =
        text_.substr(pos_, (end == std::string_view::npos ? text_.size() : end) - pos_);
    pos_ = next;
    ++line_;
    if (!raw.empty() && raw.back() == '\r') {
      raw.remove_suffix(1);
    }
    if (line_ == 1 && starts_with(raw, "\xEF\xBB\xBF")) {
      raw.remove_prefix(3);
    }
    too_long_ = raw.size() > kMaxLineBytes;
    if (too_long_) {
      error(line_, "line too long (" + std::to_string(raw.size()) + " bytes, at most " +
                       std::to_string(kMaxLineBytes) + ")");
    }
    if (raw.find('\0') != std::string_view::npos && !too_long_) {
      error(line_, "line contains a NUL byte");
    }
    std::string_view line = skip_blanks(raw);
    if (!line.empty() && line[0] == '[') {
      header(line);
    } else if (!line.empty() && line[0] != ';' && line[0] != '#') {
      expect_pair_ = true;
    }
    // Leading white space is gone, so inih never takes a line for the
    // continuation of the previous key; at most size - 2 bytes leave room for
    // the newline and the terminator, so inih never splits a line in two.
    size_t n = std::min(line.size(), static_cast<size_t>(size) - 2);
    memcpy(buf, line.data(), n);
    buf[n] = '\n';
    buf[n + 1] = '\0';
    return buf;
  }

  void header(std::string_view line) {
    ParsedSection ps;
    ps.section.file = file_;
    ps.section.line = line_;
    size_t close = line.find(']');
    if (close == std::string_view::npos) {
      ps.valid = false;
      error(line_, "missing ']' in section header");
    } else {
      std::string_view after = trim(line.substr(close + 1));
      std::vector<std::string> words = split_words(line.substr(1, close - 1));
      if (!after.empty() && after[0] != ';' && after[0] != '#') {
        ps.valid = false;
        error(line_, "unexpected text after ']': '" + std::string(after) + "'");
      } else if (words.empty()) {
        ps.valid = false;
        error(line_, "empty section header");
      } else if (words.size() > 2) {
        ps.valid = false;
        error(line_, "invalid section header '" + std::string(line.substr(0, close + 1)) +
                         "' (use [TYPE] or [TYPE NAME])");
      } else {
        ps.section.type = words[0];
        ps.section.name = words.size() == 2 ? words[1] : "";
      }
    }
    sections_.push_back(std::move(ps));
  }

  static std::vector<std::string> split_words(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && is_blank(s[i])) {
        ++i;
      }
      size_t start = i;
      while (i < s.size() && !is_blank(s[i])) {
        ++i;
      }
      if (i > start) {
        out.emplace_back(s.substr(start, i - start));
      }
    }
    return out;
  }

  void pair(const char* name, const char* value) {
    got_pair_ = true;
    std::string key = name != nullptr ? name : "";
    if (sections_.empty()) {
      if (error_lines_.count(line_) == 0) {
        error(line_, "key '" + key + "' outside of any [section]");
      }
      return;
    }
    ParsedSection& ps = sections_.back();
    if (!ps.valid) {
      return;
    }
    if (key.empty()) {
      error(line_, "missing key name before '='");
      return;
    }
    if (too_long_) {
      ps.broken_keys.insert(key);
      return;
    }
    ps.section.entries.push_back(Entry{key, value != nullptr ? value : "", file_, line_});
  }

  const std::string& file_;
  std::string_view text_;
  ConfigErrors* errors_;
  size_t pos_ = 0;
  int line_ = 0;
  bool too_long_ = false;
  bool expect_pair_ = false;
  bool got_pair_ = false;
  std::set<int> error_lines_;
  std::vector<ParsedSection> sections_;
};

}  // namespace

std::vector<ParsedSection> parse_ini(const std::string& file, std::string_view text,
                                     ConfigErrors* errors) {
  IniParser parser(file, text, errors);
  return parser.run();
}

}  // namespace vigil
