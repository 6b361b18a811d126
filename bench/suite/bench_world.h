// Everything the suite measures against, set up once per invocation: the bench lab
// (deploy/lab/bench.yaml, brought up here or an already running one), a weft-loadgen echo
// and sink server in each server pod, and what the selected modes need beyond the mesh
// itself — the stunnel pair, the iptables capture, the short-circuit switch.
// `Enter(mode)` returns where a client of that mode runs and what it dials.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/mesh_lab.h"
#include "bench/suite/loadgen_invocation.h"
#include "bench/suite/short_circuit_switch.h"
#include "bench/suite/suite_catalog.h"

namespace weft::bench {

namespace modes {
class StunnelPair;
class IptablesCapture;
}  // namespace modes

// A mesh process whose CPU and peak memory a run is charged with.
struct AccountedProcess {
  std::string name;  // "ztunnel node-a"
  pid_t pid = 0;
};

// One participant of a request's path, for the per-hop tracer: a process (by pid) or
// everything in a cgroup, optionally only its sockets in one network namespace (a
// node's ztunnel serves every pod of the node, each from inside the pod's netns).
struct PathPeer {
  std::string name;  // "client app", "client ztunnel"
  pid_t pid = 0;
  std::string cgroup_dir;
  std::string netns_path;  // empty: any netns
};

struct ModePath {
  ModeSpec mode;
  PodPlacement client;      // where the client process runs (cgroup empty: no pod cgroup)
  std::string echo_target;  // rr and connrate
  std::string sink_target;  // bulk upload
  std::vector<AccountedProcess> processes;
  // In path order, without the client app (traced by the client's pid per run):
  // client-side proxy, server-side proxy, server app.
  std::vector<PathPeer> peers;
};

struct BenchWorldOptions {
  std::string weftctl;
  std::string loadgen;
  std::string topology;  // deploy/lab/bench.yaml
  std::string lab_name;
  bool use_running_lab = false;
  std::string work_dir;  // stunnel certs and logs
  std::vector<ModeSpec> modes;
};

class BenchWorld {
 public:
  static absl::StatusOr<std::unique_ptr<BenchWorld>> Create(const BenchWorldOptions& options);
  ~BenchWorld();  // stops everything it started, restores the short-circuit, `lab down`
  BenchWorld(const BenchWorld&) = delete;
  BenchWorld& operator=(const BenchWorld&) = delete;

  // Switches what is switchable (the short-circuit) and describes the mode's path.
  absl::StatusOr<ModePath> Enter(const ModeSpec& mode);
  const MeshLab& lab() const { return *lab_; }
  // One line per mode with what its extra parts are (stunnel's TLS settings...).
  std::vector<std::pair<std::string, std::string>> ModeDetails() const;
  // Every proxy process of every mode (ztunnels, stunnels): the runner waits for them to
  // go quiet between runs, so one run's leftovers (a backlog still draining) never
  // load the next.
  std::vector<AccountedProcess> Proxies() const;

 private:
  explicit BenchWorld(BenchWorldOptions options);
  absl::Status StartServers();
  absl::Status StartModeExtras();
  absl::Status StartSpliceRelays();
  // Where the comparison relays (stunnel, splice-relay) run: outside every pod cgroup, in
  // plain/client and plain/server.
  struct PlainPods {
    std::string client_netns;
    std::string server_netns;
    std::string server_ip;
  };
  absl::StatusOr<PlainPods> PlainPodsForRelays() const;
  absl::StatusOr<std::string> PodIp(const std::string& pod) const;

  BenchWorldOptions options_;
  std::unique_ptr<MeshLab> lab_;
  std::vector<std::unique_ptr<LoadgenServer>> servers_;
  pid_t mesh_echo_pid_ = 0;   // weft-loadgen echo server in mesh/server
  pid_t plain_echo_pid_ = 0;  // and in plain/server
  std::unique_ptr<modes::StunnelPair> stunnel_;
  // splice-relay: weft-loadgen relays, server side then client side, echo then sink
  // (the order StartSpliceRelays starts them in).
  std::vector<std::unique_ptr<LoadgenServer>> splice_relays_;
  std::unique_ptr<modes::IptablesCapture> iptables_;
  std::optional<ShortCircuitSwitch> short_circuit_;
};

}  // namespace weft::bench
