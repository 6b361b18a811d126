#include "agent/enrollment/enrollment_controller.h"

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"

namespace weft::agent {
namespace {

// The netns whose addresses include one of the workload's; nullptr if none.
const PodNetns* FindNetns(const std::map<uint64_t, PodNetns>& namespaces,
                          const EnrolledWorkload& w) {
  for (const auto& [inode, ns] : namespaces) {
    for (const std::string& have : ns.addresses) {
      for (const std::string& want : w.addresses) {
        if (have == want) return &ns;
      }
    }
  }
  return nullptr;
}

bool OutboundReady(const PodNetns& ns, uint16_t port) {
  if (port == 0) return true;
  for (uint16_t p : ns.loopback_listeners) {
    if (p == port) return true;
  }
  return false;
}

}  // namespace

EnrollmentController::EnrollmentController(EnrollmentOptions options,
                                           std::unique_ptr<NetnsSource> netns,
                                           EnrollmentBackend* backend,
                                           admin::MetricsRegistry* metrics)
    : options_(std::move(options)), netns_(std::move(netns)), backend_(backend) {
  if (metrics != nullptr) {
    if (auto g = metrics->Gauge("weft_enrolled_workloads",
                                "Workloads of this node whose traffic the mesh captures");
        g.ok()) {
      enrolled_gauge_ = *g;
    }
    if (auto c = metrics->Counter("weft_enrollment_failures_total",
                                  "Enroll or unenroll operations that failed (retried)");
        c.ok()) {
      failures_ = *c;
    }
  }
}

EnrollmentController::~EnrollmentController() { Stop(); }

uint32_t EnrollmentController::AllocateId() {
  for (size_t i = 0; i < used_ids_.size(); ++i) {
    if (!used_ids_[i]) {
      used_ids_[i] = true;
      return static_cast<uint32_t>(i);
    }
  }
  used_ids_.push_back(true);
  return static_cast<uint32_t>(used_ids_.size() - 1);
}

ReconcileResult EnrollmentController::Reconcile(const weft::config::v1::ClusterConfig& config) {
  std::lock_guard<std::mutex> reconcile(reconcile_mu_);
  ReconcileResult result;
  EnrollmentPlan plan = PlanEnrollment(config, options_.node);
  absl::StatusOr<std::map<uint64_t, PodNetns>> namespaces = netns_->Scan();
  if (!namespaces.ok()) {
    log::Warn("pod netns discovery failed; enrollment unchanged", {{"error", namespaces.status()}});
    if (failures_) failures_->Increment();
    ++result.failed;
    return result;
  }

  if (!inherited_read_) {
    absl::StatusOr<std::set<uint64_t>> kernel = backend_->EnrolledInKernel();
    if (kernel.ok()) {
      inherited_ = *std::move(kernel);
      inherited_read_ = true;
      if (!inherited_.empty()) {
        log::Info("adopting enrollment a previous agent left in the kernel",
                  {{"netns", inherited_.size()}});
      }
    } else {
      log::Warn("cannot read enrolled netns from the kernel; will retry",
                {{"error", kernel.status()}});
    }
  }

  std::map<std::string, EnrolledPod> current;
  {
    std::lock_guard<std::mutex> lock(mu_);
    current = enrolled_;
  }
  // Remove first: a pod whose netns changed (restarted sandbox) is re-added below.
  for (const auto& [uid, pod] : current) {
    auto planned = plan.find(uid);
    const PodNetns* ns = planned == plan.end() ? nullptr : FindNetns(*namespaces, planned->second);
    bool keep = planned != plan.end() && ns != nullptr && ns->inode == pod.netns_inode &&
                planned->second == pod.workload;
    if (keep) {
      if (options_.handoff != nullptr) RefreshListeners(pod, *ns);
      continue;
    }
    if (absl::Status s = backend_->Unenroll(pod); !s.ok()) {
      log::Warn("unenroll failed; will retry", {{"workload", uid}, {"error", s}});
      if (failures_) failures_->Increment();
      ++result.failed;
      continue;
    }
    if (options_.handoff != nullptr) options_.handoff->Withdraw(uid);
    log::Info("workload unenrolled", {{"workload", uid}, {"netns_cookie", pod.netns_cookie}});
    std::lock_guard<std::mutex> lock(mu_);
    used_ids_[pod.workload_id] = false;
    enrolled_.erase(uid);
    ++result.unenrolled;
  }
  for (const auto& [uid, workload] : plan) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (enrolled_.count(uid)) continue;
    }
    const PodNetns* ns = FindNetns(*namespaces, workload);
    // A pod the previous agent had enrolled stays enrolled (its ztunnel may be
    // restarting too); the listener condition is only for first enrollment.
    bool inherited = ns != nullptr && inherited_.count(ns->cookie) > 0;
    bool ready = inherited;
    HandoffState handoff;
    if (ns != nullptr && options_.handoff != nullptr) {
      handoff = options_.handoff->Offer(workload, *ns);
      ready = ready || handoff.ready;
    } else if (ns != nullptr && !inherited) {
      PodNetns candidate = *ns;
      netns_->ReadListeners(candidate);
      ready = OutboundReady(candidate, options_.outbound_port);
    }
    if (!ready) {
      ++result.waiting;
      continue;
    }
    inherited_.erase(ns->cookie);
    EnrolledPod pod;
    pod.workload = workload;
    pod.netns_cookie = ns->cookie;
    pod.netns_inode = ns->inode;
    pod.netns_fd = ns->fd;
    pod.inbound_listeners = std::move(handoff.inbound_listeners);
    pod.handoff_generation = handoff.generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pod.workload_id = AllocateId();
    }
    if (absl::Status s = backend_->Enroll(pod); !s.ok()) {
      log::Warn("enroll failed; will retry", {{"workload", uid}, {"error", s}});
      if (failures_) failures_->Increment();
      std::lock_guard<std::mutex> lock(mu_);
      used_ids_[pod.workload_id] = false;
      ++result.failed;
      continue;
    }
    log::Info("workload enrolled",
              {{"workload", uid},
               {"netns_cookie", pod.netns_cookie},
               {"workload_id", pod.workload_id},
               {"mode", std::string(InboundModeName(workload.mode))}});
    std::lock_guard<std::mutex> lock(mu_);
    enrolled_.emplace(uid, std::move(pod));
    ++result.enrolled;
  }
  // Whatever the previous agent enrolled that is not adopted by now belongs to no
  // planned pod (or its pod is gone): release it.
  for (auto it = inherited_.begin(); inherited_read_ && it != inherited_.end();) {
    EnrolledPod stale;
    stale.netns_cookie = *it;
    stale.workload.uid = absl::StrCat("(netns ", *it, ")");
    if (absl::Status s = backend_->Unenroll(stale); !s.ok()) {
      log::Warn("releasing a stale enrollment failed; will retry",
                {{"netns_cookie", *it}, {"error", s}});
      if (failures_) failures_->Increment();
      ++it;
      continue;
    }
    log::Info("stale enrollment released", {{"netns_cookie", *it}});
    ++result.unenrolled;
    it = inherited_.erase(it);
  }
  if (enrolled_gauge_) {
    std::lock_guard<std::mutex> lock(mu_);
    enrolled_gauge_->Set(static_cast<double>(enrolled_.size()));
  }
  return result;
}

