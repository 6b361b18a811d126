// A certificate as the issuer (the agent, through the node API) hands it back.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace weft::ztunnel {

struct IssuedCert {
  std::string cert_chain_pem;    // leaf first, then intermediates, concatenated
  std::string trust_bundle_pem;  // the roots peers are verified against, concatenated
  absl::Time not_before;         // as written in the leaf
  absl::Time not_after;
};

}  // namespace weft::ztunnel
