// ztunnel's keys and certificates, one per SPIFFE identity that has pods on this node. A
// background thread fetches new identities at once, renews each at half its lifetime and
// retries failures with backoff; readers always get the newest valid certificate without
// waiting for an issuance in flight.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ztunnel/identity/issued_cert.h"
#include "ztunnel/identity/rotation_schedule.h"

namespace weft::ztunnel {

struct IdentityCredentials {
  std::string identity;
  std::string cert_chain_pem;
  std::string private_key_pem;
  std::string trust_bundle_pem;
  absl::Time not_before;
  absl::Time not_after;
};

struct KeyAndCsr {
  std::string private_key_pem;
  std::string csr_pem;
};

// Makes a fresh key and a CSR for `identity` (the real one: common/tls GenerateKeyAndCsr).
using KeyGenerator = std::function<absl::StatusOr<KeyAndCsr>(const std::string& identity)>;
// Gets the CSR signed (the real one: CertificateClient::Issue over the node API).
using Issuer = std::function<absl::StatusOr<IssuedCert>(
    const std::string& identity, const std::string& csr_pem, absl::Duration ttl)>;

class CertificateManager {
 public:
  struct Options {
    absl::Duration ttl = absl::Hours(24);  // requested; the issuer may grant less
    Issuer issuer;                         // required
    KeyGenerator key_generator;            // required
    std::function<absl::Time()> clock = [] { return absl::Now(); };
    // Called on the manager's thread after every successful issuance (first or renewal).
    std::function<void(std::shared_ptr<const IdentityCredentials>)> on_change;
    absl::Duration initial_retry = absl::Milliseconds(200);
    absl::Duration max_retry = absl::Seconds(30);
    double jitter_fraction = 0.2;
    // The thread re-reads the clock at least this often, so a clock that jumps (suspend, or a
    // test's fake clock) is noticed without a wake-up.
    absl::Duration max_idle_wait = absl::Seconds(1);
    // Jitter source, [0, 1); default: a seeded mt19937_64.
    std::function<double()> uniform01;
  };

  static absl::StatusOr<std::unique_ptr<CertificateManager>> Create(Options options);
  ~CertificateManager();

  // The identities with pods on this node: new ones are fetched at once, dropped ones are
  // forgotten (their credentials are no longer returned).
  void SetIdentities(std::set<std::string> identities);

  // The newest certificate for `identity`; nullptr if there is none yet or it has expired (an
  // expired certificate is never returned, even while its renewal keeps failing).
  std::shared_ptr<const IdentityCredentials> Current(const std::string& identity) const;

  // Blocks until Current(identity) is non-null. DeadlineExceeded (with the last issuance error)
  // after `timeout`; NotFound if `identity` is not among SetIdentities'.
  absl::Status WaitFor(const std::string& identity, absl::Duration timeout);

  // Where an identity stands, for status pages (and tests that drive a fake clock).
  struct IdentityState {
    bool has_credentials = false;
    absl::Time not_after;
    absl::Time next_attempt;  // renewal time, or the next retry after a failure
    int consecutive_failures = 0;
    absl::Status last_error;
  };
  // nullopt if `identity` is not among SetIdentities'.
  std::optional<IdentityState> State(const std::string& identity) const;

  // Stops the thread; an issuance in flight is waited for. Idempotent.
  void Stop();

  uint64_t issued() const { return issued_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  struct Entry {
    std::shared_ptr<const IdentityCredentials> credentials;
    absl::Time next_attempt = absl::InfinitePast();
    int failures = 0;  // consecutive
    absl::Status last_error;
    uint64_t generation = 0;  // bumped when SetIdentities drops and re-adds the identity
  };

  CertificateManager(Options options, RotationSchedule schedule);
  void Run();
  // One issuance for `identity`, with mu_ released around the key generator and the issuer.
  void Renew(const std::string& identity, uint64_t generation);
  absl::StatusOr<IdentityCredentials> Obtain(const std::string& identity);

  const Options options_;
  const RotationSchedule schedule_;

  mutable std::mutex mu_;
  std::condition_variable wake_;          // the thread: identities changed or stopping
  std::condition_variable changed_;       // WaitFor: some entry got credentials
  std::map<std::string, Entry> entries_;  // guarded by mu_
  uint64_t next_generation_ = 1;          // guarded by mu_
  bool stopping_ = false;                 // guarded by mu_
  bool wake_pending_ = false;             // guarded by mu_
  std::thread thread_;
  std::atomic<uint64_t> issued_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace weft::ztunnel
