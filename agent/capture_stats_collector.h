// Exports the kernel's per-workload capture counters and latency histograms at
// scrape time (read from the capture program's per-CPU maps, summed):
//   weft_workload_connections_total{workload, decision=captured|passed|denied}
//   weft_workload_capture_errors_total{workload}
//   weft_workload_connect_latency_seconds (histogram; connect() to established)
//   weft_workload_srtt_seconds (histogram; smoothed RTT samples from sockops)
//   weft_workload_policy_denials_total{workload, policy} (connect() refused with EPERM)
// The kernel keeps log2 buckets, so bucket bounds are powers of two and _sum is
// estimated from bucket midpoints.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "agent/bpf/capture/capture_program.h"
#include "agent/enrollment/enrollment_controller.h"
#include "agent/kernel_policy.h"

namespace weft::agent {

class CaptureStatsCollector : public prometheus::Collectable {
 public:
  CaptureStatsCollector(const weft::bpf::capture::CaptureProgram* capture,
                        const EnrollmentController* enrollment, const KernelPolicy* policy)
      : capture_(capture), enrollment_(enrollment), policy_(policy) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const weft::bpf::capture::CaptureProgram* capture_;
  const EnrollmentController* enrollment_;
  const KernelPolicy* policy_;
};

}  // namespace weft::agent
