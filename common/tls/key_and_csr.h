// A fresh workload key and the certificate signing request that asks a CA to certify it.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace weft::tls {

struct KeyAndCsr {
  std::string private_key_pem;  // PKCS#8, unencrypted: keep it in memory, never log it
  std::string csr_pem;
};

// An ECDSA P-256 key and a PKCS#10 CSR signed by it, carrying `identity` as its only URI SAN
// and an empty subject (what agent/ca's LocalCa::Sign accepts: it takes only the public key and
// checks the self-signature). InvalidArgument unless `identity` starts with "spiffe://".
absl::StatusOr<KeyAndCsr> GenerateKeyAndCsr(const std::string& identity);

}  // namespace weft::tls
