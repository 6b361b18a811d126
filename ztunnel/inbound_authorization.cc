#include "ztunnel/inbound_authorization.h"

#include "absl/strings/str_cat.h"

namespace weft::ztunnel {

absl::Status AuthorizeInbound(const MeshView& view, const WorkloadInfo& self,
                              const std::optional<std::string>& principal,
                              const std::string& source_ip, const event::SocketAddress& target) {
  authz::ConnectionAttributes attributes;
  if (principal.has_value()) {
    attributes.source_principal = *principal;
    attributes.source_namespace = NamespaceOfIdentity(*principal);
  }
  if (absl::StatusOr<authz::IpAddress> ip = authz::IpAddress::Parse(source_ip); ip.ok()) {
    attributes.source_ip = *ip;
  }
  attributes.destination = self.authz_destination;
  if (absl::StatusOr<authz::IpAddress> ip = authz::IpAddress::Parse(target.IpString()); ip.ok()) {
    attributes.destination_ip = *ip;
  }
  attributes.destination_port = target.port();
  const authz::Decision decision = view.authorizer().Evaluate(attributes);
  if (decision.verdict == authz::Verdict::kAllow) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      authz::VerdictName(decision.verdict), " by ",
      decision.policy_name.empty()
          ? std::string("default")
          : absl::StrCat(decision.policy_namespace, "/", decision.policy_name),
      decision.reason.empty() ? "" : absl::StrCat(": ", decision.reason)));
}

}  // namespace weft::ztunnel
