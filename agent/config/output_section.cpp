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

// What the [output] keys fill: the output, and the lines of `token` and
// `token_file`, which exclude each other.
struct OutputKeys : OutputConfig {
  std::optional<Entry> token_line;
  std::optional<Entry> token_file_line;
  std::optional<bool> skip_silenced_given;  // its default depends on the format
};

Status set_url(OutputConfig& out, const Entry& e) {
  out.url = std::string(trim(e.value));
  if (!is_valid_url(out.url)) {
    // Shown only when it looks like a URL: a value with no scheme may be a
    // token pasted into the wrong key.
    std::string shown =
        out.url.find("://") != std::string::npos ? " '" + shown_url(out.url) + "'" : "";
    return make_error("url: invalid url" + shown +
                      " (use https://…, http://…, stdout or file:PATH)");
  }
  return {};
}

Status set_format(OutputConfig& out, const Entry& e) {
  std::string_view format = trim(e.value);
  out.format = format == "pagerduty"      ? OutputFormat::kPagerDuty
               : format == "alertmanager" ? OutputFormat::kAlertmanager
                                          : OutputFormat::kVigil;
  return {};
}

Status set_token(OutputKeys& keys, const Entry& e) {
  keys.token = std::string(trim(e.value));
  keys.token_line = e;
  return {};
}

// Read once both keys are known (read_token_file).
Status set_token_file(OutputKeys& keys, const Entry& e) {
  keys.token_file_line = e;
  return {};
}

Status set_routing_key(OutputConfig& out, const Entry& e) {
  out.routing_key = std::string(trim(e.value));
  return {};
}

Status add_header(OutputConfig& out, const Entry& e) {
  size_t colon = e.value.find(':');
  std::string_view name =
      colon == std::string::npos ? "" : trim(std::string_view(e.value).substr(0, colon));
  // Header values are secrets (API keys, tokens): the error shows no part of
  // the line, which may hold nothing but the value.
  if (colon == std::string::npos) {
    return make_error("header: expected 'Name: value' (no ':' found; the value is not shown)");
  }
  if (!is_header_name(name)) {
    return make_error(
        "header: invalid header name before ':' (letters, digits and "
        "!#$%&'*+-.^_`|~; the value is not shown)");
  }
  out.headers.emplace_back(std::string(name),
                           std::string(trim(std::string_view(e.value).substr(colon + 1))));
  return {};
}

// A TLS file: curl reads it at the first request, so check-config and a
// reload find out now whether it can.
template <std::string OutputConfig::*Member>
Status set_readable_file(OutputConfig& out, const Entry& e) {
  std::string path(trim(e.value));
  out.*Member = path;
  if (Status st = check_readable(path); !st.ok()) {
    return make_error(e.key + ": cannot read '" + path + "': " + st.error());
  }
  return {};
}

Status set_proxy(OutputConfig& out, const Entry& e) {
  out.proxy = std::string(trim(e.value));
  if (userinfo_span(out.proxy).second != 0) {
    return make_error(
        "proxy: credentials in the proxy URL are not supported (use http://HOST:PORT; the value "
        "is not shown)");
  }
  if (!is_proxy_url(out.proxy)) {
    std::string shown =
        out.proxy.find("://") != std::string::npos ? " '" + shown_url(out.proxy) + "'" : "";
    return make_error("proxy: invalid proxy" + shown + " (use http://HOST:PORT)");
  }
  return {};
}

Status set_compress(OutputConfig& out, const Entry& e) {
  out.gzip = trim(e.value) == "gzip";
  return {};
}

Status set_spool_full(OutputConfig& out, const Entry& e) {
  out.drop_newest = trim(e.value) == "drop_newest";
  return {};
}

Status set_min_severity(OutputConfig& out, const Entry& e) {
  // `unknown` ranks as `warning`, so it filters as warning does.
  out.min_severity = trim(e.value) == "critical" ? CheckState::kCritical : CheckState::kWarning;
  return {};
}

Status set_silenced(OutputKeys& keys, const Entry& e) {
  keys.skip_silenced_given = trim(e.value) == "skip";
  return {};
}

Status set_send(OutputConfig& out, const Entry& e) {
  out.send_event = out.send_incident = out.send_problem = out.send_heartbeat = false;
  std::vector<std::string> kinds = split_list(e.value);
  if (kinds.empty()) {
    return make_error("send: empty (use a list of event, incident, problem, heartbeat)");
  }
  for (const std::string& kind : kinds) {
    if (kind == "event") {
      out.send_event = true;
    } else if (kind == "incident") {
      out.send_incident = true;
    } else if (kind == "problem") {
      out.send_problem = true;
    } else if (kind == "heartbeat") {
      out.send_heartbeat = true;
    } else {
      return make_error("send: unknown record kind '" + kind +
                        "' (use event, incident, problem, heartbeat)");
    }
  }
  return {};
}

