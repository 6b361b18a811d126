#include "common/tls/lent_input_bio.h"

#include <algorithm>
#include <cstring>

namespace weft::tls {

struct LentInputBio {
  static int Read(BIO* bio, char* out, size_t length, size_t* read) {
    BIO_clear_retry_flags(bio);
    auto* input = static_cast<LentInput*>(BIO_get_data(bio));
    const size_t n = input == nullptr ? 0 : input->Read(out, length);
    if (n == 0) {
      // Not the end of the stream: more ciphertext comes with the next receive.
      BIO_set_retry_read(bio);
      return 0;
    }
    *read = n;
    return 1;
  }

  static long Ctrl(BIO* bio, int command, long, void*) {  // NOLINT(runtime/int): OpenSSL's
    const auto* input = static_cast<const LentInput*>(BIO_get_data(bio));
    switch (command) {
      case BIO_CTRL_PENDING:
        return input == nullptr ? 0 : static_cast<long>(input->pending());  // NOLINT
      case BIO_CTRL_FLUSH:
        return 1;
      default:
        return 0;  // EOF, kTLS and the rest: "no"
    }
  }

  static int Create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static const BIO_METHOD* Method() {
    static BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "weft-lent-input");
      if (m == nullptr) return m;
      BIO_meth_set_read_ex(m, Read);
      BIO_meth_set_ctrl(m, Ctrl);
      BIO_meth_set_create(m, Create);
      return m;
    }();
    return method;
  }
};

BIO* NewLentInputBio(LentInput* input) {
  const BIO_METHOD* method = LentInputBio::Method();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, input);
  return bio;
}

size_t LentInput::Read(char* out, size_t length) {
  size_t n = 0;
  if (kept_offset_ < kept_.size()) {
    n = std::min(length, kept_.size() - kept_offset_);
    std::memcpy(out, kept_.data() + kept_offset_, n);
    kept_offset_ += n;
    if (kept_offset_ == kept_.size()) {
      kept_.clear();
      kept_offset_ = 0;
    }
  }
  const size_t from_lent = std::min(length - n, lent_.size());
  if (from_lent > 0) {
    std::memcpy(out + n, lent_.data(), from_lent);
    lent_.remove_prefix(from_lent);
    n += from_lent;
  }
  return n;
}

void LentInput::EndLoan() {
  if (!lent_.empty()) {
    kept_.erase(0, kept_offset_);
    kept_offset_ = 0;
    kept_.append(lent_);
  }
  lent_ = {};
}

void LentInput::ReleaseIfLarger(size_t limit) {
  if (kept_offset_ == kept_.size() && kept_.capacity() > limit) {
    std::string().swap(kept_);
    kept_offset_ = 0;
  }
}

}  // namespace weft::tls
