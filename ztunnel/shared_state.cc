#include "ztunnel/shared_state.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace weft::ztunnel {

void SharedState::set_view(std::shared_ptr<const MeshView> view) {
  view_.store(std::move(view));
  std::lock_guard<std::mutex> lock(change_mu_);
  ++changes_;
  changed_.notify_all();
}

void SharedState::set_credentials(std::shared_ptr<const CredentialSet> set) {
  credentials_.store(std::move(set));
  std::lock_guard<std::mutex> lock(change_mu_);
  ++changes_;
  changed_.notify_all();
}

IdentityTls SharedState::TlsFor(const std::string& identity) const {
  std::shared_ptr<const CredentialSet> set = credentials_.load();
  if (set == nullptr) return {};
  auto it = set->find(identity);
  if (it == set->end()) return {};
  // Never present an expired certificate, even if its renewal is late.
  if (it->second.client == nullptr || it->second.client->not_after() <= absl::Now()) return {};
  return it->second;
}

absl::Status SharedState::Servable(const std::string& uid) const {
  std::shared_ptr<const MeshView> view = view_.load();
  if (view == nullptr) return absl::UnavailableError("no config from the agent yet");
  const WorkloadInfo* workload = view->WorkloadByUid(uid);
  if (workload == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("workload ", uid, " is not in config version ", view->version(), " yet"));
  }
  // The agent offers a pod because its config enrolls it; ours may be a version behind.
  if (!workload->in_mesh) {
    return absl::UnavailableError(
        absl::StrCat("workload ", uid, " is not in the mesh in config version ", view->version()));
  }
  IdentityTls tls = TlsFor(workload->identity);
  if (tls.client == nullptr || tls.server == nullptr) {
    return absl::UnavailableError(absl::StrCat("no certificate for ", workload->identity, " yet"));
  }
  return absl::OkStatus();
}

absl::Status SharedState::AwaitServable(const std::string& uid, absl::Duration timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  std::unique_lock<std::mutex> lock(change_mu_);
  while (true) {
    const uint64_t seen = changes_;
    lock.unlock();
    absl::Status status = Servable(uid);
    lock.lock();
    if (status.ok()) return status;
    if (!changed_.wait_until(lock, deadline, [&] { return changes_ != seen; })) return status;
  }
}

}  // namespace weft::ztunnel