const KeyTable<OutputKeys>& output_key_table() {
  static const KeyTable<OutputKeys> kTable = {
      key<OutputConfig>("url", ValueType::kString, set_url)
          .required()
          .help("`https://…`, `http://…`, `stdout`, or `file:PATH` (JSON lines)"),
      key<OutputConfig>("format", ValueType::kChoice, set_format)
          .choices("vigil,pagerduty,alertmanager")
          .default_value("vigil")
          .help("record format"),
      key<OutputKeys>("token", ValueType::kString, set_token)
          .help("sent as `Authorization: Bearer …`; never logged"),
      key<OutputKeys>("token_file", ValueType::kPath, set_token_file)
          .help("file holding the token (surrounding white space stripped); a readable regular "
                "file"),
      key<OutputConfig>("routing_key", ValueType::kString, set_routing_key)
          .help("PagerDuty integration key"),
      key<OutputConfig>("header", ValueType::kString, add_header)
          .repeatable()
          .help("`Name: value`, an extra request header"),
      key<OutputConfig>("ca_file", ValueType::kPath, set_readable_file<&OutputConfig::ca_file>)
          .default_text("system CAs")
          .help("CA certificates to trust; a readable regular file"),
      key<OutputConfig>("cert_file", ValueType::kPath, set_readable_file<&OutputConfig::cert_file>)
          .help("client certificate (PEM); a readable regular file"),
      key<OutputConfig>("key_file", ValueType::kPath, set_readable_file<&OutputConfig::key_file>)
          .help("client certificate's key (PEM); a readable regular file"),
      key("tls_verify", &OutputConfig::tls_verify)
          .default_value("true")
          .help("peer and host name verification"),
      key<OutputConfig>("proxy", ValueType::kString, set_proxy)
          .help("`http://HOST:PORT`; without it no proxy is used, whatever the environment says"),
      key("timeout", &OutputConfig::timeout)
          .default_value("10s")
          .greater_than("0")
          .help("per request"),
      key("batch_max", &OutputConfig::batch_max)
          .integer()
          .default_value("500")
          .at_least("1")
          .help("most records per request"),
      key("batch_bytes", &OutputConfig::batch_bytes)
          .default_value("1MiB")
          .greater_than("0")
          .help("most bytes of records per request"),
      key("flush_interval", &OutputConfig::flush_interval)
          .default_value("1s")
          .help("how long records wait for a batch to fill"),
      key<OutputConfig>("compress", ValueType::kChoice, set_compress)
          .choices("none,gzip")
          .default_value("none")
          .help("request body compression"),
      key("retry_max", &OutputConfig::retry_max)
          .default_value("5m")
          .greater_than("0")
          .help("ceiling of exponential backoff with jitter"),
      key("spool_max", &OutputConfig::spool_max)
          .default_value("256MiB")
          .at_least("4KiB")
          .help("spool size cap"),
      key<OutputConfig>("spool_full", ValueType::kChoice, set_spool_full)
          .choices("drop_oldest,drop_newest")
          .default_value("drop_oldest")
          .help("what a full spool drops; every drop is counted"),
      key("spool_priority", &OutputConfig::spool_priority)
          .default_value("on")
          .help("at the cap, events and heartbeats are dropped before incidents and problems "
                "(docs/SPOOL.md)"),
      key<OutputConfig>("min_severity", ValueType::kChoice, set_min_severity)
          .choices("warning,critical,unknown")
          .default_value("warning")
          .help("incident records below it are not sent (`unknown` ranks as `warning`)"),
      key("min_level", &OutputConfig::min_level)
          .default_value("0")
          .help("incident records are sent from the one that reached this escalation level "
                "through to its `resolve`"),
      key<OutputConfig>("send", ValueType::kList, set_send)
          .default_value("event, incident, problem, heartbeat")
          .help("record kinds this output takes (pagerduty, alertmanager: incidents only)"),
      key<OutputKeys>("silenced", ValueType::kChoice, set_silenced)
          .choices("send,skip")
          .default_text("send; skip for pagerduty and alertmanager")
          .help("whether records of a silenced incident are sent; with `skip` the incident is "
                "sent once its silence ends while it is open (docs/SILENCES.md)"),
  };
  return kTable;
}

// token_file, unless token is given too.
void read_token_file(OutputKeys* keys, ConfigErrors* errors) {
  if (!keys->token_file_line) {
    return;
  }
  const Entry& file = *keys->token_file_line;
  if (keys->token_line) {
    const Entry& later = keys->token_line->line > file.line ? *keys->token_line : file;
    add_error(errors, later.file, later.line, "token and token_file exclude each other");
    return;
  }
  std::string path(trim(file.value));
  // A token is a line of text; anything larger is surely the wrong file.
  Result<std::string> text = read_regular_file(path, 64 * 1024);
  if (!text.ok()) {
    add_error(errors, file.file, file.line, "token_file: " + text.error());
    return;
  }
  keys->token = std::string(trim(text.value()));
  if (keys->token.empty()) {
    add_error(errors, file.file, file.line, "token_file: '" + path + "' is empty");
  }
}

}  // namespace

std::span<const KeySpec> output_key_specs() { return output_key_table().keys(); }

OutputConfig build_output(const ParsedSection& parsed, ConfigErrors* errors) {
  const Section& s = parsed.section;
  const KeyTable<OutputKeys>& table = output_key_table();
  OutputKeys keys;
  (void)table.apply_defaults(&keys);
  fill_section(parsed, {table.target(&keys)}, errors);
  read_token_file(&keys, errors);
  keys.skip_silenced = keys.skip_silenced_given.value_or(keys.format != OutputFormat::kVigil);
  OutputConfig out = std::move(static_cast<OutputConfig&>(keys));
  out.name = s.name.empty() ? "default" : s.name;
  out.file = s.file;
  out.line = s.line;
  if (out.format == OutputFormat::kPagerDuty && out.routing_key.empty() &&
      parsed.broken_keys.count("routing_key") == 0) {
    add_error(errors, s.file, s.line,
              "missing routing_key in " + section_label(s) + " (format pagerduty needs it)");
  }
  return out;
}

}  // namespace vigil
