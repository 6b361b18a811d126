#include "bench/mesh_scenarios.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "bench/mesh_app_protocol.h"
#include "bench/mesh_node_probe.h"
#include "bench/stop_signal.h"

namespace weft::bench {
namespace {

constexpr char kOpenedMetric[] = "weft_tcp_connections_opened_total";
constexpr int kBulkCallTimeoutMs = 180'000;
constexpr int kCallTimeoutMs = 120'000;
constexpr double kMiB = 1 << 20;

std::string IpOf(const std::string& address) { return address.substr(0, address.rfind(':')); }

double RssMegabytes(double kib) { return kib * 1024 / 1e6; }

}  // namespace

struct MeshScenarios::RoundValues {
  std::map<Mode, double> bulk_mib_s;
  std::map<Mode, double> rr_p50_us;
};

MeshScenarios::MeshScenarios(MeshLab& lab, const MeshBenchConfig& config, ResultTable& table)
    : lab_(lab), config_(config), table_(table) {
  const size_t reps = static_cast<size_t>(config_.repetitions);
  auto add = [&](const std::string& metric, const std::string& mode, const std::string& unit,
                 const std::string& target = "", size_t expected = 0) {
    Row* row = &table_.Add(metric, mode, unit, target);
    rows_[metric + "/" + mode] = row;
    expected_samples_[row] = expected == 0 ? reps : expected;
  };
  for (const char* mode : {"direct", "mesh"}) add("bulk_throughput", mode, "MiB/s");
  add("bulk_ratio", "mesh/direct", "x", ">= 0.5");
  for (const char* mode : {"direct", "mesh"}) add("rr_1KiB_latency_p50", mode, "us");
  for (const char* mode : {"direct", "mesh"}) add("rr_1KiB_latency_p99", mode, "us");
  for (const char* mode : {"direct", "mesh"}) add("rr_1KiB_rate", mode, "rt/s");
  add("rr_1KiB_p50_ratio", "mesh/direct", "x", "<= 2");
  add("mesh_conn_open", "mesh", "conn/s");
  for (const MeshLab::NodeState& node : lab_.state().nodes()) {
    add("zt_rss_idle_at_up", node.name(), "MB", "<= 15", 1);
    add("zt_anon_idle_at_up", node.name(), "MB", "", 1);
    add("zt_rss_idle", node.name(), "MB");
    add("zt_rss_with_conns", node.name(), "MB");
    add("zt_rss_per_conn", node.name(), "KiB/conn");
    add("zt_rss_after_close", node.name(), "MB");
    add("zt_rss_after_traffic", node.name(), "MB", "", 1);
    add("zt_anon_after_traffic", node.name(), "MB", "", 1);
  }
}

MeshScenarios::~MeshScenarios() = default;

absl::Status MeshScenarios::Prepare() {
  absl::StatusOr<MeshLab::PodState> server = lab_.Pod(config_.server_pod);
  absl::StatusOr<MeshLab::PodState> client = lab_.Pod(config_.client_pod);
  if (!server.ok()) return server.status();
  if (!client.ok()) return client.status();
  server_ip_ = server->ip();
  client_ip_ = client->ip();
  absl::StatusOr<MeshLab::NodeState> client_node = lab_.Node(client->node());
  if (!client_node.ok()) return client_node.status();
  client_node_ = *client_node;
  for (const MeshLab::NodeState& node : lab_.state().nodes()) {
    ztunnel_pids_[node.name()] = node.ztunnel().pid();
  }

  absl::StatusOr<PodPlacement> server_place = lab_.Placement(config_.server_pod, true);
  absl::StatusOr<PodPlacement> mesh_place = lab_.Placement(config_.client_pod, true);
  absl::StatusOr<PodPlacement> direct_place = lab_.Placement(config_.client_pod, false);
  for (const auto* p : {&server_place, &mesh_place, &direct_place}) {
    if (!p->ok()) return p->status();
  }
  auto server_proc =
      MeshPodProcess::Start(*server_place, [](int ch) { return RunAppServer(ch, kAppPort); });
  if (!server_proc.ok()) return server_proc.status();
  server_ = *std::move(server_proc);
  auto mesh_proc = MeshPodProcess::Start(*mesh_place, RunAppClient);
  if (!mesh_proc.ok()) return mesh_proc.status();
  mesh_client_ = *std::move(mesh_proc);
  auto direct_proc = MeshPodProcess::Start(*direct_place, RunAppClient);
  if (!direct_proc.ok()) return direct_proc.status();
  direct_client_ = *std::move(direct_proc);

  // `lab up` is ready before the agents have enrolled anything; wait for the mesh.
  if (absl::Status s = lab_.SetAmbient(config_.ns, true, config_.switch_timeout); !s.ok()) {
    return s;
  }
  for (const MeshLab::NodeState& node : lab_.state().nodes()) {
    absl::StatusOr<double> rss = ReadRssKib(node.ztunnel().pid());
    if (!rss.ok()) return rss.status();
    absl::StatusOr<double> anon = ReadRssAnonKib(node.ztunnel().pid());
    if (!anon.ok()) return anon.status();
    idle_at_up_kib_[node.name()] = *rss;
    rows_["zt_rss_idle_at_up/" + node.name()]->samples.push_back(RssMegabytes(*rss));
    rows_["zt_anon_idle_at_up/" + node.name()]->samples.push_back(RssMegabytes(*anon));
  }
  for (Mode mode : {Mode::kDirect, Mode::kMesh}) bulk_bytes_[mode] = config_.warmup_bulk_bytes;
  return absl::OkStatus();
}

void MeshScenarios::RunRound(int round_from_warmup, bool record) {
  RoundValues values;
  const bool mesh_first = round_from_warmup % 2 == 0;
  for (Mode mode : mesh_first ? std::vector<Mode>{Mode::kMesh, Mode::kDirect}
                              : std::vector<Mode>{Mode::kDirect, Mode::kMesh}) {
    if (StopRequested()) return;
    RunMode(mode, record, values);
  }
  if (!record) return;
  if (values.bulk_mib_s.size() == 2) {
    rows_["bulk_ratio/mesh/direct"]->samples.push_back(values.bulk_mib_s[Mode::kMesh] /
                                                       values.bulk_mib_s[Mode::kDirect]);
  }
  if (values.rr_p50_us.size() == 2) {
    rows_["rr_1KiB_p50_ratio/mesh/direct"]->samples.push_back(values.rr_p50_us[Mode::kMesh] /
                                                              values.rr_p50_us[Mode::kDirect]);
  }
}

void MeshScenarios::RunMode(Mode mode, bool record, RoundValues& values) {
  if (absl::Status s = SwitchTo(mode); !s.ok()) {
    fprintf(stderr, "mesh_bench: switching to %s: %s\n", Name(mode), s.ToString().c_str());
    if (!record) return;
    // Every row this mode would have fed this round, ratios included, says why it did not.
    const std::string error = absl::StrCat("switching to ", Name(mode), ": ", s.message());
    for (auto& [key, row] : rows_) {
      if (key.rfind("zt_", 0) != 0 && key.rfind("mesh_conn_open", 0) != 0 &&
          (row->mode == Name(mode) || row->mode == "mesh/direct")) {
        row->errors.push_back(error);
      }
    }
    return;
  }
  RunBulk(mode, record, values);
  RunRequestResponse(mode, record, values);
}

absl::Status MeshScenarios::SwitchTo(Mode mode) {
  if (mode == current_) return absl::OkStatus();
  absl::Status s = lab_.SetAmbient(config_.ns, mode == Mode::kMesh, config_.switch_timeout);
  if (s.ok()) current_ = mode;
  return s;
}

absl::Status MeshScenarios::CheckPath(Mode mode, double opened_before,
                                      const std::string& server_saw) {
  absl::StatusOr<double> opened = ReadZtunnelCounter(client_node_, kOpenedMetric);
  if (!opened.ok()) return opened.status();
  const double delta = *opened - opened_before;
  if (mode == Mode::kMesh && delta < 1) {
    return absl::InternalError(absl::StrCat("not proxied: ", client_node_.name(), " ztunnel's ",
                                            kOpenedMetric, " did not grow"));
  }
  if (mode == Mode::kDirect && (delta != 0 || IpOf(server_saw) != client_ip_)) {
    return absl::InternalError(absl::StrCat("not direct: server saw ", server_saw,
                                            ", ztunnel opened ", delta, " connection(s)"));
  }
  return absl::OkStatus();
}

void MeshScenarios::RunBulk(Mode mode, bool record, RoundValues& values) {
  MeshPodProcess& client = mode == Mode::kMesh ? *mesh_client_ : *direct_client_;
  Row& row = *rows_[absl::StrCat("bulk_throughput/", Name(mode))];
  absl::StatusOr<double> opened = ReadZtunnelCounter(client_node_, kOpenedMetric);
  absl::StatusOr<BulkReply> reply = absl::UnknownError("not run");
  if (opened.ok()) {
    absl::StatusOr<std::string> line =
        client.Call(absl::StrCat("bulk ", server_ip_, " ", kAppPort, " ", bulk_bytes_[mode]),
                    kBulkCallTimeoutMs);
    reply = line.ok() ? ParseBulkReply(*line) : line.status();
  }
  absl::Status status = !opened.ok() ? opened.status()
                        : reply.ok() ? CheckPath(mode, *opened, reply->server_saw)
                                     : reply.status();
  if (!status.ok()) {
    fprintf(stderr, "mesh_bench: %s bulk: %s\n", Name(mode), status.ToString().c_str());
    if (record) row.errors.push_back(absl::StrCat("bulk: ", status.message()));
    return;
  }
  const double mib_s = static_cast<double>(reply->bytes) / kMiB / reply->seconds;
  if (!record) {
    fprintf(stderr, "mesh_bench: %s: server saw the client as %s, %.0f MiB/s\n", Name(mode),
            reply->server_saw.c_str(), mib_s);
    // Size the measured transfers so each takes about the target time at this rate.
    const double want = mib_s * kMiB * config_.bulk_target_seconds;
    const uint64_t whole_mib = static_cast<uint64_t>(want) & ~uint64_t{(1 << 20) - 1};
    bulk_bytes_[mode] = std::clamp(whole_mib, config_.bulk_min_bytes, config_.bulk_max_bytes);
    return;
  }
  row.samples.push_back(mib_s);
  values.bulk_mib_s[mode] = mib_s;
}

void MeshScenarios::RunRequestResponse(Mode mode, bool record, RoundValues& values) {
  MeshPodProcess& client = mode == Mode::kMesh ? *mesh_client_ : *direct_client_;
  const std::string name = Name(mode);
  absl::StatusOr<double> opened = ReadZtunnelCounter(client_node_, kOpenedMetric);
  absl::StatusOr<RequestResponseReply> reply = absl::UnknownError("not run");
  if (opened.ok()) {
    absl::StatusOr<std::string> line =
        client.Call(absl::StrCat("rr ", server_ip_, " ", kAppPort, " ", config_.rr_size, " ",
                                 config_.rr_warmup, " ", config_.rr_round_trips),
                    kCallTimeoutMs);
    reply = line.ok() ? ParseRequestResponseReply(*line) : line.status();
  }
  absl::Status status = !opened.ok() ? opened.status()
                        : reply.ok() ? CheckPath(mode, *opened, reply->server_saw)
                                     : reply.status();
  if (!status.ok()) {
    fprintf(stderr, "mesh_bench: %s request/response: %s\n", Name(mode), status.ToString().c_str());
  }
  if (!record) return;
  if (!status.ok()) {
    for (const char* metric : {"rr_1KiB_latency_p50", "rr_1KiB_latency_p99", "rr_1KiB_rate"}) {
      rows_[absl::StrCat(metric, "/", name)]->errors.push_back(
          absl::StrCat("request/response: ", status.message()));
    }
    return;
  }
  rows_["rr_1KiB_latency_p50/" + name]->samples.push_back(reply->p50_us);
  rows_["rr_1KiB_latency_p99/" + name]->samples.push_back(reply->p99_us);
  rows_["rr_1KiB_rate/" + name]->samples.push_back(reply->per_second);
  values.rr_p50_us[mode] = reply->p50_us;
}

void MeshScenarios::RecordIdleAfterTraffic() {
  // Idle, not mid-burst: ztunnel hands its grown heap back after a second without
  // connections (Worker::Tick), so give it a few.
  absl::SleepFor(absl::Seconds(3));
  const absl::Status same = CheckZtunnelsUnchanged();
  for (const MeshLab::NodeState& node : lab_.state().nodes()) {
    for (bool anon : {false, true}) {
      Row& row = *rows_[absl::StrCat(anon ? "zt_anon" : "zt_rss", "_after_traffic/", node.name())];
      absl::StatusOr<double> kib =
          anon ? ReadRssAnonKib(node.ztunnel().pid()) : ReadRssKib(node.ztunnel().pid());
      if (!same.ok()) kib = same;
      if (kib.ok()) {
        row.samples.push_back(RssMegabytes(*kib));
      } else {
        row.errors.push_back(std::string(kib.status().message()));
      }
    }
  }
}

void MeshScenarios::MarkShortRows(const std::string& why) {
  for (auto& [row, want] : expected_samples_) {
    // Each missing sample is explained: rows whose failed rounds said why are left alone.
    if (row->samples.size() + row->errors.size() < want) {
      row->errors.push_back(absl::StrCat(row->samples.size(), " of ", want, " samples: ", why));
    }
  }
}

}  // namespace weft::bench
