#include "bench/hoptrace/bench_latency_command.h"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/hoptrace/hop_tracer.h"
#include "bench/hoptrace/lab_participants.h"
#include "common/cli/flag_set.h"

namespace weft::hoptrace {
namespace {

constexpr int64_t kMaxDurationSeconds = 3600;

struct LatencyFlags {
  std::string lab;
  std::string from;
  std::string to;
  int64_t interval_s = 2;
  int64_t duration_s = 0;
  std::string output;
};

int Fail(const std::string& reason) {
  std::fprintf(stderr, "weftctl bench latency: %s\n", reason.c_str());
  return 1;
}

int UsageError(const std::string& reason, const cli::FlagSet& flags) {
  std::fprintf(stderr, "weftctl bench latency: %s\n%s", reason.c_str(), flags.Usage().c_str());
  return 2;
}

void Print(const HopReport& report, const LatencyFlags& flags, double elapsed_s) {
  if (flags.output == "json") {
    std::printf("{\"elapsed_s\":%.1f,\"report\":%s}\n", elapsed_s, HopReportJson(report).c_str());
  } else {
    std::printf("--- %s → %s, %.0f s (cumulative)\n%s\n", flags.from.c_str(), flags.to.c_str(),
                elapsed_s, FormatHopTable(report).c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int RunBenchLatency(const std::vector<std::string>& args) {
  LatencyFlags f;
  cli::FlagSet flags(
      "weftctl bench latency --lab NAME [flags]",
      "Per-hop kernel latency (client app → ztunnels → server app and back) of a "
      "running lab, from the tcp_sendmsg_locked and sock_recv_length tracepoints. Needs root.");
  flags.String("lab", &f.lab, "", "the running lab's name (required)");
  flags.String("from", &f.from, "demo/client", "client pod, NS/POD");
  flags.String("to", &f.to, "demo/server", "server pod, NS/POD");
  flags.Int("interval", &f.interval_s, 2, "seconds between two printed tables");
  flags.Int("duration", &f.duration_s, 0, "seconds to run; 0 = until Ctrl-C (at most 3600)");
  flags.String("output", &f.output, "text", "text | json (one object per interval)");
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return UsageError(std::string(positional.status().message()), flags);
  if (flags.help_requested()) {
    std::printf("%s", flags.Usage().c_str());
    return 0;
  }
  if (!positional->empty()) return UsageError("unexpected argument " + (*positional)[0], flags);
  if (f.lab.empty()) return UsageError("--lab is required", flags);
  if (f.output != "text" && f.output != "json") {
    return UsageError("--output: expected text or json, got " + f.output, flags);
  }
  if (f.interval_s < 1) return UsageError("--interval: expected at least 1 s", flags);
  if (f.duration_s < 0 || f.duration_s > kMaxDurationSeconds) {
    return UsageError(absl::StrCat("--duration: expected 0..", kMaxDurationSeconds), flags);
  }
  const int64_t duration_s = f.duration_s == 0 ? kMaxDurationSeconds : f.duration_s;

  absl::StatusOr<std::vector<HopParticipant>> participants = LabParticipants(f.lab, f.from, f.to);
  if (!participants.ok()) return Fail(std::string(participants.status().message()));

  // SIGINT/SIGTERM are blocked before the poll thread exists (it inherits the mask), so
  // only sigtimedwait below sees them: Ctrl-C ends the wait and the tracer detaches.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  HopTraceSpec spec;
  spec.participants = *std::move(participants);
  absl::StatusOr<std::unique_ptr<HopTracer>> tracer = HopTracer::Start(spec);
  if (!tracer.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return Fail(std::string(tracer.status().message()));
  }
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(duration_s);
  bool interrupted = false;
  while (!interrupted) {
    const absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    const absl::Duration wait = std::min(left, absl::Seconds(f.interval_s));
    const timespec timeout = absl::ToTimespec(wait);
    const int sig = sigtimedwait(&stop_signals, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) interrupted = true;
    if (sig < 0 && errno != EAGAIN && errno != EINTR) break;
    if (!interrupted && wait == left) break;  // the last interval is printed as final
    if (!interrupted) Print((*tracer)->Snapshot(), f, absl::ToDoubleSeconds(absl::Now() - start));
  }
  const HopReport final_report = (*tracer)->Stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  Print(final_report, f, absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

}  // namespace weft::hoptrace
