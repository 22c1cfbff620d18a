#include "agent/status/http_request.h"

#include <cctype>
#include <string_view>

#include "agent/util/strings.h"

namespace vigil {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (tolower(static_cast<unsigned char>(a[i])) != tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

HttpRequestReader::State HttpRequestReader::fail(int status, std::string message) {
  error_ = HttpAnswer{status, "text/plain; charset=utf-8", std::move(message) + "\n"};
  state_ = State::kError;
  return state_;
}

HttpRequestReader::State HttpRequestReader::feed(const char* data, size_t n) {
  if (state_ != State::kIncomplete) {
    return state_;
  }
  if (!have_head_) {
    // Only as much as a head and its body may need is kept.
    size_t room = kMaxHead + 4 + kMaxBody - buffer_.size();
    buffer_.append(data, std::min(n, room));
    size_t end = buffer_.find("\r\n\r\n");
    size_t sep = 4;
    size_t lf = buffer_.find("\n\n");
    if (lf != std::string::npos && (end == std::string::npos || lf < end)) {
      end = lf;
      sep = 2;
    }
    if (end == std::string::npos) {
      if (buffer_.size() > kMaxHead) {
        return fail(431, "request head over 8 KiB");
      }
      return state_;
    }
    if (end > kMaxHead) {
      return fail(431, "request head over 8 KiB");
    }
    if (parse_head(end, end + sep) != State::kIncomplete) {
      return state_;
    }
  } else {
    size_t want = body_start_ + body_length_ - buffer_.size();
    buffer_.append(data, std::min(n, want));
  }
  if (buffer_.size() >= body_start_ + body_length_) {
    request_.body = buffer_.substr(body_start_, body_length_);
    buffer_.clear();
    state_ = State::kComplete;
  }
  return state_;
}

HttpRequestReader::State HttpRequestReader::parse_head(size_t head_end, size_t body_start) {
  have_head_ = true;
  body_start_ = body_start;
  std::string_view head(buffer_.data(), head_end);
  size_t line_end = head.find('\n');
  std::string_view line = head.substr(0, line_end);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  size_t sp1 = line.find(' ');
  size_t sp2 = line.find(' ', sp1 == std::string_view::npos ? 0 : sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 ||
      sp2 == sp1 + 1) {
    return fail(400, "bad request");
  }
  request_.method = std::string(line.substr(0, sp1));
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  request_.path = std::string(target.substr(0, target.find('?')));

  bool have_length = false;
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 1);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view h = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!h.empty() && h.back() == '\r') {
      h.remove_suffix(1);
    }
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view name = trim(h.substr(0, colon));
    std::string_view value = trim(h.substr(colon + 1));
    if (same_name(name, "Transfer-Encoding")) {
      return fail(501, "Transfer-Encoding is not supported: send the body with Content-Length");
    }
    if (!same_name(name, "Content-Length")) {
      continue;
    }
    if (value.empty() || value.size() > 9 ||
        value.find_first_not_of("0123456789") != std::string_view::npos) {
      return fail(400, "bad Content-Length");
    }
    size_t length = std::stoul(std::string(value));
    if (have_length && length != body_length_) {
      return fail(400, "two different Content-Length headers");
    }
    have_length = true;
    body_length_ = length;
  }
  if (body_length_ > kMaxBody) {
    return fail(413, "request body over 64 KiB");
  }
  if (buffer_.size() > body_start_ + body_length_) {
    buffer_.resize(body_start_ + body_length_);  // one request per connection
  }
  return state_;
}

}  // namespace vigil
