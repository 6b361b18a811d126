// CSRs, temporary directories and a settable clock for the local CA tests.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/tls/openssl_handles.h"

namespace weft::ca::testing {

// A fresh directory under the test temp dir, removed (recursively) when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

tls::EvpPkeyPtr GenerateEcKey(const char* curve);  // "P-256", "P-384"
tls::EvpPkeyPtr GenerateRsaKey();

// A PEM CSR signed by `key`, optionally asking for extra URI and DNS SANs.
std::string MakeCsr(EVP_PKEY* key, const std::vector<std::string>& uri_sans = {},
                    const std::vector<std::string>& dns_sans = {});

// The same CSR with one byte of its signature flipped.
std::string TamperCsrSignature(const std::string& csr_pem);

tls::X509Ptr ParseCertificate(const std::string& pem);

// A clock tests move by hand.
struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1'750'000'000);
};

}  // namespace weft::ca::testing
