// weft-loadgen: `server` answers load, `client` generates it and reports one run.
// Exit status: 0 the run happened (its errors, if any, are in the report), 1 it could not
// run (bind failed, netns missing...), 2 usage error.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/loadgen/load_client.h"
#include "bench/loadgen/load_server.h"
#include "bench/loadgen/process_placement.h"
#include "bench/loadgen/run_report.h"
#include "bench/loadgen/splice_relay.h"
#include "common/cli/flag_set.h"

namespace weft::loadgen {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

LoadServer* g_server = nullptr;
SpliceRelay* g_relay = nullptr;

void StopServerOnSignal(int) {
  // Each an eventfd write: async-signal-safe.
  if (g_server != nullptr) g_server->Stop();
  if (g_relay != nullptr) g_relay->Stop();
}

struct Placement {
  int64_t cpu = -1;
  std::string netns;
  std::string cgroup;
};

void DeclarePlacementFlags(cli::FlagSet& flags, Placement& p) {
  flags.Int("cpu-affinity", &p.cpu, -1, "pin the process to this CPU (-1: no pinning)");
  flags.String("netns", &p.netns, "", "enter this network namespace (path) before any socket");
  flags.String("cgroup", &p.cgroup, "",
               "join this cgroup v2 directory first, so the run is captured like a pod");
}

// Order matters: the cgroup first (a pod's process joins its cgroup, then its netns).
absl::Status ApplyPlacement(const Placement& p) {
  if (!p.cgroup.empty()) {
    if (absl::Status s = JoinCgroup(p.cgroup); !s.ok()) return s;
  }
  if (!p.netns.empty()) {
    if (absl::Status s = EnterNetns(p.netns); !s.ok()) return s;
  }
  if (p.cpu >= 0) return PinToCpu(static_cast<int>(p.cpu));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SecondsToNanos(const std::string& flag, const std::string& text) {
  double seconds = 0;
  if (!absl::SimpleAtod(text, &seconds) || seconds < 0 || seconds > 86400) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected seconds (0..86400), got \"", text, "\""));
  }
  return static_cast<int64_t>(seconds * 1e9);
}

int Fail(const absl::Status& status, int code) {
  std::cerr << "weft-loadgen: " << status.message() << "\n";
  return code;
}

// `server --mode relay`: the splice relay (splice_relay.h) instead of a load server.
int RunRelay(const event::SocketAddress& listen, const std::string& relay_to,
             int64_t max_seconds, const Placement& placement) {
  absl::StatusOr<event::SocketAddress> upstream = event::SocketAddress::Parse(relay_to);
  if (!upstream.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--relay-to: ", upstream.status().message())),
                kExitUsage);
  }
  if (absl::Status s = ApplyPlacement(placement); !s.ok()) return Fail(s, kExitFailed);
  // splice(2) into a socket has no MSG_NOSIGNAL: a reset peer must be an EPIPE, not death.
  signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<std::unique_ptr<SpliceRelay>> relay = SpliceRelay::Create(
      {.listen = listen, .upstream = *upstream, .max_duration_ns = max_seconds * 1'000'000'000});
  if (!relay.ok()) return Fail(relay.status(), kExitFailed);
  g_relay = relay->get();
  signal(SIGINT, StopServerOnSignal);
  signal(SIGTERM, StopServerOnSignal);
  std::cout << "listening " << (*relay)->address().ToString() << " mode relay to "
            << upstream->ToString() << std::endl;
  absl::Status run = (*relay)->Run();
  g_relay = nullptr;
  const SpliceRelayCounters& c = (*relay)->counters();
  std::cerr << "weft-loadgen relay: accepted " << c.connections_accepted.load()
            << " upstream_failures " << c.upstream_failures.load() << " relay_failures "
            << c.relay_failures.load() << " relayed "
            << c.bytes_relayed.load() << "\n";
  return run.ok() ? 0 : Fail(run, kExitFailed);
}

int RunServerCommand(const std::vector<std::string>& args) {
  cli::FlagSet flags("weft-loadgen server [flags]",
                     "Serves load: echo (framed request/response), sink or source; or relays it (splice).");
  std::string listen;
  std::string mode;
  int64_t max_seconds = 0;
  Placement placement;
  flags.String("listen", &listen, "127.0.0.1:0", "IP:PORT to listen on (port 0: any free port)");
  std::string relay_to;
  flags.String("mode", &mode, "echo",
               "echo | sink (bulk upload) | source (bulk download) | relay (splice to --relay-to)");
  flags.String("relay-to", &relay_to, "", "relay mode: IP:PORT each connection is spliced to");
  flags.Int("max-seconds", &max_seconds, 600, "exit after this many seconds whatever happens");
  DeclarePlacementFlags(flags, placement);
  absl::StatusOr<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) return Fail(rest.status(), kExitUsage);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  absl::StatusOr<event::SocketAddress> address = event::SocketAddress::Parse(listen);
  if (!address.ok()) return Fail(address.status(), kExitUsage);
  if (max_seconds <= 0) return Fail(absl::InvalidArgumentError("--max-seconds: > 0"), kExitUsage);
  if (mode == "relay") return RunRelay(*address, relay_to, max_seconds, placement);
  if (!relay_to.empty()) {
    return Fail(absl::InvalidArgumentError("--relay-to: only with --mode relay"), kExitUsage);
  }
  ServerOptions options;
  absl::StatusOr<ServerMode> server_mode = ParseServerMode(mode);
  if (!server_mode.ok()) return Fail(server_mode.status(), kExitUsage);
  options.listen = *address;
  options.mode = *server_mode;
  options.max_duration_ns = max_seconds * 1'000'000'000;
  if (absl::Status s = ApplyPlacement(placement); !s.ok()) return Fail(s, kExitFailed);

  absl::StatusOr<std::unique_ptr<LoadServer>> server = LoadServer::Create(options);
  if (!server.ok()) return Fail(server.status(), kExitFailed);
  g_server = server->get();
  signal(SIGINT, StopServerOnSignal);
  signal(SIGTERM, StopServerOnSignal);
  // One line a script can wait for; with port 0 it is the only way to learn the port.
  std::cout << "listening " << (*server)->address().ToString() << " mode " << mode << std::endl;
  absl::Status run = (*server)->Run();
  g_server = nullptr;
  const ServerCounters& c = (*server)->counters();
  std::cerr << "weft-loadgen server: accepted " << c.connections_accepted << " answered "
            << c.requests_answered << " protocol_errors " << c.protocol_errors << " in "
            << c.bytes_received << " out " << c.bytes_sent << "\n";
  return run.ok() ? 0 : Fail(run, kExitFailed);
}

