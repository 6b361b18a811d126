#include "agent/capture_stats_collector.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"

namespace weft::agent {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Bucket i holds samples with floor(log2(v)) == i, i.e. v in [2^i, 2^(i+1)).
ClientMetric::Histogram ToHistogram(const weft::bpf::capture::Histogram& buckets, double unit_seconds) {
  ClientMetric::Histogram h;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    double low = std::ldexp(1.0, static_cast<int>(i)) * unit_seconds;
    h.sample_sum += static_cast<double>(buckets[i]) * low * 1.5;  // midpoint estimate
    h.bucket.push_back({cumulative, low * 2});
  }
  h.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  h.sample_count = cumulative;
  return h;
}

ClientMetric Labelled(std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  return m;
}

}  // namespace

std::vector<MetricFamily> CaptureStatsCollector::Collect() const {
  MetricFamily connections{"weft_workload_connections_total",
                           "TCP connects of enrolled workloads by kernel decision",
                           MetricType::Counter, {}};
  MetricFamily errors{"weft_workload_capture_errors_total",
                      "Connects the capture program could not handle (map full, ...)",
                      MetricType::Counter, {}};
  MetricFamily latency{"weft_workload_connect_latency_seconds",
                       "TCP handshake time of enrolled workloads' client sockets, from the kernel's first "
                       "RTT sample (SYN to SYN-ACK) plus SYN retransmission backoff",
                       MetricType::Histogram, {}};
  MetricFamily srtt{"weft_workload_srtt_seconds",
                    "Smoothed RTT samples of enrolled workloads' TCP sockets (sockops)",
                    MetricType::Histogram, {}};
  MetricFamily denials{"weft_workload_policy_denials_total",
                       "Connects of enrolled workloads the in-kernel L4 policy refused (EPERM)",
                       MetricType::Counter, {}};
  std::vector<EnrolledPod> enrolled = enrollment_->Enrolled();
  std::map<uint32_t, std::string> workload_names;
  for (const EnrolledPod& pod : enrolled) {
    workload_names[pod.workload_id] = absl::StrCat(pod.workload.namespace_, "/", pod.workload.name);
  }
  if (auto counts = capture_->ReadPolicyDenials(); counts.ok()) {
    for (const weft::bpf::capture::PolicyDenials& d : *counts) {
      auto name = workload_names.find(d.workload_id);
      std::string policy = policy_->PolicyName(d.policy_id);
      if (name == workload_names.end() || policy.empty()) continue;
      ClientMetric m = Labelled({{"workload", name->second}, {"policy", policy}});
      m.counter.value = static_cast<double>(d.count);
      denials.metric.push_back(std::move(m));
    }
  } else {
    log::Warn("cannot read policy denial counters", {{"error", counts.status()}});
  }
  for (const EnrolledPod& pod : enrolled) {
    absl::StatusOr<weft::bpf::capture::WorkloadStats> stats =
        capture_->ReadWorkloadStats(pod.workload_id);
    if (!stats.ok()) {
      log::Warn("cannot read workload counters", {{"workload", pod.workload.uid},
                                                  {"error", stats.status()}});
      continue;
    }
    std::string workload = absl::StrCat(pod.workload.namespace_, "/", pod.workload.name);
    for (auto [decision, value] : {std::pair{"captured", stats->captured},
                                   std::pair{"passed", stats->passed},
                                   std::pair{"denied", stats->denied}}) {
      ClientMetric m = Labelled({{"workload", workload}, {"decision", decision}});
      m.counter.value = static_cast<double>(value);
      connections.metric.push_back(std::move(m));
    }
    ClientMetric e = Labelled({{"workload", workload}});
    e.counter.value = static_cast<double>(stats->errors);
    errors.metric.push_back(std::move(e));
    ClientMetric l = Labelled({{"workload", workload}});
    l.histogram = ToHistogram(stats->connect_latency_ns, 1e-9);
    latency.metric.push_back(std::move(l));
    ClientMetric r = Labelled({{"workload", workload}});
    r.histogram = ToHistogram(stats->srtt_us, 1e-6);
    srtt.metric.push_back(std::move(r));
  }
  return {std::move(connections), std::move(errors), std::move(latency), std::move(srtt),
          std::move(denials)};
}

}  // namespace weft::agent
