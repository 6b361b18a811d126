#include "bench/capture_scenarios.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/connect_cycles.h"
#include "tests/bpf/capture/capture_test_env.h"

namespace weft::bench {
namespace {

using Where = CaptureBenchEnv::Where;

// Captured destinations: not local to the pod, so only the rewrite makes them reachable.
constexpr char kCapturedIp[] = "10.99.0.7";
constexpr uint16_t kCapturedBasePort = 20000;

struct ConnectMode {
  const char* name;
  Where where;
  ConnectCycleSpec spec;
};

// 0..n-1 on even repetitions, n-1..0 on odd ones.
std::vector<int> Order(int n, int rep) {
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  if (rep % 2) std::reverse(order.begin(), order.end());
  return order;
}

void Fail(Row* row, bool record, int rep, const std::string& why) {
  if (record) row->errors.push_back(absl::StrCat("repetition ", rep + 1, ": ", why));
}

// Runs the cycles in the child; an error text when anything failed.
absl::StatusOr<ConnectCycleResult> Cycles(const CaptureBenchEnv& env, const ConnectMode& mode) {
  const ConnectCycleSpec spec = mode.spec;
  int timeout_ms = static_cast<int>(spec.max_seconds * 1000) + 5000;
  absl::StatusOr<std::string> out = env.RunIn(
      mode.where, [spec] { return EncodeConnectCycles(RunConnectCycles(spec)); }, timeout_ms);
  if (!out.ok()) return out.status();
  absl::StatusOr<ConnectCycleResult> r = DecodeConnectCycles(*out);
  if (!r.ok()) return r.status();
  if (r->failed > 0) {
    return absl::InternalError(
        absl::StrCat(r->failed, " of ", spec.count, " connects failed, first: ", r->first_error));
  }
  return r;
}

ConnectCycleSpec Spec(const std::string& ip, uint16_t port, int spread, int count) {
  ConnectCycleSpec s;
  s.ip = ip;
  s.base_port = port;
  s.port_spread = spread;
  s.count = count;
  s.max_seconds = 15;
  return s;
}

}  // namespace

CaptureScenarios::CaptureScenarios(CaptureBenchEnv& env, const CaptureBenchConfig& config,
                                   ResultTable& table)
    : env_(env), config_(config) {
  cost_[0] = &table.Add("connect4_cost", "captured", "ns/call", "<= 250");
  cost_[1] = &table.Add("connect4_cost", "excluded", "ns/call");
  cost_[2] = &table.Add("connect4_cost", "loopback", "ns/call");
  cost_[3] = &table.Add("connect4_cost", "unenrolled", "ns/call");
  rate_[0] = &table.Add("conn_rate", "captured", "conn/s");
  rate_[1] = &table.Add("conn_rate", "hooks_pass", "conn/s");
  rate_[2] = &table.Add("conn_rate", "no_weft", "conn/s");
  rate_ratio_no_weft_ = &table.Add("conn_rate_ratio", "captured/no_weft", "x", ">= 0.8");
  rate_ratio_hooks_ = &table.Add("conn_rate_ratio", "captured/hooks", "x");
  bulk_[0] = &table.Add("loopback_bulk", "sc_on", "MiB/s");
  bulk_[1] = &table.Add("loopback_bulk", "sc_off", "MiB/s");
  p50_[0] = &table.Add("rr_1B_latency_p50", "sc_on", "us");
  p50_[1] = &table.Add("rr_1B_latency_p50", "sc_off", "us");
  p99_[0] = &table.Add("rr_1B_latency_p99", "sc_on", "us");
  p99_[1] = &table.Add("rr_1B_latency_p99", "sc_off", "us");
  bulk_ratio_ = &table.Add("loopback_bulk_ratio", "on/off", "x");
  p50_ratio_ = &table.Add("rr_1B_p50_ratio", "on/off", "x");
}

absl::Status CaptureScenarios::Prepare() {
  auto program =
      CgroupProgram::Find(env_.pod_cgroup_fd(), BPF_CGROUP_INET4_CONNECT, "capture_connect");
  if (!program.ok()) return program.status();
  connect4_ = std::move(*program);
  return absl::OkStatus();
}

void CaptureScenarios::RunConnect4CostRound(int rep, bool record) {
  const int n = config_.cost_connects;
  const std::array<ConnectMode, 4> modes = {{
      {"captured", Where::kEnrolledPod, Spec(kCapturedIp, kCapturedBasePort, 1000, n)},
      {"excluded", Where::kEnrolledPod,
       Spec(capture_test::kExcludedIpv4, capture_test::kAppPort, 1, n)},
      {"loopback", Where::kEnrolledPod, Spec("127.0.0.1", capture_test::kOutboundPort, 1, n)},
      // Local in that netns too, and captured if the netns were enrolled.
      {"unenrolled", Where::kUnenrolledPod,
       Spec(capture_test::kOtherLocalIpv4, capture_test::kAppPort, 1, n)},
  }};
  // Held only for this round: the throughput scenarios run without the stats overhead.
  auto stats = BpfRunTimeStats::Enable();
  if (!stats.ok()) {
    for (Row* row : cost_) Fail(row, record, rep, stats.status().ToString());
    return;
  }
  for (int i : Order(static_cast<int>(modes.size()), rep)) {
    auto before = connect4_->Read();
    auto cycles = Cycles(env_, modes[i]);
    auto after = connect4_->Read();
    if (!cycles.ok()) {
      Fail(cost_[i], record, rep, cycles.status().ToString());
      continue;
    }
    if (!before.ok() || !after.ok()) {
      Fail(cost_[i], record, rep, (before.ok() ? after : before).status().ToString());
      continue;
    }
    const uint64_t runs = after->run_cnt - before->run_cnt;
    const uint64_t ns = after->run_time_ns - before->run_time_ns;
    // Every connect runs connect4 exactly once; anything else means we measured noise.
    if (runs != static_cast<uint64_t>(n)) {
      Fail(cost_[i], record, rep,
           absl::StrCat("connect4 ran ", runs, " times for ", n, " connects"));
      continue;
    }
    if (record) cost_[i]->samples.push_back(static_cast<double>(ns) / static_cast<double>(runs));
  }
}

void CaptureScenarios::RunConnectionRateRound(int rep, bool record) {
  const int n = config_.rate_connects;
  // The same listener (the stand-in's 127.0.0.1:15001) in all three: captured dials a
  // remote address and is rewritten to it; the others dial it directly, from the pod
  // cgroup (hooks run and pass) or from a cgroup without weft programs.
  const std::array<ConnectMode, 3> modes = {{
      {"captured", Where::kEnrolledPod, Spec(kCapturedIp, kCapturedBasePort, 1000, n)},
      {"hooks_pass", Where::kEnrolledPod, Spec("127.0.0.1", capture_test::kOutboundPort, 1, n)},
      {"no_weft", Where::kBareCgroup, Spec("127.0.0.1", capture_test::kOutboundPort, 1, n)},
  }};
  std::array<std::optional<double>, 3> rate;
  for (int i : Order(static_cast<int>(modes.size()), rep)) {
    auto cycles = Cycles(env_, modes[i]);
    if (!cycles.ok()) {
      Fail(rate_[i], record, rep, cycles.status().ToString());
      continue;
    }
    rate[i] = cycles->attempted / cycles->seconds;
    if (record) rate_[i]->samples.push_back(*rate[i]);
  }
  // A ratio only from the same repetition, so both sides saw the same machine state.
  auto ratio = [&](Row* row, int num, int den) {
    if (rate[num] && rate[den]) {
      if (record) row->samples.push_back(*rate[num] / *rate[den]);
    } else {
      Fail(row, record, rep, "a mode it is computed from failed");
    }
  };
  ratio(rate_ratio_no_weft_, 0, 2);
  ratio(rate_ratio_hooks_, 0, 1);
}

void CaptureScenarios::RunShortCircuitRound(int rep, bool record) {
  std::array<std::optional<LoopbackPairResult>, 2> results;
  const LoopbackPairSpec spec = config_.pair;
  const int timeout_ms = static_cast<int>((spec.bulk_seconds + spec.rr_seconds) * 1000) + 10000;
  for (int i : Order(2, rep)) {
    const bool on = i == 0;
    std::vector<Row*> rows = {bulk_[i], p50_[i], p99_[i]};
    auto fail = [&](const std::string& why) {
      for (Row* row : rows) Fail(row, record, rep, why);
    };
    if (absl::Status s = env_.short_circuit().SetEnabled(on); !s.ok()) {
      fail(s.ToString());
      continue;
    }
    auto before = env_.short_circuit().Stats();
    auto out = env_.RunIn(
        Where::kEnrolledPod, [spec] { return EncodeLoopbackPair(RunLoopbackPair(spec)); },
        timeout_ms);
    auto after = env_.short_circuit().Stats();
    if (!out.ok()) {
      fail(out.status().ToString());
      continue;
    }
    auto r = DecodeLoopbackPair(*out);
    if (!r.ok() || !r->error.empty()) {
      fail(r.ok() ? r->error : r.status().ToString());
      continue;
    }
    if (!before.ok() || !after.ok()) {
      fail((before.ok() ? after : before).status().ToString());
      continue;
    }
    // The mode must be the one we think: sends redirected when on, none when off.
    const uint64_t redirected = after->redirected - before->redirected;
    if (on ? redirected == 0 : redirected != 0) {
      fail(absl::StrCat("short-circuit ", on ? "on" : "off", " but ", redirected,
                        " sends redirected"));
      continue;
    }
    results[i] = *r;
    if (record) {
      bulk_[i]->samples.push_back(r->bulk_mib_per_s);
      p50_[i]->samples.push_back(r->rr_p50_us);
      p99_[i]->samples.push_back(r->rr_p99_us);
    }
  }
  // Connection scenarios measure capture alone.
  if (absl::Status s = env_.short_circuit().SetEnabled(false); !s.ok()) {
    Fail(bulk_ratio_, record, rep, absl::StrCat("switching off: ", s.ToString()));
  }
  if (results[0] && results[1]) {
    if (record) {
      bulk_ratio_->samples.push_back(results[0]->bulk_mib_per_s / results[1]->bulk_mib_per_s);
      p50_ratio_->samples.push_back(results[0]->rr_p50_us / results[1]->rr_p50_us);
    }
  } else {
    Fail(bulk_ratio_, record, rep, "a mode it is computed from failed");
    Fail(p50_ratio_, record, rep, "a mode it is computed from failed");
  }
}

}  // namespace weft::bench
