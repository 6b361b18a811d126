// The rounds of mesh_bench. Each round measures both modes on the same two pods of the
// same lab, switching the namespace's dataplane label between them:
//   direct: namespace unlabelled (no pod enrolled: no capture, no sk_lookup steering),
//           client process in the client pod's netns but outside its cgroup;
//   mesh:   namespace ambient, client process in the client pod's cgroup and netns:
//           connect4 capture -> node-a ztunnel -> mTLS HBONE -> node-b ztunnel -> server.
// The mode order alternates per round (mesh first on even rounds counted from the
// warm-up), so a switch happens once per round and drift hits both modes alike. Ratios
// are taken per round from that round's two modes. The memory scenario (idle mesh
// connections) runs in the mesh mode only, in rounds of its own before any bulk traffic.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bench/mesh_lab.h"
#include "bench/mesh_pod_process.h"
#include "bench/result_table.h"

namespace weft::bench {

struct MeshBenchConfig {
  int warmup_rounds = 1;
  int repetitions = 5;
  // Bulk: warm-up rounds send this much per mode; measured rounds size each mode's
  // transfer from its warm-up rate to take about `bulk_target_seconds`, within min..max.
  uint64_t warmup_bulk_bytes = 256ull << 20;
  double bulk_target_seconds = 3.0;
  uint64_t bulk_min_bytes = 64ull << 20;
  uint64_t bulk_max_bytes = 16ull << 30;
  int rr_size = 1024;
  int rr_warmup = 200;  // round trips on the same connection before the timed ones
  int rr_round_trips = 2000;
  int idle_connections = 1000;
  absl::Duration switch_timeout = absl::Seconds(30);
  std::string ns = "demo";
  std::string client_pod = "client";
  std::string server_pod = "server";
};

class MeshScenarios {
 public:
  MeshScenarios(MeshLab& lab, const MeshBenchConfig& config, ResultTable& table);
  ~MeshScenarios();

  // Starts the server and the two client processes, waits for the namespace to be
  // enrolled and records the ztunnels' memory before any traffic.
  absl::Status Prepare();
  // One round of the memory scenario (mesh mode; run these before any bulk traffic, whose
  // buffers would otherwise hide the connections' memory): both ztunnels' VmRSS idle,
  // with `idle_connections` idle mesh connections open, and after they were closed.
  void RunMemoryRound(bool record);
  // One round of throughput and request/response in both modes; `record` is false for
  // warm-up rounds.
  void RunRound(int round_from_warmup, bool record);
  // Both ztunnels' VmRSS and RssAnon once the traffic rounds are over (idle again).
  void RecordIdleAfterTraffic();
  // Bytes per measured bulk transfer in each mode (sized from the warm-up rate).
  uint64_t bulk_bytes(bool mesh) const {
    return bulk_bytes_.at(mesh ? Mode::kMesh : Mode::kDirect);
  }
  // Every row left with fewer samples than it should have gets an error saying `why`.
  void MarkShortRows(const std::string& why);

 private:
  enum class Mode { kDirect, kMesh };
  struct RoundValues;

  absl::Status SwitchTo(Mode mode);
  void RunMode(Mode mode, bool record, RoundValues& values);
  void RunBulk(Mode mode, bool record, RoundValues& values);
  void RunRequestResponse(Mode mode, bool record, RoundValues& values);
  // OK when the client's connection went the way `mode` says it should.
  absl::Status CheckPath(Mode mode, double opened_before, const std::string& server_saw);
  absl::Status CheckZtunnelsUnchanged();
  static const char* Name(Mode mode) { return mode == Mode::kMesh ? "mesh" : "direct"; }

  MeshLab& lab_;
  const MeshBenchConfig config_;
  ResultTable& table_;
  Mode current_ = Mode::kMesh;  // `lab up` enrolls the ambient namespace
  std::string server_ip_;
  std::string client_ip_;
  MeshLab::NodeState client_node_;
  std::map<std::string, int> ztunnel_pids_;       // node -> pid at Prepare
  std::map<std::string, double> idle_at_up_kib_;  // node -> VmRSS before any traffic
  std::unique_ptr<MeshPodProcess> server_;
  std::unique_ptr<MeshPodProcess> direct_client_;
  std::unique_ptr<MeshPodProcess> mesh_client_;
  std::map<Mode, uint64_t> bulk_bytes_;  // per mode, set after the warm-up
  std::map<std::string, Row*> rows_;     // "metric/mode" -> row
  std::map<Row*, size_t> expected_samples_;
};

}  // namespace weft::bench
