#include "agent/outputs/http_client.h"

#include <strings.h>
#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "agent/outputs/curl_library.h"
#include "agent/util/log.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

// libcurl, loaded by the first client (curl_library.h); set before any transfer
// exists, so every callback below may use it.
const CurlLibrary* g_curl = nullptr;

// A Retry-After of more than this many seconds is treated as this many: it keeps the
// millisecond arithmetic far from overflow, and the caller caps it much lower anyway.
constexpr int64_t kMaxRetryAfterSeconds = 1000000000;

// How long a client keeps the CA store it parsed for its connections.
constexpr long kCaCacheSeconds = 600;

// curl's "act now" runs at the loop's next turn, at most this many times in one
// millisecond of loop time; past that, a millisecond later, so that curl asking
// again and again without progress cannot spin the loop.
constexpr int kActNowPerMillisecond = 64;

// curl's upload buffer, per request: the body and headers, within these bounds
// (curl's own: 16 KiB to 2 MiB).
constexpr size_t kMinUploadBuffer = 16 << 10;
constexpr size_t kMaxUploadBuffer = 256 << 10;

bool header_name_is(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         strncasecmp(line.data(), name.data(), name.size()) == 0;
}

}  // namespace

std::string libcurl_version_problem(unsigned version_num, std::string_view version) {
  if (version_num >= kMinLibcurlVersionNum) {
    return {};
  }
  std::string shown(version);
  if (shown.empty()) {
    shown = std::to_string((version_num >> 16) & 0xff) + "." +
            std::to_string((version_num >> 8) & 0xff) + "." + std::to_string(version_num & 0xff);
  }
  return "libcurl " + shown + " is too old: vigil needs " + std::string(kMinLibcurlVersion) +
         " or later for HTTP outputs";
}

std::string http_unavailable_reason() {
  std::string error;
  if (curl_library(&error) == nullptr) {
    return error;
  }
  return {};
}

std::optional<Duration> parse_retry_after(std::string_view value, SystemTime now) {
  value = trim(value);
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range || seconds > kMaxRetryAfterSeconds) {
      seconds = kMaxRetryAfterSeconds;
    } else if (ec != std::errc() || ptr != value.data() + value.size()) {
      return std::nullopt;
    }
    return Duration(seconds * 1000);
  }
  // Anything else must be a date, which names its month: curl_getdate would read
  // "-5" as a time of day.
  if (std::none_of(value.begin(), value.end(), [](char c) { return isalpha(c) != 0; })) {
    return std::nullopt;
  }
  // An HTTP date (RFC 9110: IMF-fixdate, or the obsolete RFC 850 and asctime forms,
  // all of which curl_getdate reads).
  std::string text(value);
  const CurlLibrary* curl = curl_library(nullptr);
  if (curl == nullptr) {
    return std::nullopt;
  }
  time_t when = curl->getdate(text.c_str(), nullptr);
  if (when == -1) {
    return std::nullopt;
  }
  auto delta =
      std::chrono::duration_cast<Duration>(std::chrono::system_clock::from_time_t(when) - now);
  if (delta.count() < 0) {
    return Duration(0);
  }
  return std::min(delta, Duration(kMaxRetryAfterSeconds * 1000));
}

struct HttpClient::Impl {
  // One POST in flight. Owned by Impl::transfers; curl reaches it through
  // CURLOPT_PRIVATE and its write and header callbacks' userdata.
  struct Transfer {
    Impl* owner = nullptr;
    uint64_t id = 0;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    HttpRequest request;
    HttpResponse response;
    std::string retry_after;  // the raw header of the final reply
    std::function<void(HttpResponse)> done;
    char error[CURL_ERROR_SIZE] = {};
    uint64_t start_ns = 0;
    // A connect_only request's conversation once connected (send, read_line):
    // its own watch of the connection's socket and its deadline.
    uv_poll_t* talk_poll = nullptr;    // freed in its close callback
    uv_timer_t* talk_timer = nullptr;  // freed in its close callback
    size_t sent = 0;
    std::string received;

