// Keeps the kernel's view of enrolled pods equal to the plan: on every config
// snapshot and on a short period (pods appear and go without config changes), it
// plans enrollment, finds each planned workload's netns by address, and tells the
// backend (the BPF capture program) what to add and what to remove. Established
// connections are never touched: enrolling or unenrolling only changes what
// happens to the next connect().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/enrollment/enrollment_plan.h"
#include "agent/enrollment/pod_netns_discovery.h"
#include "agent/enrollment/ztunnel_handoff.h"
#include "common/admin/metrics_registry.h"
#include "common/config/config_snapshot.h"

namespace weft::agent {

struct EnrolledPod {
  EnrolledWorkload workload;
  uint32_t workload_id = 0;  // small, stable while enrolled: indexes per-workload counters
  uint64_t netns_cookie = 0;
  uint64_t netns_inode = 0;
  std::shared_ptr<int> netns_fd;
  // ztunnel's plaintext inbound listeners (sk_lookup targets) and the handoff
  // acknowledgement they came with.
  std::vector<nodeapi::InboundListenerFd> inbound_listeners;
  uint64_t handoff_generation = 0;
};

// What enrollment does in the kernel.
class EnrollmentBackend {
 public:
  virtual ~EnrollmentBackend() = default;
  // Both idempotent. Unenroll may get a pod that carries only its netns cookie
  // (state a previous agent process left in the kernel).
  virtual absl::Status Enroll(const EnrolledPod& pod) = 0;
  virtual absl::Status Unenroll(const EnrolledPod& pod) = 0;
  // Netns cookies the kernel holds as enrolled right now — after an agent restart,
  // what the previous process enrolled (pinned maps survive it).
  virtual absl::StatusOr<std::set<uint64_t>> EnrolledInKernel() { return std::set<uint64_t>{}; }
  // ztunnel handed over new inbound listeners for an enrolled pod (it restarted).
  virtual absl::Status UpdateInboundListeners(const EnrolledPod& pod) {
    (void)pod;
    return absl::OkStatus();
  }
};

// Where pod network namespaces come from (PodNetnsDiscovery; a fake in tests).
class NetnsSource {
 public:
  virtual ~NetnsSource() = default;
  virtual absl::StatusOr<std::map<uint64_t, PodNetns>> Scan() = 0;
  // Fills ns.loopback_listeners; asked only for pods waiting for their listener.
  virtual void ReadListeners(PodNetns& ns) { (void)ns; }
};

class CgroupNetnsSource : public NetnsSource {
 public:
  explicit CgroupNetnsSource(std::string cgroup_root) : discovery_(std::move(cgroup_root)) {}
  absl::StatusOr<std::map<uint64_t, PodNetns>> Scan() override { return discovery_.Scan(); }
  void ReadListeners(PodNetns& ns) override { ns.loopback_listeners = LoopbackListeners(ns.pid); }

 private:
  PodNetnsDiscovery discovery_;
};

struct ReconcileResult {
  int enrolled = 0;
  int unenrolled = 0;
  int waiting = 0;  // planned, but no netns with its address (or no outbound listener) yet
  int failed = 0;
};

struct EnrollmentOptions {
  std::string node;
  // A pod is first enrolled only once something listens on 127.0.0.1:<port> in its
  // netns (ztunnel's outbound listener), so capture never sends a pod's connections
  // into a port nobody serves. Once enrolled it stays enrolled while ztunnel
  // restarts (fail closed). 0: no such condition.
  uint16_t outbound_port = 15001;
  // When set, a pod is first enrolled once ztunnel acknowledges it over the node API
  // (and outbound_port is not consulted); unenrolled pods are withdrawn from it.
  ZtunnelHandoff* handoff = nullptr;
};

class EnrollmentController {
 public:
  EnrollmentController(EnrollmentOptions options, std::unique_ptr<NetnsSource> netns,
                       EnrollmentBackend* backend, admin::MetricsRegistry* metrics);
  ~EnrollmentController();

  // One pass against `config` (also what the background thread runs).
  ReconcileResult Reconcile(const weft::config::v1::ClusterConfig& config);

  // Called on the controller's thread after a reconciliation that saw a new
  // snapshot or changed what is enrolled (the kernel policy recompiles then).
  using ChangeListener = std::function<void(const config::ConfigSnapshot& snapshot,
                                            const std::vector<EnrolledPod>& enrolled)>;
  void SetChangeListener(ChangeListener listener) { on_change_ = std::move(listener); }

  // Reconciles on every snapshot `store` publishes and every `period`.
  void Start(config::SnapshotStore* store, absl::Duration period = absl::Milliseconds(250));
  void Stop();
  // Reconciles now rather than at the next period (a handoff was acknowledged).
  void Wake();

  std::vector<EnrolledPod> Enrolled() const;

 private:
  uint32_t AllocateId();
  void RefreshListeners(const EnrolledPod& pod, const PodNetns& ns);
  void Loop(config::SnapshotStore* store, absl::Duration period);

  const EnrollmentOptions options_;
  std::unique_ptr<NetnsSource> netns_;
  EnrollmentBackend* const backend_;
  prometheus::Gauge* enrolled_gauge_ = nullptr;
  prometheus::Counter* failures_ = nullptr;

  mutable std::mutex mu_;  // guards enrolled_ and used_ids_ (readers: admin, weftctl)
  std::map<std::string, EnrolledPod> enrolled_;
  // Cookies a previous agent left enrolled, not yet adopted or released; read once,
  // at the first reconciliation.
  std::set<uint64_t> inherited_;
  bool inherited_read_ = false;
  std::vector<bool> used_ids_;
  std::mutex reconcile_mu_;  // one reconciliation at a time

  ChangeListener on_change_;
  std::thread thread_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool snapshot_changed_ = false;
  bool stopping_ = false;
};

}  // namespace weft::agent
