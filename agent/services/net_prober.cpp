#include "agent/services/net_prober.h"

#include <uv.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <utility>

#include "agent/outputs/http_client.h"

namespace vigil {
namespace {

// A tcp probe reads at most this much looking for the first line.
constexpr size_t kLineCap = kMaxProbeLineBytes;

double seconds_since(uint64_t start_ns) {
  return static_cast<double>(uv_hrtime() - start_ns) / 1e9;
}

// libuv's codes are negated errno values on Unix (but for name lookups): the
// system's own words, "Connection refused", as curl's messages end.
std::string system_error(int code) { return strerror(-code); }

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

HttpRequest to_http(const ProbeRequest& p) {
  HttpRequest h;
  if (p.kind == ProbeRequest::Kind::kTcp) {
    // A TLS connection: curl connects and does the handshake, nothing more.
    h.url = "https://" + url_host(p.host) + ":" + std::to_string(p.port) + "/";
    h.method = HttpMethod::kGet;
    h.connect_only = true;
    h.send = p.send;
    h.read_line = p.read_line;
  } else {
    h.url = p.url;
    h.method = p.method == "HEAD" ? HttpMethod::kHead : HttpMethod::kGet;
    h.headers = p.headers;
    h.body_cap = p.body_cap;
  }
  h.timeout = p.timeout;
  h.ca_file = p.ca_file;
  h.tls_verify = p.tls_verify;
  h.fresh_connection = true;
  return h;
}

ProbeResult from_http(HttpResponse r) {
  ProbeResult out;
  if (r.internal_error) {
    out.failure = std::move(r.error);
    return out;
  }
  // A connect-only request (tcp with tls) succeeds without a status.
  if (!r.error.empty()) {
    out.error = std::move(r.error);
  }
  out.status = r.status;
  out.status_line = std::move(r.status_line);
  out.body = std::move(r.body);
  out.line = std::move(r.line);
  out.connect_seconds = r.timings.connect;
  out.tls_seconds = r.timings.tls;
  out.first_byte_seconds = r.timings.first_byte;
  out.total_seconds = r.timings.total;
  out.cert_not_after = r.cert_not_after;
  return out;
}

}  // namespace

struct NetProber::Impl {
  // A plain TCP probe on libuv handles. It frees itself once it has finished
  // and every callback it waits for (requests, closes) has come.
  struct TcpProbe {
    Impl* owner = nullptr;  // null once it no longer reports
    uint64_t id = 0;
    ProbeRequest request;
    ProbeResult result;
    uint64_t start_ns = 0;
    uv_getaddrinfo_t resolve{};
    uv_connect_t connect{};
    uv_write_t write{};
    uv_timer_t timer{};
    uv_tcp_t tcp{};
    bool tcp_open = false;
    bool resolving = false;
    bool finished = false;
    int waiting = 0;       // callbacks still to come
    std::string received;  // at most kLineCap bytes
    char chunk[1024];

    void settle() {
      if (finished && waiting == 0) {
        delete this;
      }
    }

    // One of the probe's libuv requests came back. True when the probe had
    // already finished: it is then freed once nothing else is out, and the
    // caller must not touch it again.
    bool returned_after_finish() {
      --waiting;
      if (!finished) {
        return false;
      }
      settle();
      return true;
    }

    void start() {
      start_ns = uv_hrtime();
      uv_timer_init(owner->loop, &timer);
      timer.data = this;
      uv_timer_start(&timer, &TcpProbe::on_timeout, static_cast<uint64_t>(request.timeout.count()),
                     0);
      resolve.data = this;
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      std::string port = std::to_string(request.port);
      int rc = uv_getaddrinfo(owner->loop, &resolve, &TcpProbe::on_resolved, request.host.c_str(),
                              port.c_str(), &hints);
      if (rc != 0) {
        result.failure = std::string("cannot look up a name: ") + uv_strerror(rc);
        finish();
        return;
      }
      resolving = true;
      ++waiting;
    }

