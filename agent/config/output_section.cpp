#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "agent/config/address.h"
#include "agent/config/loader.h"
#include "agent/config/section_keys.h"
#include "agent/config/sections.h"
#include "agent/util/fs.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr uint64_t kMinSpool = 4096;

bool is_valid_url(std::string_view url) {
  if (url == "stdout") {
    return true;
  }
  for (std::string_view prefix : {"https://", "http://", "file:"}) {
    if (starts_with(url, prefix)) {
      return url.size() > prefix.size();
    }
  }
  return false;
}

// RFC 9110 token characters: what a header name may contain.
bool is_header_name(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (isalnum(static_cast<unsigned char>(c)) == 0 && strchr("!#$%&'*+-.^_`|~", c) == nullptr) {
      return false;
    }
  }
  return true;
}

// Where a URL has credentials (`user:password@`) in its authority, or "" when
// it has none: [begin, end) covers them and the '@'.
std::pair<size_t, size_t> userinfo_span(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority =
      url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) {
    return {0, 0};
  }
  return {start, start + at + 1};
}

// A URL as an error message may show it: without credentials, and without the
// query and fragment, which often carry an API key. Errors reach logs and
// terminals; secrets must not.
std::string shown_url(std::string_view url) {
  auto [from, to] = userinfo_span(url);
  std::string out = std::string(url.substr(0, from)) + std::string(url.substr(to));
  size_t query = out.find_first_of("?#");
  if (query != std::string::npos) {
    out = out.substr(0, query) + out[query] + "…";
  }
  return out;
}

// Opens and reads one byte, as curl will: access(2) says yes to root for files
// it then cannot read (a folder, for one). Only a regular file will do, and it
// is opened without blocking: curl would hang on a FIFO, and so would this.
Status check_readable(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return make_error(strerror(errno));
  }
  if (std::string kind = non_regular_kind(st.st_mode); !kind.empty()) {
    return make_error("it is " + kind + ", not a regular file");
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return make_error(strerror(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return make_error("it is not a regular file");
  }
  char c = 0;
  ssize_t n = read(fd, &c, 1);
  int err = errno;
  close(fd);
  if (n < 0) {
    return make_error(strerror(err));
  }
  return {};
}

void readable_file(const Section& s, std::string_view key, std::string* out, ConfigErrors* errors) {
  const Entry* e = s.find(key);
  if (e == nullptr || trim(e->value).empty()) {
    return;
  }
  *out = std::string(trim(e->value));
  if (Status st = check_readable(*out); !st.ok()) {
    add_error(errors, e->file, e->line,
              std::string(key) + ": cannot read '" + *out + "': " + st.error());
  }
}

void read_token(const Section& s, OutputConfig* out, ConfigErrors* errors) {
  const Entry* token = s.find("token");
  const Entry* file = s.find("token_file");
  if (token != nullptr) {
    out->token = std::string(trim(token->value));
  }
  if (file == nullptr || trim(file->value).empty()) {
    return;
  }
  if (token != nullptr) {
    const Entry* later = token->line > file->line ? token : file;
    add_error(errors, later->file, later->line, "token and token_file exclude each other");
    return;
  }
  std::string path(trim(file->value));
  // A token is a line of text; anything larger is surely the wrong file.
  Result<std::string> text = read_regular_file(path, 64 * 1024);
  if (!text.ok()) {
    add_error(errors, file->file, file->line, "token_file: " + text.error());
    return;
  }
  out->token = std::string(trim(text.value()));
  if (out->token.empty()) {
    add_error(errors, file->file, file->line, "token_file: '" + path + "' is empty");
  }
}

void read_headers(const Section& s, OutputConfig* out, ConfigErrors* errors) {
  for (const Entry* e : s.all("header")) {
    size_t colon = e->value.find(':');
    std::string_view name =
        colon == std::string::npos ? "" : trim(std::string_view(e->value).substr(0, colon));
    // Header values are secrets (API keys, tokens): the error shows no part of
    // the line, which may hold nothing but the value.
    if (colon == std::string::npos) {
      add_error(errors, e->file, e->line,
                "header: expected 'Name: value' (no ':' found; the value is not shown)");
      continue;
    }
    if (!is_header_name(name)) {
      add_error(errors, e->file, e->line,
                "header: invalid header name before ':' (letters, digits and "
                "!#$%&'*+-.^_`|~; the value is not shown)");
      continue;
    }
    out->headers.emplace_back(std::string(name),
                              std::string(trim(std::string_view(e->value).substr(colon + 1))));
  }
}

void read_send(const Section& s, OutputConfig* out, ConfigErrors* errors) {
  const Entry* e = s.find("send");
  if (e == nullptr) {
    return;
  }
  out->send_event = out->send_incident = out->send_problem = out->send_heartbeat = false;
  std::vector<std::string> kinds = split_list(e->value);
  if (kinds.empty()) {
    add_error(errors, e->file, e->line,
              "send: empty (use a list of event, incident, problem, heartbeat)");
  }
  for (const std::string& kind : kinds) {
    if (kind == "event") {
      out->send_event = true;
    } else if (kind == "incident") {
      out->send_incident = true;
    } else if (kind == "problem") {
      out->send_problem = true;
    } else if (kind == "heartbeat") {
      out->send_heartbeat = true;
    } else {
      add_error(
          errors, e->file, e->line,
          "send: unknown record kind '" + kind + "' (use event, incident, problem, heartbeat)");
    }
  }
}

}  // namespace

