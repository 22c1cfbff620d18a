#include "plugins/http/http.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "agent/plugin/probe_collector.h"
#include "agent/util/regex.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr std::string_view kMetrics[] = {
    "up",          "status_code",        "duration_seconds", "connect_seconds",
    "tls_seconds", "first_byte_seconds", "cert_expiry_days", "body_match"};

// `match` reads at most this much of the body.
constexpr size_t kBodyCap = 64 * 1024;
// The message becomes an event's text: one line, not a page.
constexpr size_t kMessageMax = 1024;

struct HttpOptions {
  std::string url;
  std::string method;
  StatusRanges expect;
  std::optional<Entry> match;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;
  bool tls_verify = true;
};

Status set_url(HttpOptions& o, const Entry& e) {
  std::string url(trim(e.value));
  if (Status s = check_probe_url(url); !s.ok()) {
    return make_error("url: " + s.error());
  }
  o.url = std::move(url);
  return {};
}

Status set_expect(HttpOptions& o, const Entry& e) {
  Result<StatusRanges> r = parse_expect_status(e.value);
  if (!r.ok()) {
    return make_error("expect_status: " + r.error());
  }
  o.expect = std::move(r.value());
  return {};
}

Status set_header(HttpOptions& o, const Entry& e) {
  size_t colon = e.value.find(':');
  std::string_view name = colon == std::string::npos
                              ? std::string_view()
                              : trim(std::string_view(e.value).substr(0, colon));
  bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
  if (!token) {
    // The value is not shown: it may be a credential.
    return make_error("header: expected 'Name: value'");
  }
  o.headers.emplace_back(std::string(name),
                         std::string(trim(std::string_view(e.value).substr(colon + 1))));
  return {};
}

const KeyTable<HttpOptions> kKeys = {
    key<HttpOptions>("url", ValueType::kString, set_url)
        .required()
        .help("`http://…` or `https://…`; redirects are not followed"),
    key("method", &HttpOptions::method)
        .choices("GET,HEAD")
        .default_value("GET")
        .help("request method"),
    key<HttpOptions>("expect_status", ValueType::kList, set_expect)
        .default_value("200-399")
        .help("status codes that count as up: codes and ranges, `200-299, 418`"),
    key("match", &HttpOptions::match)
        .regex()
        .help("regex (PCRE2) the first 64 KiB of the body must match for `up`"),
    key<HttpOptions>("header", ValueType::kString, set_header)
        .repeatable()
        .help("`Name: value`, an extra request header; never logged"),
    key("ca_file", &HttpOptions::ca_file)
        .path()
        .default_text("system CAs")
        .help("CA certificates to trust"),
    key("tls_verify", &HttpOptions::tls_verify)
        .default_value("true")
        .help("peer and host name verification"),
    // Read by the core, which gives a check without rules `up == 0` at this state.
    key<HttpOptions>("severity", ValueType::kChoice)
        .choices("warning,critical")
        .default_value("critical")
        .help("state of a check without rules while `up == 0`"),
};

struct Config {
  HttpOptions options;
  std::optional<Regex> match;
};

Sample to_sample(const Config& c, const ProbeResult& r) {
  Sample s;
  bool answered = r.error.empty();
  bool status_ok = answered && status_expected(c.options.expect, r.status);
  std::optional<bool> matched;
  if (c.match) {
    matched = answered && c.match->search(r.body);
  }
  bool up = status_ok && matched.value_or(true);
  s.set("up", up ? 1 : 0);
  s.set("status_code", static_cast<double>(r.status));
  s.set("duration_seconds", r.total_seconds);
  if (r.connect_seconds) {
    s.set("connect_seconds", *r.connect_seconds);
  }
  if (r.tls_seconds) {
    s.set("tls_seconds", *r.tls_seconds);
  }
  if (r.first_byte_seconds) {
    s.set("first_byte_seconds", *r.first_byte_seconds);
  }
  if (r.cert_not_after) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    s.set("cert_expiry_days",
          (static_cast<double>(*r.cert_not_after) * 1000 - static_cast<double>(now)) / 86400000.0);
  }
  if (matched) {
    s.set("body_match", *matched ? 1 : 0);
  }
  std::string message = answered ? r.status_line : r.error;
  if (status_ok && matched && !*matched) {
    message += " (the body does not match)";
  }
  if (!message.empty()) {
    s.message = sanitize_utf8(message, kMessageMax);
  }
  return s;
}

// The request of one collection.
ProbeRequest request(const Config& config, const CollectContext& ctx) {
  const HttpOptions& o = config.options;
  ProbeRequest req;
  req.kind = ProbeRequest::Kind::kHttp;
  req.url = o.url;
  req.method = o.method;
  req.headers = o.headers;
  req.body_cap = config.match ? kBodyCap : 0;
  req.ca_file = o.ca_file;
  req.tls_verify = o.tls_verify;
  req.timeout = probe_timeout(ctx.timeout);
  return req;
}

Result<std::unique_ptr<Collector>> create(const HttpOptions& options, const PluginConfig& config) {
  (void)config;
  auto c = std::make_shared<Config>();
  c->options = options;
  auto re = key_regex(options.match, "match");
  if (!re.ok()) {
    return re.error_info();
  }
  c->match = std::move(re.value());
  return make_probe_collector<Config>("http", std::move(c));
}

}  // namespace

Result<StatusRanges> parse_expect_status(std::string_view text) {
  StatusRanges out;
  std::vector<std::string> items = split_list(text);
  if (items.empty()) {
    return make_error("empty: give codes or ranges, such as 200-399");
  }
  for (const std::string& item : items) {
    size_t dash = item.find('-');
    std::optional<int> lo = parse_int(trim(std::string_view(item).substr(0, dash)));
    std::optional<int> hi =
        dash == std::string::npos ? lo : parse_int(trim(std::string_view(item).substr(dash + 1)));
    if (!lo || !hi || *lo < 100 || *hi > 599 || *lo > *hi) {
      return make_error("'" + item +
                        "' is not a status code (100-599) or a range of them (LOW-HIGH)");
    }
    out.emplace_back(*lo, *hi);
  }
  return out;
}

bool status_expected(const StatusRanges& ranges, long status) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [status](const auto& r) { return status >= r.first && status <= r.second; });
}

Status check_probe_url(std::string_view url) {
  size_t rest = 0;
  if (url.rfind("http://", 0) == 0) {
    rest = 7;
  } else if (url.rfind("https://", 0) == 0) {
    rest = 8;
  } else {
    return make_error("must start with http:// or https://");
  }
  std::string_view authority = url.substr(rest);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  if (authority.empty() || authority[0] == ':') {
    return make_error("has no host");
  }
  if (url.find_first_of(" \t") != std::string_view::npos) {
    return make_error("may not contain blanks");
  }
  return {};
}

const Plugin kHttpPlugin = {
    .name = "http",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .default_rule = "up == 0",
    .severity_key = "severity",
    .create = create_with<kKeys, create>,
    .default_timeout = "10s",
};

}  // namespace vigil