    // Reports (once) and closes everything; frees itself when all is closed.
    void finish() {
      if (finished) {
        return;
      }
      finished = true;
      result.total_seconds = seconds_since(start_ns);
      Impl* o = std::exchange(owner, nullptr);
      if (resolving) {
        uv_cancel(reinterpret_cast<uv_req_t*>(&resolve));  // its callback comes all the same
      }
      ++waiting;
      uv_close(reinterpret_cast<uv_handle_t*>(&timer), &TcpProbe::on_closed);
      if (tcp_open) {
        ++waiting;
        uv_close(reinterpret_cast<uv_handle_t*>(&tcp), &TcpProbe::on_closed);
      }
      if (o != nullptr) {
        o->deliver(id, std::move(result));  // may destroy the prober, never this probe
      }
    }

    // Abandoned: no report.
    void drop() {
      owner = nullptr;
      finish();
    }

    void fail(std::string error) {
      result.error = std::move(error);
      finish();
    }

    static void on_closed(uv_handle_t* h) noexcept {
      auto* self = static_cast<TcpProbe*>(h->data);
      --self->waiting;
      self->settle();
    }

    static void on_timeout(uv_timer_t* t) noexcept {
      auto* self = static_cast<TcpProbe*>(t->data);
      std::string phase = self->resolving                 ? "looking up " + self->request.host
                          : !self->result.connect_seconds ? "connecting"
                                                          : "waiting for a line";
      self->fail("timed out after " + std::to_string(self->request.timeout.count()) + " ms " +
                 phase);
    }

    static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) noexcept {
      auto* self = static_cast<TcpProbe*>(req->data);
      self->resolving = false;
      if (self->returned_after_finish()) {
        uv_freeaddrinfo(res);
        return;
      }
      if (status < 0 || res == nullptr) {
        uv_freeaddrinfo(res);
        self->fail("cannot resolve " + self->request.host + ": " + uv_strerror(status));
        return;
      }
      int rc = uv_tcp_init(self->owner->loop, &self->tcp);
      if (rc != 0) {
        uv_freeaddrinfo(res);
        self->result.failure = std::string("cannot make a socket: ") + uv_strerror(rc);
        self->finish();
        return;
      }
      self->tcp.data = self;
      self->tcp_open = true;
      self->connect.data = self;
      rc = uv_tcp_connect(&self->connect, &self->tcp, res->ai_addr, &TcpProbe::on_connected);
      uv_freeaddrinfo(res);
      if (rc != 0) {
        if (rc == UV_EMFILE || rc == UV_ENFILE || rc == UV_ENOMEM || rc == UV_ENOBUFS) {
          self->result.failure = "cannot connect: " + system_error(rc);
          self->finish();
        } else {
          self->fail("connect to " + self->target() + ": " + system_error(rc));
        }
        return;
      }
      ++self->waiting;
    }

    std::string target() const {
      return url_host(request.host) + ":" + std::to_string(request.port);
    }

