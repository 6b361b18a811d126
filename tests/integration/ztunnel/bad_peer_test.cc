// ztunnel's HBONE port refuses every peer that is not a mesh workload speaking TLS 1.3 with a
// certificate from the mesh's CA — no certificate, another CA, an expired certificate,
// TLS 1.2, plain bytes — counts each refusal, and keeps serving the mesh meanwhile.
// A well-formed peer with a current lab certificate is accepted, which shows that each
// refusal is for the one defect that probe carries.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "agent/ca/local_ca.h"
#include "common/tls/key_and_csr.h"
#include "gtest/gtest.h"
#include "tests/integration/ztunnel/peer_tls_probe.h"
#include "tests/integration/ztunnel/ztunnel_lab_fixture.h"

namespace weft::ztunnel::testing {
namespace {

constexpr char kIdentity[] = "spiffe://cluster.local/ns/demo/sa/client";

// A certificate for kIdentity from a CA rooted at `key_path`/`cert_path` (created when
// missing), issued as if at `issued_at`.
absl::StatusOr<std::pair<std::string, std::string>> IssueCertificate(const std::string& key_path,
                                                                     const std::string& cert_path,
                                                                     absl::Time issued_at,
                                                                     absl::Duration ttl) {
  weft::ca::LocalCaOptions options;
  options.root_key_path = key_path;
  options.root_cert_path = cert_path;
  options.trust_domain = "cluster.local";
  options.clock = [issued_at] { return issued_at; };
  options.authorizer = [](const std::string&) { return absl::OkStatus(); };
  absl::StatusOr<std::unique_ptr<weft::ca::LocalCa>> ca = weft::ca::LocalCa::Create(options);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<weft::tls::KeyAndCsr> key = weft::tls::GenerateKeyAndCsr(kIdentity);
  if (!key.ok()) return key.status();
  absl::StatusOr<weft::ca::IssuedCertificate> cert = (*ca)->Sign(key->csr_pem, kIdentity, ttl);
  if (!cert.ok()) return cert.status();
  return std::make_pair(cert->cert_chain_pem, key->private_key_pem);
}

// Probe options presenting `identity` (certificate, key) — empty: no certificate.
PeerTlsProbeOptions Presenting(const std::pair<std::string, std::string>& identity,
                               bool tls12_only = false) {
  PeerTlsProbeOptions options;
  options.cert_pem = identity.first;
  options.key_pem = identity.second;
  options.tls12_only = tls12_only;
  return options;
}

PeerTlsProbeOptions Writing(const std::string& raw_bytes) {
  PeerTlsProbeOptions options;
  options.raw_bytes = raw_bytes;
  return options;
}

class BadPeerTest : public ZtunnelLabTest {
 protected:
  PeerTlsProbeResult Probe(const std::string& what, PeerTlsProbeOptions options) {
    options.netns = Node("node-a").netns();  // the node, not a pod: nothing captures this
    options.address = "10.244.1.2";
    options.port = 15008;
    absl::StatusOr<PeerTlsProbeResult> result = RunPeerTlsProbe(options);
    EXPECT_TRUE(result.ok()) << what << ": " << result.status();
    if (!result.ok()) return {};
    std::printf("%-22s handshake=%d http2=%d closed=%d %s\n", what.c_str(),
                result->handshake_completed, result->server_spoke_http2, result->closed_by_server,
                result->detail.c_str());
    return *result;
  }

  void ExpectRefused(const std::string& what, const PeerTlsProbeOptions& options) {
    PeerTlsProbeResult result = Probe(what, options);
    EXPECT_FALSE(result.server_spoke_http2) << what << " was accepted: " << result.detail;
    EXPECT_TRUE(result.closed_by_server) << what << " was not closed: " << result.detail;
  }
};

TEST_F(BadPeerTest, BadPeersAreRefusedAndCounted) {
  ASSERT_NO_FATAL_FAILURE(StartMeshLab("ztpeer"));
  ASSERT_NO_FATAL_FAILURE(WaitForMesh({"client", "server"}));
  auto server = weft::agent::testing::StartEchoServer(Placement("server", false), {8080});
  ASSERT_NE(server, nullptr);
  auto client = weft::agent::testing::StartPodClient(Placement("client", true));
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(client->Call("open 10.244.1.2 8080"), "0 server") << "the mesh is not carrying";
  ASSERT_EQ(client->Call("echo 0"), "ok");

  char dir[] = "/tmp/weft-ztpeer-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string other_ca = dir;
  auto foreign =
      IssueCertificate(other_ca + "/ca.key", other_ca + "/ca.crt", absl::Now(), absl::Hours(1));
  ASSERT_TRUE(foreign.ok()) << foreign.status();
  // The lab's own CA, so an expired certificate differs from a good one in nothing else.
  const std::string lab_ca = state_.ca_dir();
  auto expired = IssueCertificate(lab_ca + "/ca.key", lab_ca + "/ca.crt",
                                  absl::Now() - absl::Hours(2), absl::Minutes(10));
  ASSERT_TRUE(expired.ok()) << expired.status();
  auto good = IssueCertificate(lab_ca + "/ca.key", lab_ca + "/ca.crt", absl::Now(), absl::Hours(1));
  ASSERT_TRUE(good.ok()) << good.status();
  std::filesystem::remove_all(other_ca);

  const double failures_before =
      MetricSum(ZtunnelGet("node-b", "/metrics"), "weft_tcp_connection_failures_total",
                {"reason=\"tls_handshake\""});
  ExpectRefused("(a) no certificate", Presenting({}));
  ExpectRefused("(b) another CA", Presenting(*foreign));
  ExpectRefused("(c) expired", Presenting(*expired));
  ExpectRefused("(d) TLS 1.2 only", Presenting(*good, /*tls12_only=*/true));
  ExpectRefused("(e) plain HTTP", Writing("GET / HTTP/1.1\r\n\r\n"));
  PeerTlsProbeResult control = Probe("(control) good cert", Presenting(*good));
  EXPECT_TRUE(control.server_spoke_http2)
      << "a current lab certificate was refused too, so the refusals above prove nothing: "
      << control.detail;

  // The mesh kept working throughout: the old connection and a new one.
  EXPECT_EQ(client->Call("echo 0"), "ok");
  EXPECT_EQ(client->Call("probe 10.244.1.2 8080"), "server");

  double failures = 0;
  std::string metrics;
  weft::lab::testing::WaitUntil(
      [&] {
        metrics = ZtunnelGet("node-b", "/metrics");
        failures =
            MetricSum(metrics, "weft_tcp_connection_failures_total", {"reason=\"tls_handshake\""});
        return failures - failures_before >= 5;
      },
      3000);
  EXPECT_GE(failures - failures_before, 5) << metrics;
  RecordProperty("tls_handshake_failures", std::to_string(failures - failures_before));
}

}  // namespace
}  // namespace weft::ztunnel::testing
