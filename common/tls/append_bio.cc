#include "common/tls/append_bio.h"

#include <mutex>

namespace weft::tls {
namespace {

int AppendWrite(BIO* bio, const char* data, size_t length, size_t* written) {
  auto* sink = static_cast<std::string*>(BIO_get_data(bio));
  if (sink == nullptr) return 0;
  sink->append(data, length);
  *written = length;
  return 1;
}

long AppendCtrl(BIO*, int command, long, void*) {  // NOLINT(runtime/int): OpenSSL's signature
  // libssl flushes after each handshake flight; there is never anything held back. Every
  // other query (pending bytes, kTLS, ...) has the answer "no".
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int AppendCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* AppendMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "weft-append");
    if (m == nullptr) return m;
    BIO_meth_set_write_ex(m, AppendWrite);
    BIO_meth_set_ctrl(m, AppendCtrl);
    BIO_meth_set_create(m, AppendCreate);
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewAppendBio(std::string* sink) {
  const BIO_METHOD* method = AppendMethod();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, sink);
  return bio;
}

}  // namespace weft::tls
