#include "agent/kernel_policy.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "agent/bpf/policy/policy_compiler.h"
#include "common/log/logger.h"

namespace weft::agent {

absl::StatusOr<std::unique_ptr<KernelPolicy>> KernelPolicy::Create(
    weft::bpf::capture::CaptureProgram* capture, admin::MetricsRegistry* metrics) {
  weft::bpf::capture::PolicyMapHandles handles = capture->policy_maps();
  auto writer = bpf::policy::PolicyMapWriter::Create(
      bpf::policy::PolicyMaps{handles.dst_v4, handles.dst_v6, handles.verdicts});
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<KernelPolicy>(new KernelPolicy(capture, *std::move(writer), metrics));
}

void KernelPolicy::Update(const config::ConfigSnapshot& snapshot,
                          const std::vector<EnrolledPod>& enrolled) {
  std::lock_guard<std::mutex> lock(update_mu_);
  std::vector<bpf::policy::SourceWorkload> sources;
  for (const EnrolledPod& pod : enrolled) {
    sources.push_back({pod.workload_id, pod.workload.namespace_, pod.workload.service_account,
                       pod.workload.addresses});
  }
  bpf::policy::CompiledPolicyMaps compiled;
  auto compiler = bpf::policy::PolicyCompiler::Create(snapshot.config);
  if (compiler.ok()) {
    compiled = (*compiler)->Compile(sources, bpf::policy::PolicyCapacity{});
  } else {
    // Nothing compiled means every connection is DEFER: ztunnel decides, fail closed.
    log::Error("kernel policy not compiled; ztunnel enforces alone",
               {{"version", snapshot.version}, {"error", compiler.status()}});
    if (metrics_) {
      if (auto c = metrics_->Counter("weft_policy_compile_failures_total",
                                     "Snapshots whose policies could not be compiled for the "
                                     "kernel (ztunnel enforces them alone)");
          c.ok()) {
        (*c)->Increment();
      }
    }
  }
  absl::StatusOr<bpf::policy::PolicyMapSyncStats> applied = writer_->Apply(compiled);
  if (!applied.ok()) {
    log::Error("kernel policy maps not updated", {{"version", snapshot.version},
                                                  {"error", applied.status()}});
    writer_->ForgetContents();  // re-read the maps next time instead of trusting our copy
    return;
  }
  ExportIssues(compiled.issues);
  std::vector<std::string> previous;
  {
    std::lock_guard<std::mutex> names(names_mu_);
    previous = policy_names_;
    policy_names_ = compiled.policy_names;
  }
  // Policy ids are the compiler's numbering; when it changes, old counts would be
  // attributed to the wrong policy, so they restart (a counter reset to Prometheus).
  if (previous != compiled.policy_names) {
    if (absl::Status s = capture_->PrunePolicyDenials({}); !s.ok()) {
      log::Warn("stale policy denial counters not removed", {{"error", s}});
    }
  }
  log::Info("kernel policy applied",
            {{"version", snapshot.version},
             {"sources", sources.size()},
             {"verdicts", compiled.verdicts.size()},
             {"issues", compiled.issues.size()}});
}

void KernelPolicy::ExportIssues(const std::vector<bpf::policy::CompileIssue>& issues) {
  std::map<std::string, double> per_policy;
  for (const bpf::policy::CompileIssue& issue : issues) {
    std::string policy = issue.policy_name.empty()
                             ? std::string("(capacity)")
                             : absl::StrCat(issue.policy_namespace, "/", issue.policy_name);
    per_policy[policy] += static_cast<double>(issue.entries);
    log::Warn("policy left to ztunnel (not decided in the kernel)",
              {{"policy", policy}, {"reason", issue.reason}, {"entries", issue.entries}});
  }
  if (!metrics_) return;
  for (prometheus::Gauge* g : issue_gauges_) g->Set(0);
  issue_gauges_.clear();
  for (const auto& [policy, entries] : per_policy) {
    auto gauge = metrics_->Gauge("weft_policy_kernel_deferred_entries",
                                 "Verdict entries a policy leaves to ztunnel in the current "
                                 "compile (L7 fields, waypoints, map capacity)",
                                 {{"policy", policy}});
    if (!gauge.ok()) continue;
    (*gauge)->Set(entries);
    issue_gauges_.push_back(*gauge);
  }
}

std::string KernelPolicy::PolicyName(uint32_t policy_id) const {
  std::lock_guard<std::mutex> lock(names_mu_);
  if (policy_id == 0 || policy_id > policy_names_.size()) return "";
  return policy_names_[policy_id - 1];
}

}  // namespace weft::agent

namespace weft::agent {

std::vector<std::string> KernelPolicy::PolicyNames() const {
  std::lock_guard<std::mutex> lock(names_mu_);
  return policy_names_;
}

}  // namespace weft::agent
