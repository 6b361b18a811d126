// The per-hop phase of the suite (RunHopTraces in suite_runner.h): one traced rr 1 KiB
// run on one connection per mode, at a rate low enough that requests never overlap, so
// every round trip can be followed through each process on its path.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "bench/hoptrace/hop_tracer.h"
#include "bench/stop_signal.h"
#include "bench/suite/suite_runner.h"

namespace weft::bench {
namespace {

constexpr char kScenario[] = "rr_1KiB_c1";
constexpr int kTraceRate = 200;  // req/s: 5 ms apart, far above any round trip here
constexpr double kTraceWarmupS = 1.0;  // the tracer attaches during the client's warm-up

absl::StatusOr<weft::hoptrace::HopParticipant> Participant(const PathPeer& peer) {
  weft::hoptrace::HopParticipant p;
  p.name = peer.name;
  if (peer.pid > 0) p.tgids.push_back(static_cast<uint32_t>(peer.pid));
  if (!peer.cgroup_dir.empty()) {
    absl::StatusOr<uint64_t> id = weft::hoptrace::CgroupIdOf(peer.cgroup_dir);
    if (!id.ok()) return id.status();
    p.cgroup_ids.push_back(*id);
  }
  if (!peer.netns_path.empty()) {
    absl::StatusOr<uint64_t> inode = weft::hoptrace::NetnsInodeOf(peer.netns_path);
    if (!inode.ok()) return inode.status();
    p.netns_inode = *inode;
  }
  return p;
}

void Record(SuiteResults* results, const std::string& mode, const weft::hoptrace::HopStats& s) {
  const std::string hop = s.name;
  results->Row(kScenario, mode, "hop_p50", "us", "", hop).by_round[0] = s.p50_us;
  results->Row(kScenario, mode, "hop_p90", "us", "", hop).by_round[0] = s.p90_us;
  results->Row(kScenario, mode, "hop_p99", "us", "", hop).by_round[0] = s.p99_us;
  results->Row(kScenario, mode, "hop_p999", "us", "", hop).by_round[0] = s.p999_us;
  results->Row(kScenario, mode, "hop_count", "round trips", "", hop).by_round[0] =
      static_cast<double>(s.count);
}

absl::Status TraceMode(BenchWorld& world, const SuiteOptions& options, const ModeSpec& mode,
                       SuiteResults* results) {
  absl::StatusOr<ModePath> path = world.Enter(mode);
  if (!path.ok()) return path.status();
  weft::hoptrace::HopTraceSpec spec;
  spec.participants.push_back({});  // the client app, by pid once it runs
  spec.participants[0].name = "client app";
  for (const PathPeer& peer : path->peers) {
    absl::StatusOr<weft::hoptrace::HopParticipant> p = Participant(peer);
    if (!p.ok()) return p.status();
    spec.participants.push_back(*std::move(p));
  }
  std::vector<std::string> args = {"--netns", path->client.netns_path};
  if (!path->client.cgroup_dir.empty()) {
    args.insert(args.end(), {"--cgroup", path->client.cgroup_dir});
  }
  args.insert(args.end(),
              {"--target", path->echo_target, "--scenario", "rr", "--size", "1024",
               "--connections", "1", "--rate", absl::StrCat(kTraceRate), "--duration",
               absl::StrCat(options.durations.hop_trace_s), "--warmup",
               absl::StrCat(kTraceWarmupS), "--timeout-ms", "1000"});
  std::unique_ptr<weft::hoptrace::HopTracer> tracer;
  absl::Status start_status;
  absl::StatusOr<LoadgenSummary> load = RunLoadgenClient(
      options.loadgen, args, absl::Seconds(kTraceWarmupS + options.durations.hop_trace_s + 5),
      [&](pid_t client) {
        spec.participants[0].tgids = {static_cast<uint32_t>(client)};
        absl::StatusOr<std::unique_ptr<weft::hoptrace::HopTracer>> t =
            weft::hoptrace::HopTracer::Start(spec);
        if (t.ok()) {
          tracer = *std::move(t);
        } else {
          start_status = t.status();
        }
      });
  if (!start_status.ok()) return start_status;
  if (!load.ok()) return load.status();
  weft::hoptrace::HopReport report = tracer->Stop();
  if (report.round_trips == 0) {
    return absl::UnavailableError(absl::StrCat("no complete round trip traced (",
                                               report.irregular, " irregular, ",
                                               report.overlapping, " overlapping, ",
                                               report.lost_events, " events lost)"));
  }
  // A path passes through the same proxy twice (there and back): the number keeps the
  // two hops of the same name apart.
  for (size_t i = 0; i < report.hops.size(); ++i) {
    weft::hoptrace::HopStats hop = report.hops[i];
    hop.name = absl::StrCat(i + 1, ". ", hop.name);
    Record(results, mode.name, hop);
  }
  weft::hoptrace::HopStats total = report.total;
  total.name = "total (client send → client recv)";
  Record(results, mode.name, total);
  // What the generator saw for the same requests, from its actual send: the total above
  // should be close to it (the generator adds only its own wake-up).
  weft::hoptrace::HopStats generator;
  generator.name = "weft-loadgen service time (for comparison)";
  generator.count = load->count;
  generator.p50_us = load->service_p50_us;
  generator.p90_us = load->service_p90_us;
  generator.p99_us = load->service_p99_us;
  generator.p999_us = load->service_p999_us;
  Record(results, mode.name, generator);
  // The kernel's own view of each participant's connections: smoothed RTT of its sockets
  // (tcp_sock.srtt_us) sampled at each of its traced sends and receives.
  for (const weft::hoptrace::SrttStats& srtt : report.srtt) {
    results->Row(kScenario, mode.name, "srtt_p50", "us", srtt.participant).by_round[0] =
        srtt.p50_us;
    results->Row(kScenario, mode.name, "srtt_p99", "us", srtt.participant).by_round[0] =
        srtt.p99_us;
  }
  fprintf(stderr, "weftctl bench: per-hop %s: %llu round trips, %llu irregular, %llu lost\n",
          mode.name.c_str(), static_cast<unsigned long long>(report.round_trips),
          static_cast<unsigned long long>(report.irregular),
          static_cast<unsigned long long>(report.lost_events));
  return absl::OkStatus();
}

}  // namespace

void RunHopTraces(BenchWorld& world, const SuiteOptions& options, SuiteResults* results) {
  for (const ModeSpec& mode : options.modes) {
    if (StopRequested()) return;
    if (absl::Status s = TraceMode(world, options, mode, results); !s.ok()) {
      fprintf(stderr, "weftctl bench: per-hop %s: %s\n", mode.name.c_str(),
              s.ToString().c_str());
      results->Row(kScenario, mode.name, "hop_p50", "us", "", "trace")
          .errors.push_back(absl::StrCat("per-hop trace: ", s.message()));
    }
  }
}

}  // namespace weft::bench