    void stop_talking() {
      if (talk_poll != nullptr) {
        close_poll(std::exchange(talk_poll, nullptr));
      }
      if (talk_timer != nullptr) {
        auto* h = reinterpret_cast<uv_handle_t*>(std::exchange(talk_timer, nullptr));
        h->data = nullptr;
        uv_close(h, [](uv_handle_t* p) { delete reinterpret_cast<uv_timer_t*>(p); });
      }
    }

    ~Transfer() {
      stop_talking();
      if (easy != nullptr) {
        g_curl->easy_cleanup(easy);
      }
      g_curl->slist_free_all(headers);
    }
  };

  // One socket curl asked us to watch; reached from curl through curl_multi_assign
  // and from libuv through poll->data.
  struct Socket {
    Impl* owner = nullptr;
    curl_socket_t fd = CURL_SOCKET_BAD;
    uv_poll_t* poll = nullptr;  // freed in its close callback
  };

  uv_loop_t* loop = nullptr;
  std::string load_error;  // why libcurl could not be loaded
  CURLM* multi = nullptr;
  CURLSH* share = nullptr;
  uv_timer_t* timer = nullptr;  // freed in its close callback
  // curl's "act now" (a timeout of 0): runs at the loop's next turn (on_curl_timer).
  uv_idle_t* now = nullptr;  // freed in its close callback
  uint64_t act_now_ms = 0;   // the loop time of the last "act now", and how many in it
  int act_now_count = 0;
  int running = 0;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers;
  std::unordered_map<curl_socket_t, std::unique_ptr<Socket>> sockets;
  // Shared with the loop of check_done(), which must stop at once when a callback
  // destroys the client.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  explicit Impl(uv_loop_t* l) : loop(l) {
    g_curl = curl_library(&load_error);
    if (g_curl == nullptr) {
      log_error("HTTP outputs and probes cannot run: " + load_error);
    } else {
      multi = g_curl->multi_init();
      share = g_curl->share_init();
    }
    timer = new uv_timer_t;
    uv_timer_init(loop, timer);
    timer->data = this;
    now = new uv_idle_t;
    uv_idle_init(loop, now);
    now->data = this;
    if (share != nullptr) {
      // TLS sessions and DNS answers outlive each transfer's easy handle, so a new
      // connection to the same endpoint resumes its TLS session. All on one thread:
      // no lock functions needed.
      g_curl->share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
      g_curl->share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    if (multi != nullptr) {
      g_curl->multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_curl_socket);
      g_curl->multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
      g_curl->multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_curl_timer);
      g_curl->multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    }
  }

  ~Impl() {
    *alive = false;
    shutdown();
  }

  // Aborts all transfers and closes every handle. Safe to call twice.
  void shutdown() {
    // Stop watching the sockets first, while curl still has them open, so libuv
    // never holds a descriptor curl has closed (and the kernel may have reused).
    for (auto& [fd, socket] : sockets) {
      close_poll(socket->poll);
    }
    sockets.clear();
    if (multi != nullptr) {
      // Teardown must not reach back into libuv: the callbacks see multi == nullptr.
      CURLM* m = std::exchange(multi, nullptr);
      for (auto& [id, transfer] : transfers) {
        g_curl->multi_remove_handle(m, transfer->easy);
      }
      transfers.clear();
      g_curl->multi_cleanup(m);
    }
    transfers.clear();
    if (share != nullptr) {
      g_curl->share_cleanup(std::exchange(share, nullptr));
    }
    if (timer != nullptr) {
      auto* h = reinterpret_cast<uv_handle_t*>(std::exchange(timer, nullptr));
      h->data = nullptr;
      uv_close(h, [](uv_handle_t* p) { delete reinterpret_cast<uv_timer_t*>(p); });
    }
    if (now != nullptr) {
      auto* h = reinterpret_cast<uv_handle_t*>(std::exchange(now, nullptr));
      h->data = nullptr;
      uv_close(h, [](uv_handle_t* p) { delete reinterpret_cast<uv_idle_t*>(p); });
    }
  }

  static void close_poll(uv_poll_t* poll) {
    auto* h = reinterpret_cast<uv_handle_t*>(poll);
    h->data = nullptr;  // a late callback must not reach a dead Socket
    uv_close(h, [](uv_handle_t* p) { delete reinterpret_cast<uv_poll_t*>(p); });
  }

  // Builds the easy handle. Returns curl's message on failure.
  std::string setup(Transfer* t) {
    t->easy = g_curl->easy_init();
    if (t->easy == nullptr) {
      return "curl_easy_init failed";
    }
    CURL* e = t->easy;
    const HttpRequest& r = t->request;
    for (const auto& [name, value] : r.headers) {
      std::string line = name + ": " + value;
      t->headers = g_curl->slist_append(t->headers, line.c_str());
    }
    // curl would send "Expect: 100-continue" for large bodies and wait up to a
    // second for an interim reply that many receivers never send.
    t->headers = g_curl->slist_append(t->headers, "Expect:");

    CURLcode rc = CURLE_OK;
    auto set = [&rc](CURLcode c) {
      if (rc == CURLE_OK) {
        rc = c;
      }
    };
    set(g_curl->easy_setopt(e, CURLOPT_PRIVATE, t));
    set(g_curl->easy_setopt(e, CURLOPT_ERRORBUFFER, t->error));
    set(g_curl->easy_setopt(e, CURLOPT_URL, r.url.c_str()));
    switch (r.method) {
      case HttpMethod::kPost:
        set(g_curl->easy_setopt(e, CURLOPT_POST, 1L));
        set(g_curl->easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data()));
        set(g_curl->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                                static_cast<curl_off_t>(r.body.size())));
        break;
      case HttpMethod::kGet:
        set(g_curl->easy_setopt(e, CURLOPT_HTTPGET, 1L));
        break;
      case HttpMethod::kHead:
        set(g_curl->easy_setopt(e, CURLOPT_NOBODY, 1L));
        break;
    }
    if (r.connect_only) {
      set(g_curl->easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L));
    }
    // Over TLS, curl copies what it sends through a buffer of this size (64 KiB by
    // default), one loop turn per bufferful: a batch body fits in one up to
    // kMaxUploadBuffer, and a probe's request takes 16 KiB, not 64.
    set(g_curl->easy_setopt(
        e, CURLOPT_UPLOAD_BUFFERSIZE,
        static_cast<long>(std::clamp<size_t>(r.body.size() + kMinUploadBuffer, kMinUploadBuffer,
                                             kMaxUploadBuffer))));
    if (r.fresh_connection) {
      // A probe measures a whole connection and must see the certificates: no
      // connection from the cache, none left in it, no TLS session resumed
      // (a resumed TLS 1.3 session shows no certificate).
      set(g_curl->easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L));
      // A conversation after connect_only needs its connection kept in the
      // multi's cache until it ends (curl never reuses a connect-only one).
      bool talks = r.connect_only && (!r.send.empty() || r.read_line);
      set(g_curl->easy_setopt(e, CURLOPT_FORBID_REUSE, talks ? 0L : 1L));
      set(g_curl->easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L));
      set(g_curl->easy_setopt(e, CURLOPT_CERTINFO, 1L));
    }
    set(g_curl->easy_setopt(e, CURLOPT_HTTPHEADER, t->headers));
    set(g_curl->easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION));
    set(g_curl->easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_curl_write));
    set(g_curl->easy_setopt(e, CURLOPT_WRITEDATA, t));
    set(g_curl->easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_curl_header));
    set(g_curl->easy_setopt(e, CURLOPT_HEADERDATA, t));
    // Signals would hit the whole agent; the multi interface never needs them.
    set(g_curl->easy_setopt(e, CURLOPT_NOSIGNAL, 1L));
    set(g_curl->easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count())));
    // Keepalive probes matter to connections that are kept, not to a probe's.
    set(g_curl->easy_setopt(e, CURLOPT_TCP_KEEPALIVE, r.fresh_connection ? 0L : 1L));
    // curl 7.88 makes its sockets without close-on-exec: made here, with it.
    set(g_curl->easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Impl::on_curl_open_socket));
    // Only http and https, and no redirects: a 3xx is reported to the caller, which
    // retries it like an error (docs/DELIVERY.md). Never CURLOPT_VERBOSE: it prints the
    // Authorization header.
    set(g_curl->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"));
    set(g_curl->easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
    set(g_curl->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L));
    // Set always: left unset, curl takes http_proxy / https_proxy / ALL_PROXY from
    // the environment, and "" is the one value that turns them all off.
    set(g_curl->easy_setopt(e, CURLOPT_PROXY, r.proxy.c_str()));
    set(g_curl->easy_setopt(e, CURLOPT_NOPROXY, ""));
    // libcurl 7.88 still accepts TLS 1.0 unless told otherwise.
    set(g_curl->easy_setopt(e, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
    set(g_curl->easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.tls_verify ? 1L : 0L));
    set(g_curl->easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.tls_verify ? 2L : 0L));
    // The CAs trusted are one file: ca_file, or else libcurl's bundle of the system's.
    // Debian's libcurl also searches a CA folder (/etc/ssl/certs) unless told not to,
    // and while it does, it parses the CA file again for every new connection (the
    // system bundle: ~1 MiB of heap and milliseconds of CPU, for each probe) instead
    // of keeping one parsed store per client for all of them. Without the folder the
    // store is shared, and read again after kCaCacheSeconds, so that a replaced
    // ca_file reaches new connections.
    set(g_curl->easy_setopt(e, CURLOPT_CAPATH, nullptr));
    // Came in 7.87.0: an older libcurl refuses it and parses the file per connection.
    g_curl->easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, kCaCacheSeconds);
    if (!r.ca_file.empty()) {
      set(g_curl->easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str()));
    }
    if (!r.cert_file.empty()) {
      set(g_curl->easy_setopt(e, CURLOPT_SSLCERT, r.cert_file.c_str()));
    }
    if (!r.key_file.empty()) {
      set(g_curl->easy_setopt(e, CURLOPT_SSLKEY, r.key_file.c_str()));
    }
    if (share != nullptr) {
      set(g_curl->easy_setopt(e, CURLOPT_SHARE, share));
    }
    if (rc != CURLE_OK) {
      return std::string("curl setup failed: ") + g_curl->easy_strerror(rc);
    }
    CURLMcode mc = g_curl->multi_add_handle(multi, e);
    if (mc != CURLM_OK) {
      return std::string("curl_multi_add_handle failed: ") + g_curl->multi_strerror(mc);
    }
    return {};
  }

  // Delivers every finished transfer. Called after each curl_multi_socket_action,
  // never from inside a curl callback, so a `done` may post, cancel or close.
  void check_done() {
    std::weak_ptr<bool> token = alive;
    while (multi != nullptr) {
      int pending = 0;
      CURLMsg* msg = g_curl->multi_info_read(multi, &pending);
      if (msg == nullptr) {
        return;
      }
      if (msg->msg != CURLMSG_DONE) {
        continue;
      }
      CURL* easy = msg->easy_handle;
      CURLcode result = msg->data.result;
      Transfer* raw = nullptr;
      g_curl->easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
      auto it = raw != nullptr ? transfers.find(raw->id) : transfers.end();
      if (it == transfers.end()) {
        g_curl->multi_remove_handle(multi, easy);
        continue;
      }
      if (result == CURLE_OK && raw->request.connect_only &&
          (!raw->request.send.empty() || raw->request.read_line)) {
        // Connected: the conversation goes on with the handle still in the
        // multi (curl_easy_send and curl_easy_recv find the connection there).
        start_talk(raw);
        if (token.expired()) {
          return;
        }
        continue;
      }
      std::unique_ptr<Transfer> t = std::move(it->second);
      transfers.erase(it);
      g_curl->multi_remove_handle(multi, easy);
      HttpResponse response = finish(t.get(), result);
      auto done = std::move(t->done);
      t.reset();
      done(std::move(response));
      if (token.expired()) {
        return;  // the callback destroyed the client
      }
    }
  }

  // --- a connect_only request's conversation ---

  void start_talk(Transfer* t) {
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (g_curl->easy_getinfo(t->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
        fd == CURL_SOCKET_BAD) {
      end_talk(t, "the connection is gone");
      return;
    }
    // curl watches a connect-only connection no more once connected; make sure
    // our watch of it is gone too, so that only one poll has the descriptor.
    if (auto s = sockets.find(fd); s != sockets.end()) {
      g_curl->multi_assign(multi, fd, nullptr);
      close_poll(s->second->poll);
      sockets.erase(s);
    }
    t->talk_poll = new uv_poll_t;
    if (int rc = uv_poll_init_socket(loop, t->talk_poll, fd); rc != 0) {
      delete std::exchange(t->talk_poll, nullptr);
      end_talk(t, std::string("cannot watch the connection: ") + uv_strerror(rc));
      return;
    }
    t->talk_poll->data = t;
    t->talk_timer = new uv_timer_t;
    uv_timer_init(loop, t->talk_timer);
    t->talk_timer->data = t;
    int64_t left =
        t->request.timeout.count() - static_cast<int64_t>((uv_hrtime() - t->start_ns) / 1000000);
    uv_timer_start(t->talk_timer, &Impl::on_talk_timeout,
                   static_cast<uint64_t>(std::max<int64_t>(left, 1)), 0);
    // Writable at once: the first step runs from the loop, never from here.
    uv_poll_start(t->talk_poll, UV_READABLE | UV_WRITABLE, &Impl::on_talk);
  }

  static void on_talk(uv_poll_t* poll, int status, int /*events*/) noexcept {
    auto* t = static_cast<Transfer*>(poll->data);
    if (t == nullptr) {
      return;
    }
    t->owner->talk(t, status);
  }

  static void on_talk_timeout(uv_timer_t* timer) noexcept {
    auto* t = static_cast<Transfer*>(timer->data);
    if (t == nullptr) {
      return;
    }
    bool sending = t->sent < t->request.send.size();
    t->owner->end_talk(t, "timed out after " + std::to_string(t->request.timeout.count()) +
                              (sending ? " ms sending" : " ms waiting for a line"));
  }

  // One step: send what remains, then read until a line feed, the cap or the
  // end; waits for the socket whenever curl says CURLE_AGAIN (TLS may want to
  // read while we write, and may hold decrypted bytes the socket no longer
  // shows: every step tries before it waits).
  void talk(Transfer* t, int status) {
    if (status < 0) {
      end_talk(t, std::string("connection error: ") + uv_strerror(status));
      return;
    }
    const std::string& out = t->request.send;
    while (t->sent < out.size()) {
      size_t n = 0;
      CURLcode rc = g_curl->easy_send(t->easy, out.data() + t->sent, out.size() - t->sent, &n);
      if (rc == CURLE_AGAIN) {
        uv_poll_start(t->talk_poll, UV_WRITABLE | UV_READABLE, &Impl::on_talk);
        return;
      }
      if (rc != CURLE_OK) {
        end_talk(t, std::string("send: ") + g_curl->easy_strerror(rc));
        return;
      }
      t->sent += n;
    }
    if (t->request.read_line) {
      char buf[1024];
      while (t->received.find('\n') == std::string::npos &&
             t->received.size() < kMaxProbeLineBytes) {
        size_t n = 0;
        CURLcode rc = g_curl->easy_recv(t->easy, buf, sizeof(buf), &n);
        if (rc == CURLE_AGAIN) {
          uv_poll_start(t->talk_poll, UV_READABLE, &Impl::on_talk);
          return;
        }
        if (rc != CURLE_OK) {
          end_talk(t, std::string("read: ") + g_curl->easy_strerror(rc));
          return;
        }
        if (n == 0) {
          break;  // the server closed the connection
        }
        t->received.append(buf, std::min(n, kMaxProbeLineBytes - t->received.size()));
      }
    }
    end_talk(t, {});
  }

  // Ends the conversation: reports, closes the connection (removing a
  // connect-only handle from the multi closes it) and forgets the transfer.
  void end_talk(Transfer* raw, std::string error) {
    auto it = transfers.find(raw->id);
    if (it == transfers.end()) {
      return;
    }
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers.erase(it);
    t->stop_talking();
    HttpResponse r = std::move(t->response);
    measure(t.get(), &r);
    r.timings.total = static_cast<double>(uv_hrtime() - t->start_ns) / 1e9;
    r.error = std::move(error);
    std::string line = t->received.substr(0, t->received.find('\n'));
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    r.line = std::move(line);
    if (multi != nullptr) {
      g_curl->multi_remove_handle(multi, t->easy);
    }
    auto done = std::move(t->done);
    t.reset();
    done(std::move(r));  // may destroy the client: nothing after this
  }

  // Seconds of a CURLINFO_*_TIME_T; unset when that phase never came.
  static std::optional<double> phase_seconds(CURL* easy, CURLINFO info) {
    curl_off_t us = 0;
    if (g_curl->easy_getinfo(easy, info, &us) != CURLE_OK || us <= 0) {
      return std::nullopt;
    }
    return static_cast<double>(us) / 1e6;
  }

  static void measure(Transfer* t, HttpResponse* r) {
    CURL* e = t->easy;
    r->timings.connect = phase_seconds(e, CURLINFO_CONNECT_TIME_T);
    if (t->request.url.rfind("https://", 0) == 0) {
      r->timings.tls = phase_seconds(e, CURLINFO_APPCONNECT_TIME_T);
    }
    if (!t->request.connect_only) {
      r->timings.first_byte = phase_seconds(e, CURLINFO_STARTTRANSFER_TIME_T);
    }
    r->timings.total = phase_seconds(e, CURLINFO_TOTAL_TIME_T).value_or(0);
    if (!t->request.fresh_connection) {
      return;
    }
    curl_certinfo* certs = nullptr;
    if (g_curl->easy_getinfo(e, CURLINFO_CERTINFO, &certs) != CURLE_OK || certs == nullptr) {
      return;
    }
    for (int i = 0; i < certs->num_of_certs; ++i) {
      for (curl_slist* f = certs->certinfo[i]; f != nullptr; f = f->next) {
        std::string_view field(f->data);
        if (!starts_with(field, "Expire date:")) {
          continue;
        }
        std::string date(trim(field.substr(sizeof("Expire date:") - 1)));
        time_t when = g_curl->getdate(date.c_str(), nullptr);
        if (when != -1 && (!r->cert_not_after || when < *r->cert_not_after)) {
          r->cert_not_after = static_cast<int64_t>(when);
        }
      }
    }
  }

  // Failures of the request itself, not of the server or the network.
  static bool is_internal(CURLcode result) {
    return result == CURLE_OUT_OF_MEMORY || result == CURLE_FAILED_INIT ||
           result == CURLE_BAD_FUNCTION_ARGUMENT || result == CURLE_UNKNOWN_OPTION ||
           result == CURLE_NOT_BUILT_IN;
  }

  static HttpResponse finish(Transfer* t, CURLcode result) {
    HttpResponse r = std::move(t->response);
    measure(t, &r);
    if (result != CURLE_OK) {
      // A reply cut short (a timeout after the headers, say) is no reply at all.
      r.status = 0;
      r.error = t->error[0] != '\0' ? std::string(t->error) : g_curl->easy_strerror(result);
      // curl 7.88 says "Couldn't connect to server" where the system said why:
      // a probe's message says both.
      long os_errno = 0;
      if (t->request.fresh_connection &&
          g_curl->easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
          os_errno != 0) {
        std::string why = strerror(static_cast<int>(os_errno));
        if (r.error.find(why) == std::string::npos) {
          r.error += " (" + why + ")";
        }
      }
      r.internal_error = is_internal(result);
      r.retry_after.reset();
      r.location.clear();
      return r;
    }
    long status = 0;
    g_curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    r.status = status;
    if (!t->retry_after.empty()) {
      r.retry_after = parse_retry_after(t->retry_after, std::chrono::system_clock::now());
    }
    if (status < 300 || status >= 400) {
      r.location.clear();
    }
    return r;
  }

  void socket_action(curl_socket_t fd, int flags) {
    if (multi == nullptr) {
      return;
    }
    // Always a real pointer: some curl versions dereference it unconditionally.
    g_curl->multi_socket_action(multi, fd, flags, &running);
    check_done();
  }

  // --- libuv callbacks ---

  static void on_poll(uv_poll_t* poll, int status, int events) noexcept {
    auto* socket = static_cast<Socket*>(poll->data);
    if (socket == nullptr) {
      return;
    }
    int flags = 0;
    if (status < 0) {
      // An error (EBADF, or a socket error libuv saw) must reach curl, or the
      // transfer waits for readiness that never comes (curl#14254, libuv#3797).
      flags = CURL_CSELECT_ERR;
    } else {
      if ((events & UV_READABLE) != 0) {
        flags |= CURL_CSELECT_IN;
      }
      if ((events & UV_WRITABLE) != 0) {
        flags |= CURL_CSELECT_OUT;
      }
    }
    socket->owner->socket_action(socket->fd, flags);
  }

  static void on_timer(uv_timer_t* timer) noexcept {
    auto* self = static_cast<Impl*>(timer->data);
    if (self != nullptr) {
      self->socket_action(CURL_SOCKET_TIMEOUT, 0);
    }
  }

  static void on_now(uv_idle_t* idle) noexcept {
    uv_idle_stop(idle);
    auto* self = static_cast<Impl*>(idle->data);
    if (self != nullptr) {
      self->socket_action(CURL_SOCKET_TIMEOUT, 0);
    }
  }

  // --- curl callbacks: they must not call back into curl_multi_socket_action ---

  static int on_curl_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                            void* socketp) noexcept {
    auto* self = static_cast<Impl*>(userp);
    auto* socket = static_cast<Socket*>(socketp);
    if (self->multi == nullptr) {
      return 0;  // tearing down: the polls are already closed
    }
    if (what == CURL_POLL_REMOVE) {
      if (socket != nullptr) {
        g_curl->multi_assign(self->multi, fd, nullptr);
        close_poll(socket->poll);
        self->sockets.erase(fd);
      }
      return 0;
    }
    if (socket == nullptr) {
      auto made = std::make_unique<Socket>();
      made->owner = self;
      made->fd = fd;
      auto* poll = new uv_poll_t;
      int rc = uv_poll_init_socket(self->loop, poll, fd);
      if (rc != 0) {
        delete poll;
        log_warning(std::string("http: cannot watch a socket: ") + uv_strerror(rc));
        return -1;
      }
      made->poll = poll;
      poll->data = made.get();
      socket = made.get();
      self->sockets[fd] = std::move(made);
      g_curl->multi_assign(self->multi, fd, socket);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
      events |= UV_READABLE;
    }
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
      events |= UV_WRITABLE;
    }
    uv_poll_start(socket->poll, events, &Impl::on_poll);
    return 0;
  }

  // A connection's socket, as curl would make it but close-on-exec, so that an
  // exec check's command never holds the agent's connection (and could neither
  // write into it nor keep it open after curl closed it). The spawner marks
  // every descriptor close-on-exec in its children anyway; this one is safe
  // even from forks that skip that hook. curl still closes it with close().
  static curl_socket_t on_curl_open_socket(void* /*clientp*/, curlsocktype /*purpose*/,
                                           curl_sockaddr* address) noexcept {
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
  }

  static int on_curl_timer(CURLM* /*multi*/, long timeout_ms, void* userp) noexcept {
    auto* self = static_cast<Impl*>(userp);
    if (self->timer == nullptr || self->now == nullptr) {
      return 0;
    }
    // One deadline at a time: a new one replaces the last.
    uv_timer_stop(self->timer);
    uv_idle_stop(self->now);
    if (timeout_ms < 0) {
      return 0;
    }
    // curl asks for 0 to mean "act now" (every new request does), but it must not
    // be called back from inside this callback, and a 0 ms libuv timer would run in
    // this same loop iteration before I/O, spinning when curl asks again. An idle
    // handle runs at the loop's next turn, after I/O has been polled (without
    // waiting): a 1 ms timer instead made every request wait a millisecond or two
    // before it started, 40% of a 2.5 ms round trip to a local endpoint.
    if (timeout_ms == 0) {
      uint64_t ms = uv_now(self->loop);
      if (ms != self->act_now_ms) {
        self->act_now_ms = ms;
        self->act_now_count = 0;
      }
      if (++self->act_now_count <= kActNowPerMillisecond) {
        uv_idle_start(self->now, &Impl::on_now);
        return 0;
      }
      timeout_ms = 1;
    }
    uv_timer_start(self->timer, &Impl::on_timer, static_cast<uint64_t>(timeout_ms), 0);
    return 0;
  }

  static size_t on_curl_write(char* data, size_t size, size_t nmemb, void* userp) noexcept {
    auto* t = static_cast<Transfer*>(userp);
    size_t n = size * nmemb;
    std::string& body = t->response.body;
    size_t cap = t->request.body_cap;
    if (body.size() < cap) {
      // Keep the head of the reply, and read the rest to keep the connection usable.
      body.append(data, std::min(n, cap - body.size()));
    }
    return n;
  }

  static size_t on_curl_header(char* data, size_t size, size_t nmemb, void* userp) noexcept {
    auto* t = static_cast<Transfer*>(userp);
    size_t n = size * nmemb;
    std::string_view line(data, n);
    if (starts_with(line, "HTTP/")) {
      // A new response starts (after a 100 Continue, or a proxy's CONNECT reply):
      // only the headers of the final one count.
      t->retry_after.clear();
      t->response.location.clear();
      t->response.status_line = std::string(trim(line));
    } else if (header_name_is(line, "Retry-After")) {
      t->retry_after = std::string(trim(line.substr(sizeof("Retry-After"))));
    } else if (header_name_is(line, "Location")) {
      t->response.location = std::string(trim(line.substr(sizeof("Location"))));
    }
    return n;
  }
};

