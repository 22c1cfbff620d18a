#include "agent/util/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace vigil {
namespace {

constexpr uint32_t kMatchLimit = 100000;

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_match_data* data = nullptr;
  ~Impl() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

Result<Regex> Regex::compile(std::string_view pattern) {
  auto impl = std::make_unique<Impl>();
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0,
                             &error, &offset, nullptr);
  if (impl->code == nullptr) {
    PCRE2_UCHAR text[256];
    pcre2_get_error_message(error, text, sizeof(text));
    return make_error(std::string(reinterpret_cast<const char*>(text)) + " at offset " +
                      std::to_string(offset));
  }
  pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE);  // optional: without JIT it interprets
  impl->context = pcre2_match_context_create(nullptr);
  impl->data = pcre2_match_data_create_from_pattern(impl->code, nullptr);
  if (impl->context == nullptr || impl->data == nullptr) {
    return make_error("out of memory compiling a regex");
  }
  pcre2_set_match_limit(impl->context, kMatchLimit);
  return Regex(std::move(impl));
}

Regex::Regex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

bool Regex::search(std::string_view subject) const {
  int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0,
                       0, impl_->data, impl_->context);
  return rc >= 0;
}

}  // namespace vigil
