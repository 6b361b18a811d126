#include "ztunnel/identity/certificate_manager.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"

namespace weft::ztunnel {
namespace {

std::function<double()> SeededUniform() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return [engine, mu] {
    std::lock_guard<std::mutex> lock(*mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
  };
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::unique_ptr<CertificateManager>> CertificateManager::Create(Options options) {
  if (!options.issuer) return absl::InvalidArgumentError("certificate manager: issuer is required");
  if (!options.key_generator) {
    return absl::InvalidArgumentError("certificate manager: key_generator is required");
  }
  if (!options.clock) return absl::InvalidArgumentError("certificate manager: clock is required");
  if (options.ttl <= absl::ZeroDuration() || options.initial_retry <= absl::ZeroDuration() ||
      options.max_retry < options.initial_retry || options.max_idle_wait <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "certificate manager: ttl, initial_retry and max_idle_wait must be positive and "
        "max_retry at least initial_retry");
  }
  if (!options.uniform01) options.uniform01 = SeededUniform();
  RotationSchedule schedule({options.initial_retry, options.max_retry, options.jitter_fraction},
                            options.uniform01);
  std::unique_ptr<CertificateManager> manager(
      new CertificateManager(std::move(options), std::move(schedule)));
  manager->thread_ = std::thread([m = manager.get()] { m->Run(); });
  return manager;
}

CertificateManager::CertificateManager(Options options, RotationSchedule schedule)
    : options_(std::move(options)), schedule_(std::move(schedule)) {}

CertificateManager::~CertificateManager() { Stop(); }

void CertificateManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CertificateManager::SetIdentities(std::set<std::string> identities) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = identities.contains(it->first) ? std::next(it) : entries_.erase(it);
    }
    for (const std::string& identity : identities) {
      auto [it, added] = entries_.try_emplace(identity);
      if (added) it->second.generation = next_generation_++;
    }
    wake_pending_ = true;
  }
  wake_.notify_all();
}

std::shared_ptr<const IdentityCredentials> CertificateManager::Current(
    const std::string& identity) const {
  std::shared_ptr<const IdentityCredentials> credentials;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(identity);
    if (it == entries_.end()) return nullptr;
    credentials = it->second.credentials;
  }
  if (credentials == nullptr || options_.clock() >= credentials->not_after) return nullptr;
  return credentials;
}

std::optional<CertificateManager::IdentityState> CertificateManager::State(
    const std::string& identity) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(identity);
  if (it == entries_.end()) return std::nullopt;
  const Entry& entry = it->second;
  IdentityState state;
  state.has_credentials = entry.credentials != nullptr;
  if (entry.credentials != nullptr) state.not_after = entry.credentials->not_after;
  state.next_attempt = entry.next_attempt;
  state.consecutive_failures = entry.failures;
  state.last_error = entry.last_error;
  return state;
}

absl::Status CertificateManager::WaitFor(const std::string& identity, absl::Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto it = entries_.find(identity);
    if (it == entries_.end()) {
      return absl::NotFoundError(
          absl::StrCat(identity, " is not among the identities this ztunnel needs"));
    }
    const auto& credentials = it->second.credentials;
    if (credentials != nullptr && options_.clock() < credentials->not_after) {
      return absl::OkStatus();
    }
    if (stopping_) return absl::CancelledError("certificate manager stopped");
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      it = entries_.find(identity);
      const absl::Status last = it == entries_.end() ? absl::OkStatus() : it->second.last_error;
      return absl::DeadlineExceededError(
          absl::StrCat("no certificate for ", identity, " after ", absl::FormatDuration(timeout),
                       last.ok() ? "" : absl::StrCat("; last error: ", last.ToString())));
    }
  }
}

void CertificateManager::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const absl::Time now = options_.clock();
    // The most overdue identity first; one issuance at a time keeps the CA's load bounded.
    const std::string* due = nullptr;
    absl::Time due_at = absl::InfiniteFuture();
    absl::Time next = absl::InfiniteFuture();
    uint64_t generation = 0;
    for (const auto& [identity, entry] : entries_) {
      next = std::min(next, entry.next_attempt);
      if (entry.next_attempt <= now && entry.next_attempt < due_at) {
        due = &identity;
        due_at = entry.next_attempt;
        generation = entry.generation;
      }
    }
    if (due != nullptr) {
      const std::string identity = *due;
      lock.unlock();
      Renew(identity, generation);
      lock.lock();
      continue;
    }
    const absl::Duration wait = std::min(next - now, options_.max_idle_wait);
    wake_.wait_for(lock, absl::ToChronoNanoseconds(std::max(wait, absl::ZeroDuration())),
                   [this] { return stopping_ || wake_pending_; });
    wake_pending_ = false;
  }
}

absl::StatusOr<IdentityCredentials> CertificateManager::Obtain(const std::string& identity) {
  // A fresh key every time: a leaked key is useless once its certificate is rotated.
  absl::StatusOr<KeyAndCsr> key = options_.key_generator(identity);
  if (!key.ok()) return key.status();
  absl::StatusOr<IssuedCert> cert = options_.issuer(identity, key->csr_pem, options_.ttl);
  if (!cert.ok()) return cert.status();
  if (cert->not_after <= cert->not_before || cert->not_after <= options_.clock()) {
    return absl::InternalError(absl::StrCat("issuer returned a certificate valid from ",
                                            Rfc3339(cert->not_before), " to ",
                                            Rfc3339(cert->not_after), ", already unusable"));
  }
  return IdentityCredentials{identity,
                             std::move(cert->cert_chain_pem),
                             std::move(key->private_key_pem),
                             std::move(cert->trust_bundle_pem),
                             cert->not_before,
                             cert->not_after};
}

void CertificateManager::Renew(const std::string& identity, uint64_t generation) {
  absl::StatusOr<IdentityCredentials> obtained = Obtain(identity);
  std::shared_ptr<const IdentityCredentials> fresh;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(identity);
    // Dropped (or dropped and re-added) while we were asking: the answer is not wanted.
    if (it == entries_.end() || it->second.generation != generation) return;
    Entry& entry = it->second;
    if (obtained.ok()) {
      fresh = std::make_shared<const IdentityCredentials>(*std::move(obtained));
      entry.credentials = fresh;
      entry.failures = 0;
      entry.last_error = absl::OkStatus();
      // Half of the lifetime left when it arrived: CAs backdate not_before for clock skew
      // (ours by a minute), which with a short TTL would put "half-life" in the past and
      // renew in a loop.
      entry.next_attempt =
          schedule_.RenewAt(std::max(fresh->not_before, options_.clock()), fresh->not_after);
    } else {
      ++entry.failures;
      entry.last_error = obtained.status();
      // The old certificate stays in use meanwhile; Current() stops returning it at not_after.
      entry.next_attempt = options_.clock() + schedule_.RetryDelay(entry.failures);
    }
  }
  if (fresh != nullptr) {
    issued_.fetch_add(1);
    changed_.notify_all();
    log::Info("certificate obtained",
              {{"identity", identity}, {"not_after", Rfc3339(fresh->not_after)}});
    if (options_.on_change) options_.on_change(fresh);
  } else {
    failed_.fetch_add(1);
    log::Warn("certificate request failed", {{"identity", identity}, {"error", obtained.status()}});
  }
}

}  // namespace weft::ztunnel
