// Keeps the in-kernel L4 policy maps equal to what the config says for the pods
// this node has enrolled: after every snapshot and every enrollment change it
// compiles the AuthorizationPolicies (agent/bpf/policy, which evaluates with the
// same reference evaluator ztunnel uses) and writes only the differences.
//
// What cannot be compiled (maps too small, L7 fields, destinations behind a
// waypoint) stays DEFER: the connection is captured and ztunnel — authoritative,
// fail closed — decides. Each such issue is logged once per snapshot with the
// policy's name and exported as weft_policy_kernel_deferred_entries{policy}.
#pragma once

#include <prometheus/gauge.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/bpf/capture/capture_program.h"
#include "agent/bpf/policy/policy_map_writer.h"
#include "agent/enrollment/enrollment_controller.h"
#include "common/admin/metrics_registry.h"
#include "common/config/config_snapshot.h"

namespace weft::agent {

class KernelPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<KernelPolicy>> Create(
      weft::bpf::capture::CaptureProgram* capture, admin::MetricsRegistry* metrics);

  // Recompiles for `snapshot` and `enrolled`, then applies. Errors are logged and
  // counted here; on a compile error the maps are emptied (everything DEFER).
  void Update(const config::ConfigSnapshot& snapshot, const std::vector<EnrolledPod>& enrolled);

  // "namespace/name" of a compiled policy id (1-based), "" if unknown.
  std::string PolicyName(uint32_t policy_id) const;
  // All of them, in id order.
  std::vector<std::string> PolicyNames() const;

 private:
  KernelPolicy(weft::bpf::capture::CaptureProgram* capture,
               std::unique_ptr<bpf::policy::PolicyMapWriter> writer,
               admin::MetricsRegistry* metrics)
      : capture_(capture), writer_(std::move(writer)), metrics_(metrics) {}

  void ExportIssues(const std::vector<bpf::policy::CompileIssue>& issues);

  weft::bpf::capture::CaptureProgram* const capture_;
  std::unique_ptr<bpf::policy::PolicyMapWriter> writer_;
  admin::MetricsRegistry* const metrics_;
  std::mutex update_mu_;  // one compile+apply at a time

  mutable std::mutex names_mu_;
  std::vector<std::string> policy_names_;  // index policy_id - 1
  std::vector<prometheus::Gauge*> issue_gauges_;
};

}  // namespace weft::agent