HttpClient::HttpClient(uv_loop_t* loop) : impl_(std::make_unique<Impl>(loop)) {}

HttpClient::~HttpClient() = default;

uint64_t HttpClient::post(HttpRequest req, std::function<void(HttpResponse)> done) {
  req.method = HttpMethod::kPost;
  return request(std::move(req), std::move(done));
}

uint64_t HttpClient::request(HttpRequest req, std::function<void(HttpResponse)> done) {
  uint64_t id = impl_->next_id++;
  if (impl_->multi == nullptr) {
    HttpResponse r;
    r.error = impl_->load_error.empty() ? "the HTTP client is closed" : impl_->load_error;
    r.internal_error = true;
    done(std::move(r));
    return id;
  }
  if (req.url.rfind("http://", 0) != 0 && req.url.rfind("https://", 0) != 0) {
    // curl would refuse it too (CURLOPT_PROTOCOLS_STR), but only after its
    // connect timeout: say so at once.
    HttpResponse r;
    // Only the scheme: the rest may hold credentials.
    size_t scheme = req.url.find("://");
    r.error = "unsupported URL scheme (only http and https)";
    if (scheme != std::string::npos && scheme <= 16 &&
        std::all_of(req.url.begin(), req.url.begin() + static_cast<long>(scheme),
                    [](char c) { return isalnum(static_cast<unsigned char>(c)) != 0; })) {
      r.error += ": " + req.url.substr(0, scheme);
    }
    done(std::move(r));
    return id;
  }
  auto t = std::make_unique<Impl::Transfer>();
  t->owner = impl_.get();
  t->start_ns = uv_hrtime();
  t->id = id;
  t->request = std::move(req);
  t->done = std::move(done);
  std::string error = impl_->setup(t.get());
  if (!error.empty()) {
    HttpResponse r;
    r.error = std::move(error);
    r.internal_error = true;
    auto cb = std::move(t->done);
    t.reset();
    cb(std::move(r));
    return id;
  }
  impl_->transfers.emplace(id, std::move(t));
  return id;
}

void HttpClient::cancel(uint64_t id) {
  auto it = impl_->transfers.find(id);
  if (it == impl_->transfers.end()) {
    return;
  }
  std::unique_ptr<Impl::Transfer> t = std::move(it->second);
  impl_->transfers.erase(it);
  if (impl_->multi != nullptr) {
    g_curl->multi_remove_handle(impl_->multi, t->easy);
  }
}

void HttpClient::close() { impl_->shutdown(); }

size_t HttpClient::in_flight() const { return impl_->transfers.size(); }

}  // namespace vigil