void EnrollmentController::RefreshListeners(const EnrolledPod& pod, const PodNetns& ns) {
  HandoffState state = options_.handoff->Offer(pod.workload, ns);
  if (!state.ready || state.generation == pod.handoff_generation) return;
  EnrolledPod updated = pod;
  updated.inbound_listeners = std::move(state.inbound_listeners);
  updated.handoff_generation = state.generation;
  if (absl::Status s = backend_->UpdateInboundListeners(updated); !s.ok()) {
    log::Warn("registering ztunnel's inbound listeners failed; will retry",
              {{"workload", pod.workload.uid}, {"error", s}});
    if (failures_) failures_->Increment();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  enrolled_[pod.workload.uid] = std::move(updated);
}

void EnrollmentController::Wake() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  snapshot_changed_ = true;
  wake_.notify_one();
}

void EnrollmentController::Start(config::SnapshotStore* store, absl::Duration period) {
  store->Subscribe([this](std::shared_ptr<const config::ConfigSnapshot>) { Wake(); });
  thread_ = std::thread([this, store, period] { Loop(store, period); });
}

void EnrollmentController::Stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void EnrollmentController::Loop(config::SnapshotStore* store, absl::Duration period) {
  const auto wait = std::chrono::microseconds(absl::ToInt64Microseconds(period));
  uint64_t last_version = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_.wait_for(lock, wait, [this] { return stopping_ || snapshot_changed_; });
      if (stopping_) return;
      snapshot_changed_ = false;
    }
    auto snapshot = store->Current();
    if (!snapshot) continue;
    ReconcileResult r = Reconcile(snapshot->config);
    bool changed = r.enrolled > 0 || r.unenrolled > 0 || snapshot->version != last_version;
    last_version = snapshot->version;
    if (changed && on_change_) on_change_(*snapshot, Enrolled());
  }
}

std::vector<EnrolledPod> EnrollmentController::Enrolled() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EnrolledPod> out;
  for (const auto& [uid, pod] : enrolled_) out.push_back(pod);
  return out;
}

}  // namespace weft::agent
