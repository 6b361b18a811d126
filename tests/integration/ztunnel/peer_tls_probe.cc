#include "tests/integration/ztunnel/peer_tls_probe.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status/errno_status.h"
#include "tests/integration/ztunnel/child_sockets.h"

namespace weft::ztunnel::testing {
namespace {

// HTTP/2 connection preface followed by an empty SETTINGS frame.
constexpr char kHttp2Preface[] =
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
constexpr size_t kHttp2PrefaceSize = sizeof(kHttp2Preface) - 1;

std::string DrainOpenSslErrors() {
  std::string errors;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", text);
  }
  return errors;
}

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

absl::Status UsePemIdentity(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  const bool ok = cert != nullptr && key != nullptr && SSL_CTX_use_certificate(ctx, cert) == 1 &&
                  SSL_CTX_use_PrivateKey(ctx, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) return absl::InvalidArgumentError("client identity: " + DrainOpenSslErrors());
  return absl::OkStatus();
}

// Raw bytes instead of TLS: the server must close without answering anything useful.
PeerTlsProbeResult ProbeRaw(int fd, const PeerTlsProbeOptions& options) {
  PeerTlsProbeResult result;
  WriteAll(fd, options.raw_bytes);
  std::string answer;
  char buffer[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, options.timeout_ms) != 1) {
      result.detail =
          "no close within the timeout; got " + std::to_string(answer.size()) + " bytes";
      break;
    }
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      result.closed_by_server = true;
      result.detail = n == 0 ? "eof" : "errno " + std::to_string(errno);
      break;
    }
    answer.append(buffer, static_cast<size_t>(n));
  }
  // Anything that reads as an HTTP success is an acceptance.
  result.server_spoke_http2 = answer.find(" 200") != std::string::npos;
  return result;
}

PeerTlsProbeResult ProbeTls(int fd, const PeerTlsProbeOptions& options) {
  PeerTlsProbeResult result;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // we judge the server, not it us
  if (options.tls12_only) SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
  static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn));
  if (!options.cert_pem.empty()) {
    if (absl::Status s = UsePemIdentity(ctx.get(), options.cert_pem, options.key_pem); !s.ok()) {
      result.detail = std::string(s.message());
      return result;
    }
  }
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  if (SSL_connect(ssl.get()) != 1) {
    result.closed_by_server = true;
    result.detail = "handshake failed: " + DrainOpenSslErrors() + " errno " + std::to_string(errno);
    return result;
  }
  result.handshake_completed = true;
  if (SSL_write(ssl.get(), kHttp2Preface, static_cast<int>(kHttp2PrefaceSize)) <= 0) {
    result.closed_by_server = true;
    result.detail = "write after handshake failed: " + DrainOpenSslErrors();
    return result;
  }
  char buffer[1024];
  int n = SSL_read(ssl.get(), buffer, sizeof(buffer));  // bounded by SO_RCVTIMEO
  if (n > 0) {
    result.server_spoke_http2 = true;
    result.detail = "server sent " + std::to_string(n) + " bytes of application data";
  } else {
    int err = SSL_get_error(ssl.get(), n);
    result.closed_by_server = err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SSL ||
                              (err == SSL_ERROR_SYSCALL && errno != EAGAIN);
    result.detail = "read after handshake: ssl error " + std::to_string(err) + " " +
                    DrainOpenSslErrors() + " errno " + std::to_string(errno);
  }
  return result;
}

}  // namespace

absl::StatusOr<PeerTlsProbeResult> RunPeerTlsProbe(const PeerTlsProbeOptions& options) {
  // The whole probe runs on a thread inside the namespace: blocking, and nothing else moves.
  std::promise<absl::StatusOr<PeerTlsProbeResult>> promise;
  std::thread worker([&] {
    int ns = ::open(("/run/netns/" + options.netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
      int err = errno;
      if (ns >= 0) ::close(ns);
      return promise.set_value(ErrnoStatus(err, "setns", options.netns));
    }
    ::close(ns);
    std::string error;
    int fd = ConnectTcp(options.address, static_cast<uint16_t>(options.port), options.timeout_ms,
                        &error);
    if (fd < 0) {
      return promise.set_value(absl::UnavailableError(
          absl::StrCat("connect ", options.address, ":", options.port, ": ", error)));
    }
    timeval timeout{options.timeout_ms / 1000, (options.timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    PeerTlsProbeResult result =
        options.raw_bytes.empty() ? ProbeTls(fd, options) : ProbeRaw(fd, options);
    ::close(fd);
    promise.set_value(result);
  });
  worker.join();
  return promise.get_future().get();
}

}  // namespace weft::ztunnel::testing
