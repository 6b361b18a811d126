#include "bench/modes/throwaway_pki.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "bench/modes/netns_command.h"
#include "common/status/errno_status.h"

namespace weft::bench::modes {
namespace {

constexpr char kDays[] = "2";

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// A fresh P-256 key (0600) and a CSR for `cn`.
absl::Status NewKeyAndCsr(const std::string& key, const std::string& csr, const std::string& cn) {
  absl::StatusOr<std::string> out = RunCommandOk(
      {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key, "-out", csr, "-subj", absl::StrCat("/CN=", cn)});
  if (!out.ok()) return out.status();
  if (::chmod(key.c_str(), 0600) != 0) return ErrnoStatus(errno, "chmod 0600", key);
  return absl::OkStatus();
}

// Signs `csr` with the CA into `cert`, adding the extensions in `extensions` (one per line).
absl::Status SignLeaf(const std::string& dir, const std::string& csr, const std::string& cert,
                      const std::string& extensions) {
  const std::string ext_file = cert + ".ext";
  if (absl::Status s = WriteFile(ext_file, extensions); !s.ok()) return s;
  absl::StatusOr<std::string> out =
      RunCommandOk({"openssl", "x509", "-req", "-in", csr, "-CA", dir + "/ca.crt", "-CAkey",
                    dir + "/ca.key", "-set_serial", absl::StrCat(::time(nullptr) ^ ::getpid()),
                    "-days", kDays, "-sha256", "-extfile", ext_file, "-out", cert});
  return out.ok() ? absl::OkStatus() : out.status();
}

}  // namespace

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

absl::StatusOr<ThrowawayPki> CreateThrowawayPki(const std::string& dir,
                                                const std::string& server_name) {
  if (server_name.empty()) return absl::InvalidArgumentError("throwaway PKI: empty server name");
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "mkdir", dir);
  }
  ThrowawayPki pki{dir + "/ca.crt", dir + "/client.crt", dir + "/client.key", dir + "/server.crt",
                   dir + "/server.key"};
  const std::string ca_key = dir + "/ca.key";
  absl::StatusOr<std::string> ca = RunCommandOk({"openssl",
                                                 "req",
                                                 "-x509",
                                                 "-newkey",
                                                 "ec",
                                                 "-pkeyopt",
                                                 "ec_paramgen_curve:P-256",
                                                 "-nodes",
                                                 "-keyout",
                                                 ca_key,
                                                 "-out",
                                                 pki.ca_cert,
                                                 "-days",
                                                 kDays,
                                                 "-sha256",
                                                 "-subj",
                                                 "/CN=weft bench throwaway CA",
                                                 "-addext",
                                                 "basicConstraints=critical,CA:TRUE",
                                                 "-addext",
                                                 "keyUsage=critical,keyCertSign,cRLSign"});
  if (!ca.ok()) return ca.status();
  if (::chmod(ca_key.c_str(), 0600) != 0) return ErrnoStatus(errno, "chmod 0600", ca_key);

  const std::string san = IsIpAddress(server_name) ? absl::StrCat("IP:", server_name)
                                                   : absl::StrCat("DNS:", server_name);
  const std::string leaf =
      "basicConstraints=critical,CA:FALSE\n"
      "keyUsage=critical,digitalSignature\n";
  if (absl::Status s = NewKeyAndCsr(pki.server_key, dir + "/server.csr", "stunnel-server");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SignLeaf(
          dir, dir + "/server.csr", pki.server_cert,
          absl::StrCat(leaf, "extendedKeyUsage=serverAuth\n", "subjectAltName=", san, "\n"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = NewKeyAndCsr(pki.client_key, dir + "/client.csr", "stunnel-client");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SignLeaf(dir, dir + "/client.csr", pki.client_cert,
                                absl::StrCat(leaf, "extendedKeyUsage=clientAuth\n",
                                             "subjectAltName=DNS:stunnel-client\n"));
      !s.ok()) {
    return s;
  }
  return pki;
}

}  // namespace weft::bench::modes
