#include "plugins/tcp/tcp.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "agent/plugin/probe_collector.h"
#include "agent/util/regex.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr std::string_view kMetrics[] = {"up", "connect_seconds", "cert_expiry_days"};
constexpr size_t kMessageMax = 1024;

struct TcpOptions {
  HostPort address;
  bool tls = false;
  std::string send;
  std::optional<Entry> expect;
  std::string ca_file;
  bool tls_verify = true;
};

Status set_address(TcpOptions& o, const Entry& e) {
  Result<HostPort> a = parse_address(trim(e.value));
  if (!a.ok()) {
    return make_error("address: " + a.error());
  }
  o.address = std::move(a.value());
  return {};
}

Status set_send(TcpOptions& o, const Entry& e) {
  Result<std::string> s = unescape_send(e.value);
  if (!s.ok()) {
    return make_error("send: " + s.error());
  }
  o.send = std::move(s.value());
  return {};
}

const KeyTable<TcpOptions> kKeys = {
    key<TcpOptions>("address", ValueType::kString, set_address)
        .required()
        .help("`HOST:PORT` or `[IPv6]:PORT`"),
    key("tls", &TcpOptions::tls)
        .default_value("false")
        .help("do a TLS handshake once connected (and report the certificate's expiry)"),
    key<TcpOptions>("send", ValueType::kString, set_send)
        .help("text sent once connected; `\\r`, `\\n`, `\\t`, `\\\\` are escapes"),
    key("expect", &TcpOptions::expect)
        .regex()
        .help("regex (PCRE2) the first line received must match for `up`"),
    key("ca_file", &TcpOptions::ca_file)
        .path()
        .default_text("system CAs")
        .help("CA certificates to trust"),
    key("tls_verify", &TcpOptions::tls_verify)
        .default_value("true")
        .help("peer and host name verification"),
    // Read by the core, which gives a check without rules `up == 0` at this state.
    key<TcpOptions>("severity", ValueType::kChoice)
        .choices("warning,critical")
        .default_value("critical")
        .help("state of a check without rules while `up == 0`"),
};

struct Config {
  TcpOptions options;
  std::optional<Regex> expect;
};

Sample to_sample(const Config& c, const ProbeResult& r) {
  Sample s;
  bool connected = r.error.empty();
  std::optional<bool> matched;
  if (c.expect) {
    matched = connected && c.expect->search(r.line);
  }
  bool up = connected && matched.value_or(true);
  s.set("up", up ? 1 : 0);
  if (r.connect_seconds) {
    s.set("connect_seconds", *r.connect_seconds);
  }
  if (r.cert_not_after) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    s.set("cert_expiry_days",
          (static_cast<double>(*r.cert_not_after) * 1000 - static_cast<double>(now)) / 86400000.0);
  }
  std::string message;
  if (!connected) {
    message = r.error;
  } else if (c.expect) {
    message = (*matched ? "" : "the first line does not match: ") + r.line;
  } else {
    message = "connected";
  }
  if (!message.empty()) {
    s.message = sanitize_utf8(message, kMessageMax);
  }
  return s;
}

// The request of one collection.
ProbeRequest request(const Config& config, const CollectContext& ctx) {
  const TcpOptions& o = config.options;
  ProbeRequest req;
  req.kind = ProbeRequest::Kind::kTcp;
  req.host = o.address.host;
  req.port = o.address.port;
  req.tls = o.tls;
  req.send = o.send;
  req.read_line = config.expect.has_value();
  req.ca_file = o.ca_file;
  req.tls_verify = o.tls_verify;
  req.timeout = probe_timeout(ctx.timeout);
  return req;
}

Result<std::unique_ptr<Collector>> create(const TcpOptions& options, const PluginConfig& config) {
  (void)config;
  auto c = std::make_shared<Config>();
  c->options = options;
  auto re = key_regex(options.expect, "expect");
  if (!re.ok()) {
    return re.error_info();
  }
  c->expect = std::move(re.value());
  return make_probe_collector<Config>("tcp", std::move(c));
}

}  // namespace

Result<HostPort> parse_address(std::string_view text) {
  HostPort out;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("expected [IPv6]:PORT");
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return make_error("'" + std::string(text) + "' has no port (HOST:PORT)");
    }
    if (text.find(':') != colon) {
      return make_error("an IPv6 address goes in brackets: [ADDRESS]:PORT");
    }
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) {
    return make_error("no host (HOST:PORT)");
  }
  std::optional<int> p = parse_int(port);
  if (!p || *p < 1 || *p > 65535) {
    return make_error("port '" + std::string(port) + "' is not a number from 1 to 65535");
  }
  out.port = *p;
  return out;
}

Result<std::string> unescape_send(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) {
      return make_error("a lone \\ at the end (write \\\\)");
    }
    switch (text[i]) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '\\':
        out += '\\';
        break;
      default:
        return make_error(std::string("unknown escape \\") + text[i] + " (\\n \\r \\t \\\\)");
    }
  }
  return out;
}

const Plugin kTcpPlugin = {
    .name = "tcp",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .default_rule = "up == 0",
    .severity_key = "severity",
    .create = create_with<kKeys, create>,
    .default_timeout = "10s",
};

}  // namespace vigil
