#include "ztunnel/nodeapi/certificate_client.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/grpcwire/grpc_channel.h"
#include "weft/nodeapi/v1/node_api.pb.h"

namespace weft::ztunnel {
namespace {

constexpr char kIssueCertificate[] = "/weft.nodeapi.v1.NodeApi/IssueCertificate";

// The agent may be restarting (socket missing, or stale and refusing): keep trying within the
// deadline, as gRPC's wait-for-ready did, rather than fail at once.
absl::StatusOr<std::unique_ptr<grpcwire::GrpcChannel>> ConnectBefore(const std::string& path,
                                                                     absl::Time deadline) {
  absl::Duration backoff = absl::Milliseconds(20);
  while (true) {
    const absl::Duration remaining = deadline - absl::Now();
    absl::StatusOr<std::unique_ptr<grpcwire::GrpcChannel>> channel =
        grpcwire::GrpcChannel::ConnectUnix(path, std::max(remaining, absl::Milliseconds(1)));
    if (channel.ok()) return channel;
    if (channel.status().code() != absl::StatusCode::kUnavailable &&
        channel.status().code() != absl::StatusCode::kDeadlineExceeded) {
      return absl::Status(channel.status().code(),
                          absl::StrCat("IssueCertificate: ", channel.status().message()));
    }
    if (absl::Now() + backoff >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "IssueCertificate: no agent answered within the deadline: ", channel.status().message()));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(500));
  }
}

// The leaf's validity, read from the certificate itself: rotation is planned from what was
// actually issued, not from what was asked for.
absl::StatusOr<std::pair<absl::Time, absl::Time>> LeafValidity(const std::string& leaf_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(leaf_pem.data(), static_cast<int>(leaf_pem.size())), &BIO_free);
  if (bio == nullptr) return absl::InternalError("IssueCertificate: out of memory");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) {
    return absl::InternalError("IssueCertificate: the agent's leaf certificate is not valid PEM");
  }
  struct tm not_before {
  }, not_after{};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert.get()), &not_before) != 1 ||
      ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &not_after) != 1) {
    return absl::InternalError("IssueCertificate: the leaf certificate's validity is unreadable");
  }
  return std::make_pair(absl::FromTimeT(timegm(&not_before)), absl::FromTimeT(timegm(&not_after)));
}

// PEM blocks end with a newline when OpenSSL writes them; one is added where it is missing so
// that concatenated blocks stay parsable.
std::string JoinPem(const google::protobuf::RepeatedPtrField<std::string>& blocks) {
  std::string joined;
  for (const std::string& block : blocks) {
    joined += block;
    if (!block.empty() && block.back() != '\n') joined += '\n';
  }
  return joined;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CertificateClient>> CertificateClient::Create(Options options) {
  if (options.socket_path.empty()) {
    return absl::InvalidArgumentError("certificate client: socket_path is required");
  }
  return std::unique_ptr<CertificateClient>(new CertificateClient(std::move(options)));
}

absl::StatusOr<IssuedCert> CertificateClient::Issue(const std::string& identity,
                                                    const std::string& csr_pem,
                                                    absl::Duration ttl) {
  const absl::Time deadline = absl::Now() + options_.deadline;
  absl::StatusOr<std::unique_ptr<grpcwire::GrpcChannel>> channel =
      ConnectBefore(options_.socket_path, deadline);
  if (!channel.ok()) return channel.status();
  weft::nodeapi::v1::CertificateRequest request;
  request.set_identity(identity);
  request.set_csr_pem(csr_pem);
  request.set_ttl_seconds(absl::ToInt64Seconds(ttl));
  absl::StatusOr<std::string> answer =
      (*channel)->UnaryCall(kIssueCertificate, request.SerializeAsString(), deadline);
  if (!answer.ok()) {
    // The agent's code carries over (grpc-status and absl share the numbering).
    return absl::Status(answer.status().code(),
                        absl::StrCat("IssueCertificate: ", answer.status().message()));
  }
  weft::nodeapi::v1::CertificateResponse response;
  if (!response.ParseFromString(*answer)) {
    return absl::InternalError("IssueCertificate: the agent's answer is not a CertificateResponse");
  }
  if (response.cert_chain_pem().empty() || response.trust_bundle_pem().empty()) {
    return absl::InternalError("IssueCertificate: the agent returned no chain or no trust bundle");
  }
  absl::StatusOr<std::pair<absl::Time, absl::Time>> validity =
      LeafValidity(response.cert_chain_pem(0));
  if (!validity.ok()) return validity.status();
  IssuedCert issued;
  issued.cert_chain_pem = JoinPem(response.cert_chain_pem());
  issued.trust_bundle_pem = JoinPem(response.trust_bundle_pem());
  issued.not_before = validity->first;
  issued.not_after = validity->second;
  return issued;
}

}  // namespace weft::ztunnel