int RunClientCommand(const std::vector<std::string>& args) {
  cli::FlagSet flags("weft-loadgen client --target IP:PORT [flags]",
                     "Generates one run of load and reports it (one JSON object with --json).");
  std::string target, scenario, rate, duration, warmup, direction;
  int64_t size = 0, connections = 0, timeout_ms = 0;
  bool closed = false, json = false;
  Placement placement;
  flags.String("target", &target, "", "IP:PORT of a weft-loadgen server (required)");
  flags.String("scenario", &scenario, "rr", "rr | connrate | bulk");
  flags.Int("size", &size, 1024, "request and response payload bytes (rr, connrate)");
  flags.Int("connections", &connections, 1, "connections (rr, bulk) or workers (connrate)");
  flags.String("rate", &rate, "", "rr open loop: aggregate requests per second");
  flags.Bool("closed", &closed, false, "rr closed loop: next request when the answer is in");
  flags.String("duration", &duration, "10", "measured seconds (after warm-up)");
  flags.String("warmup", &warmup, "1", "seconds of load before measuring");
  flags.Int("timeout-ms", &timeout_ms, 2000, "per-request (and per-connect) timeout");
  flags.String("direction", &direction, "upload", "bulk: upload (server sink) | download");
  flags.Bool("json", &json, false, "print one JSON object instead of a human line");
  DeclarePlacementFlags(flags, placement);
  absl::StatusOr<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) return Fail(rest.status(), kExitUsage);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }

  ClientOptions options;
  absl::StatusOr<event::SocketAddress> address = event::SocketAddress::Parse(target);
  if (!address.ok()) return Fail(address.status(), kExitUsage);
  options.target = *address;
  absl::StatusOr<Scenario> parsed_scenario = ParseScenario(scenario);
  if (!parsed_scenario.ok()) return Fail(parsed_scenario.status(), kExitUsage);
  options.scenario = *parsed_scenario;
  absl::StatusOr<BulkDirection> parsed_direction = ParseBulkDirection(direction);
  if (!parsed_direction.ok()) return Fail(parsed_direction.status(), kExitUsage);
  options.direction = *parsed_direction;
  if (size < 0 || size > 0xffffffffLL) {
    return Fail(absl::InvalidArgumentError("--size: out of range"), kExitUsage);
  }
  options.size = static_cast<uint32_t>(size);
  options.connections = static_cast<int>(std::min<int64_t>(connections, 1 << 30));
  options.closed_loop = closed;
  if (!rate.empty() && !absl::SimpleAtod(rate, &options.rate)) {
    return Fail(absl::InvalidArgumentError("--rate: expected requests per second"), kExitUsage);
  }
  absl::StatusOr<int64_t> duration_ns = SecondsToNanos("duration", duration);
  if (!duration_ns.ok()) return Fail(duration_ns.status(), kExitUsage);
  absl::StatusOr<int64_t> warmup_ns = SecondsToNanos("warmup", warmup);
  if (!warmup_ns.ok()) return Fail(warmup_ns.status(), kExitUsage);
  options.duration_ns = *duration_ns;
  options.warmup_ns = *warmup_ns;
  options.request_timeout_ns = timeout_ms * 1'000'000;
  if (absl::Status valid = ValidateClientOptions(options); !valid.ok()) {
    return Fail(valid, kExitUsage);
  }
  if (absl::Status s = ApplyPlacement(placement); !s.ok()) return Fail(s, kExitFailed);

  absl::StatusOr<RunReport> report = RunClient(options);
  if (!report.ok()) return Fail(report.status(), kExitFailed);
  std::cout << (json ? RenderJson(*report) : RenderHumanLine(*report)) << std::endl;
  return 0;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args = cli::Args(argc, argv);
  const std::string usage =
      "usage: weft-loadgen server [flags] | weft-loadgen client [flags]  (--help for each)\n";
  if (args.empty()) {
    std::cerr << usage;
    return kExitUsage;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "server") return RunServerCommand(rest);
  if (args[0] == "client") return RunClientCommand(rest);
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << usage;
    return 0;
  }
  std::cerr << usage;
  return kExitUsage;
}

}  // namespace
}  // namespace weft::loadgen

int main(int argc, char** argv) { return weft::loadgen::Main(argc, argv); }
