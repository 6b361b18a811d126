#include "agent/ca/spiffe_identity.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/value_checks.h"

namespace weft::ca {

absl::Status CheckIssuableIdentity(const std::string& identity, const std::string& trust_domain) {
  std::string problem = weft::config::CheckPrincipal(std::string_view(identity));
  if (!problem.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("identity: ", problem));
  }
  // CheckPrincipal also accepts the policy wildcards, which name no one in a certificate.
  if (identity == "*") {
    return absl::InvalidArgumentError("identity: \"*\" is a policy wildcard, not an identity");
  }
  constexpr absl::string_view kScheme = "spiffe://";
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(identity).substr(kScheme.size()), '/');
  // CheckPrincipal guarantees <domain>/ns/<ns>/sa/<sa>.
  if (parts[0] != trust_domain) {
    return absl::PermissionDeniedError(absl::StrCat(
        "identity ", identity, " is not in this CA's trust domain \"", trust_domain, "\""));
  }
  if (parts[2] == "*" || parts[4] == "*") {
    return absl::InvalidArgumentError(
        absl::StrCat("identity ", identity, ": wildcard segments cannot be certified"));
  }
  return absl::OkStatus();
}

}  // namespace weft::ca
