// The memory scenario of mesh_bench (mesh mode only, before any bulk traffic): both
// ztunnels' VmRSS while idle, with K idle mesh connections open (client pod -> server pod,
// each confirmed by the server), and once the client closed them and both ztunnels
// counted them closed.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/mesh_app_protocol.h"
#include "bench/mesh_node_probe.h"
#include "bench/mesh_scenarios.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kOpenedMetric[] = "weft_tcp_connections_opened_total";
constexpr char kClosedMetric[] = "weft_tcp_connections_closed_total";
// Opening K connections serially through the mesh; the client fails a stalled one
// after its own 10 s I/O timeout, so this only guards against a wedged client.
constexpr int kHoldCallTimeoutMs = 300'000;
constexpr auto kCloseSettleTimeout = std::chrono::seconds(10);

// The rows one memory round feeds ("metric/" + node, and mesh_conn_open).
constexpr const char* kRoundMetrics[] = {"zt_rss_idle", "zt_rss_with_conns", "zt_rss_per_conn",
                                         "zt_rss_after_close"};

double Megabytes(double kib) { return kib * 1024 / 1e6; }

// node -> VmRSS (KiB) of its ztunnel.
absl::Status ReadAllRss(const MeshLab::LabState& lab, std::map<std::string, double>& into) {
  for (const MeshLab::NodeState& node : lab.nodes()) {
    absl::StatusOr<double> kib = ReadRssKib(node.ztunnel().pid());
    if (!kib.ok()) return kib.status();
    into[node.name()] = *kib;
  }
  return absl::OkStatus();
}

// Waits until each node's ztunnel counts as closed every connection it had opened
// (`opened`: node -> opened counter), so what RSS shows afterwards is what ztunnel keeps,
// not work in flight. "" when they all caught up in time, else what was still open.
std::string WaitForCloses(const MeshLab::LabState& lab,
                          const std::map<std::string, double>& opened) {
  const Clock::time_point deadline = Clock::now() + kCloseSettleTimeout;
  for (const MeshLab::NodeState& node : lab.nodes()) {
    const double want = opened.at(node.name());
    double closed = 0;
    while (true) {
      absl::StatusOr<double> c = ReadZtunnelCounter(node, kClosedMetric);
      closed = c.ok() ? *c : -1;
      if (closed >= want || Clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (closed < want) {
      return absl::StrCat(node.name(), " ztunnel counted ", closed, " closed of ", want,
                          " opened connections ", kCloseSettleTimeout.count(),
                          " s after the client closed them");
    }
  }
  return "";
}

}  // namespace

absl::Status MeshScenarios::CheckZtunnelsUnchanged() {
  absl::StatusOr<MeshLab::LabState> state = lab_.ReadState();
  if (!state.ok()) return state.status();
  for (const MeshLab::NodeState& node : state->nodes()) {
    const int before = ztunnel_pids_[node.name()];
    if (node.ztunnel().pid() != before) {
      return absl::InternalError(absl::StrCat(node.name(), " ztunnel restarted (pid ", before,
                                              " -> ", node.ztunnel().pid(), ", restarts ",
                                              node.ztunnel().restarts(), ")"));
    }
  }
  return absl::OkStatus();
}

void MeshScenarios::RunMemoryRound(bool record) {
  const int k = config_.idle_connections;
  const MeshLab::LabState& lab = lab_.state();
  std::map<std::string, double> idle_kib, with_kib, after_kib, opened;

  absl::Status s = CheckZtunnelsUnchanged();
  if (s.ok()) s = ReadAllRss(lab, idle_kib);
  absl::StatusOr<double> opened_before = ReadZtunnelCounter(client_node_, kOpenedMetric);
  if (s.ok()) s = opened_before.status();
  if (!s.ok()) {
    fprintf(stderr, "mesh_bench: idle connections: %s\n", s.ToString().c_str());
    if (!record) return;
    const std::string error = absl::StrCat("idle connections: ", s.message());
    rows_["mesh_conn_open/mesh"]->errors.push_back(error);
    for (const MeshLab::NodeState& node : lab.nodes()) {
      for (const char* metric : kRoundMetrics) {
        rows_[absl::StrCat(metric, "/", node.name())]->errors.push_back(error);
      }
    }
    return;
  }

  // Open K, check they all went through the client's ztunnel, read memory.
  std::string error;  // fails with_conns / per_conn / after_close / conn_open of this round
  absl::StatusOr<std::string> line = mesh_client_->Call(
      absl::StrCat("hold ", server_ip_, " ", kAppPort, " ", k), kHoldCallTimeoutMs);
  absl::StatusOr<HoldReply> held = line.ok() ? ParseHoldReply(*line) : line.status();
  if (!held.ok()) {
    error = absl::StrCat("opening ", k, " connections: ", held.status().message());
  } else if (absl::StatusOr<double> now = ReadZtunnelCounter(client_node_, kOpenedMetric);
             !now.ok() || *now - *opened_before < k) {
    error = now.ok() ? absl::StrCat("only ", *now - *opened_before, " of ", k,
                                    " connections went through ", client_node_.name(), "'s ztunnel")
                     : std::string(now.status().message());
  } else if (absl::Status rss = ReadAllRss(lab, with_kib); !rss.ok()) {
    error = std::string(rss.message());
  }
  for (const MeshLab::NodeState& node : lab.nodes()) {
    absl::StatusOr<double> n = ReadZtunnelCounter(node, kOpenedMetric);
    opened[node.name()] = n.ok() ? *n : 0;
  }

  // Close them, let both ztunnels catch up, read memory again.
  absl::StatusOr<std::string> released = mesh_client_->Call("release", 30'000);
  if (error.empty() && !released.ok()) {
    error = absl::StrCat("release: ", released.status().message());
  }
  std::string after_error = error.empty() ? WaitForCloses(lab, opened) : error;
  if (absl::Status rss = ReadAllRss(lab, after_kib); after_error.empty() && !rss.ok()) {
    after_error = std::string(rss.message());
  }
  if (!error.empty() || !after_error.empty()) {
    fprintf(stderr, "mesh_bench: idle connections: %s\n",
            (error.empty() ? after_error : error).c_str());
  }
  if (!record) return;

  if (error.empty()) {
    rows_["mesh_conn_open/mesh"]->samples.push_back(held->held / held->seconds);
  } else {
    rows_["mesh_conn_open/mesh"]->errors.push_back(error);
  }
  for (const MeshLab::NodeState& node : lab.nodes()) {
    const std::string& n = node.name();
    rows_["zt_rss_idle/" + n]->samples.push_back(Megabytes(idle_kib[n]));
    if (error.empty()) {
      rows_["zt_rss_with_conns/" + n]->samples.push_back(Megabytes(with_kib[n]));
      // Against the idle ztunnel of `lab up`, not this round's idle: memory freed by an
      // earlier round stays in the allocator and would make later rounds look free.
      rows_["zt_rss_per_conn/" + n]->samples.push_back((with_kib[n] - idle_at_up_kib_[n]) / k);
    } else {
      rows_["zt_rss_with_conns/" + n]->errors.push_back(error);
      rows_["zt_rss_per_conn/" + n]->errors.push_back(error);
    }
    if (after_error.empty()) {
      rows_["zt_rss_after_close/" + n]->samples.push_back(Megabytes(after_kib[n]));
    } else {
      rows_["zt_rss_after_close/" + n]->errors.push_back(after_error);
    }
  }
}

}  // namespace weft::bench