OutputConfig build_output(const ParsedSection& parsed, ConfigErrors* errors) {
  const Section& s = parsed.section;
  check_section_keys(parsed, {output_keys()}, errors);

  OutputConfig out;
  out.name = s.name.empty() ? "default" : s.name;
  out.file = s.file;
  out.line = s.line;
  if (const Entry* e = s.find("url")) {
    out.url = std::string(trim(e->value));
    if (!is_valid_url(out.url)) {
      // Shown only when it looks like a URL: a value with no scheme may be a
      // token pasted into the wrong key.
      std::string shown =
          out.url.find("://") != std::string::npos ? " '" + shown_url(out.url) + "'" : "";
      add_error(errors, e->file, e->line,
                "url: invalid url" + shown + " (use https://…, http://…, stdout or file:PATH)");
    }
  }
  std::string format = string_value(s, "format").value_or("vigil");
  if (format == "pagerduty") {
    out.format = OutputFormat::kPagerDuty;
  } else if (format == "alertmanager") {
    out.format = OutputFormat::kAlertmanager;
  }
  read_token(s, &out, errors);
  out.routing_key = std::string(trim(string_value(s, "routing_key").value_or("")));
  if (out.format == OutputFormat::kPagerDuty && out.routing_key.empty() &&
      parsed.broken_keys.count("routing_key") == 0) {
    add_error(errors, s.file, s.line,
              "missing routing_key in " + section_label(s) + " (format pagerduty needs it)");
  }
  read_headers(s, &out, errors);
  readable_file(s, "ca_file", &out.ca_file, errors);
  readable_file(s, "cert_file", &out.cert_file, errors);
  readable_file(s, "key_file", &out.key_file, errors);
  out.tls_verify = bool_value(s, "tls_verify").value_or(true);
  if (const Entry* e = s.find("proxy")) {
    out.proxy = std::string(trim(e->value));
    if (userinfo_span(out.proxy).second != 0) {
      add_error(errors, e->file, e->line,
                "proxy: credentials in the proxy URL are not supported (use http://HOST:PORT; "
                "the value is not shown)");
    } else if (!is_proxy_url(out.proxy)) {
      std::string shown =
          out.proxy.find("://") != std::string::npos ? " '" + shown_url(out.proxy) + "'" : "";
      add_error(errors, e->file, e->line,
                "proxy: invalid proxy" + shown + " (use http://HOST:PORT)");
    }
  }
  out.timeout = duration_value(s, "timeout").value_or(out.timeout);
  if (const Entry* e = s.find("batch_max")) {
    if (std::optional<int> n = int_value(s, "batch_max")) {
      if (*n < 1) {
        add_error(errors, e->file, e->line, "batch_max: must be at least 1");
      }
      out.batch_max = static_cast<size_t>(*n);
    }
  }
  if (const Entry* e = s.find("batch_bytes")) {
    if (std::optional<uint64_t> n = size_value(s, "batch_bytes")) {
      if (*n == 0) {
        add_error(errors, e->file, e->line, "batch_bytes: must be greater than 0");
      }
      out.batch_bytes = *n;
    }
  }
  out.flush_interval = duration_value(s, "flush_interval").value_or(out.flush_interval);
  out.gzip = string_value(s, "compress").value_or("none") == "gzip";
  if (const Entry* e = s.find("retry_max")) {
    if (std::optional<Duration> d = duration_value(s, "retry_max")) {
      if (d->count() <= 0) {
        add_error(errors, e->file, e->line, "retry_max: must be greater than 0");
      }
      out.retry_max = *d;
    }
  }
  if (const Entry* e = s.find("spool_max")) {
    if (std::optional<uint64_t> n = size_value(s, "spool_max")) {
      if (*n < kMinSpool) {
        add_error(errors, e->file, e->line, "spool_max: must be at least 4KiB");
      }
      out.spool_max = *n;
    }
  }
  out.drop_newest = string_value(s, "spool_full").value_or("drop_oldest") == "drop_newest";
  // `unknown` ranks as `warning` (docs/CONFIGURATION.md), so it filters as warning does.
  out.min_severity = string_value(s, "min_severity").value_or("warning") == "critical"
                         ? CheckState::kCritical
                         : CheckState::kWarning;
  out.min_level = int_value(s, "min_level").value_or(0);
  read_send(s, &out, errors);
  return out;
}

}  // namespace vigil