    static void on_connected(uv_connect_t* req, int status) noexcept {
      auto* self = static_cast<TcpProbe*>(req->data);
      if (self->returned_after_finish()) {
        return;
      }
      if (status < 0) {
        self->fail("connect to " + self->target() + ": " + system_error(status));
        return;
      }
      self->result.connect_seconds = seconds_since(self->start_ns);
      if (!self->request.send.empty()) {
        uv_buf_t buf = uv_buf_init(self->request.send.data(),
                                   static_cast<unsigned>(self->request.send.size()));
        self->write.data = self;
        int rc = uv_write(&self->write, reinterpret_cast<uv_stream_t*>(&self->tcp), &buf, 1,
                          &TcpProbe::on_written);
        if (rc != 0) {
          self->fail("send: " + system_error(rc));
          return;
        }
        ++self->waiting;
      }
      if (self->request.read_line) {
        int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp), &TcpProbe::on_alloc,
                               &TcpProbe::on_read);
        if (rc != 0) {
          self->fail("read: " + system_error(rc));
        }
        return;
      }
      if (self->request.send.empty()) {
        self->finish();
      }
    }

    static void on_written(uv_write_t* req, int status) noexcept {
      auto* self = static_cast<TcpProbe*>(req->data);
      if (self->returned_after_finish()) {
        return;
      }
      if (status < 0) {
        self->fail("send: " + system_error(status));
        return;
      }
      if (!self->request.read_line) {
        self->finish();
      }
    }

    static void on_alloc(uv_handle_t* h, size_t /*suggested*/, uv_buf_t* buf) noexcept {
      auto* self = static_cast<TcpProbe*>(h->data);
      *buf = uv_buf_init(self->chunk, sizeof(self->chunk));
    }

    static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept {
      auto* self = static_cast<TcpProbe*>(s->data);
      if (self->finished) {
        return;
      }
      if (n > 0) {
        self->received.append(buf->base,
                              std::min(static_cast<size_t>(n), kLineCap - self->received.size()));
      }
      size_t eol = self->received.find('\n');
      if (n == UV_EOF || eol != std::string::npos || self->received.size() >= kLineCap) {
        std::string line = self->received.substr(0, eol);
        if (!line.empty() && line.back() == '\r') {
          line.pop_back();
        }
        self->result.line = std::move(line);
        self->finish();
      } else if (n < 0) {
        self->fail("read: " + system_error(static_cast<int>(n)));
      }
    }
  };

  struct Pending {
    uint64_t http_id = 0;
    TcpProbe* tcp = nullptr;
    std::function<void(ProbeResult)> done;
  };

  uv_loop_t* loop = nullptr;
  std::unique_ptr<HttpClient> http;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, Pending> pending;
  // Results of probes that ended inside probe(), delivered on the next turn.
  std::deque<std::pair<uint64_t, ProbeResult>> ready;
  uv_timer_t* later = nullptr;  // freed in its close callback
  bool in_probe = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  explicit Impl(uv_loop_t* l) : loop(l) {
    later = new uv_timer_t;
    uv_timer_init(loop, later);
    later->data = this;
  }

  ~Impl() {
    *alive = false;
    for (auto& [id, p] : pending) {
      if (p.tcp != nullptr) {
        p.tcp->drop();
      }
    }
    pending.clear();
    if (http != nullptr) {
      http->close();
      http.reset();
    }
    auto* h = reinterpret_cast<uv_handle_t*>(later);
    h->data = nullptr;
    uv_close(h, [](uv_handle_t* p) { delete reinterpret_cast<uv_timer_t*>(p); });
  }

  void deliver(uint64_t id, ProbeResult result) {
    if (in_probe) {
      ready.emplace_back(id, std::move(result));
      uv_timer_start(later, &Impl::on_later, 0, 0);
      return;
    }
    auto it = pending.find(id);
    if (it == pending.end()) {
      return;
    }
    auto done = std::move(it->second.done);
    pending.erase(it);
    done(std::move(result));
  }

  static void on_later(uv_timer_t* t) noexcept {
    auto* self = static_cast<Impl*>(t->data);
    if (self == nullptr) {
      return;
    }
    std::weak_ptr<bool> token = self->alive;
    while (!self->ready.empty()) {
      auto [id, result] = std::move(self->ready.front());
      self->ready.pop_front();
      self->deliver(id, std::move(result));
      if (token.expired()) {
        return;
      }
    }
  }
};

NetProber::NetProber(uv_loop_t* loop) : impl_(std::make_unique<Impl>(loop)) {}

NetProber::~NetProber() = default;

uint64_t NetProber::probe(ProbeRequest request, std::function<void(ProbeResult)> done) {
  Impl& m = *impl_;
  uint64_t id = m.next_id++;
  Impl::Pending& p = m.pending[id];
  p.done = std::move(done);
  m.in_probe = true;
  if (request.kind == ProbeRequest::Kind::kTcp && !request.tls) {
    auto* t = new Impl::TcpProbe;
    t->owner = &m;
    t->id = id;
    t->request = std::move(request);
    p.tcp = t;
    t->start();
  } else {
    if (m.http == nullptr) {
      m.http = std::make_unique<HttpClient>(m.loop);  // loads libcurl
    }
    Impl* self = &m;
    p.http_id = m.http->request(to_http(request), [self, id](HttpResponse r) {
      self->deliver(id, from_http(std::move(r)));
    });
  }
  m.in_probe = false;
  return id;
}

void NetProber::cancel(uint64_t id) {
  auto it = impl_->pending.find(id);
  if (it == impl_->pending.end()) {
    return;
  }
  Impl::Pending p = std::move(it->second);
  impl_->pending.erase(it);
  if (p.tcp != nullptr) {
    p.tcp->drop();
  } else if (impl_->http != nullptr) {
    impl_->http->cancel(p.http_id);
  }
}

bool NetProber::http_started() const { return impl_->http != nullptr; }

size_t NetProber::in_flight() const { return impl_->pending.size(); }

}  // namespace vigil
