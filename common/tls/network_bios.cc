#include "common/tls/network_bios.h"

#include <algorithm>
#include <cstring>

namespace weft::tls {
namespace {

int AppendWrite(BIO* bio, const char* data, size_t length, size_t* written) {
  auto* sink = static_cast<std::string*>(BIO_get_data(bio));
  if (sink == nullptr) return 0;
  sink->append(data, length);
  *written = length;
  return 1;
}

int LentRead(BIO* bio, char* out, size_t length, size_t* read) {
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

long AppendCtrl(BIO*, int command, long, void*) {  // NOLINT(runtime/int): OpenSSL's
  // libssl flushes after each handshake flight: nothing is ever held back.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

long LentCtrl(BIO* bio, int command, long, void*) {  // NOLINT(runtime/int): OpenSSL's
  const auto* input = static_cast<const LentInput*>(BIO_get_data(bio));
  if (command == BIO_CTRL_PENDING) {
    return input == nullptr ? 0 : static_cast<long>(input->pending());  // NOLINT(runtime/int)
  }
  return command == BIO_CTRL_FLUSH ? 1 : 0;  // EOF, kTLS and the rest: "no"
}

int Create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* MakeMethod(const char* name, int (*write)(BIO*, const char*, size_t, size_t*),
                       int (*read)(BIO*, char*, size_t, size_t*),
                       long (*ctrl)(BIO*, int, long, void*)) {  // NOLINT(runtime/int)
  BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, name);
  if (m == nullptr) return m;
  if (write != nullptr) BIO_meth_set_write_ex(m, write);
  if (read != nullptr) BIO_meth_set_read_ex(m, read);
  BIO_meth_set_ctrl(m, ctrl);
  BIO_meth_set_create(m, Create);
  return m;
}

// Each method is made once (function-local statics: thread-safe) and then only read.
BIO* NewBio(bool input) {
  static BIO_METHOD* const append = MakeMethod("weft-append", AppendWrite, nullptr, AppendCtrl);
  static BIO_METHOD* const lent = MakeMethod("weft-lent-input", nullptr, LentRead, LentCtrl);
  BIO_METHOD* method = input ? lent : append;
  return method == nullptr ? nullptr : BIO_new(method);
}

}  // namespace

BIO* NewAppendBio(std::string* sink) {
  BIO* bio = NewBio(/*input=*/false);
  if (bio != nullptr) BIO_set_data(bio, sink);
  return bio;
}

BIO* NewLentInputBio(LentInput* input) {
  BIO* bio = NewBio(/*input=*/true);
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
