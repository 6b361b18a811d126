#include "bench/suite/bench_world.h"

#include "absl/strings/str_cat.h"
#include "bench/modes/iptables_capture.h"
#include "bench/modes/stunnel_pair.h"
#include "common/host/mount_table.h"

namespace weft::bench {
namespace {

using modes::IptablesCapture;
using modes::IptablesCaptureOptions;
using modes::StunnelPair;
using modes::StunnelPairOptions;

// Pods of deploy/lab/bench.yaml.
constexpr char kMeshClient[] = "mesh/client";
constexpr char kIptablesClient[] = "mesh/client-ipt";
constexpr char kPlainClient[] = "plain/client";
constexpr char kMeshServer[] = "mesh/server";
constexpr char kPlainServer[] = "plain/server";

constexpr int kEchoPort = 8080;
constexpr int kSinkPort = 8081;
// stunnel: the client side listens on 127.0.0.1:<client port> in plain/client, the
// server side on plain/server's IP:<server port> and connects to the app on loopback.
constexpr int kStunnelEchoClientPort = 18080;
constexpr int kStunnelSinkClientPort = 18081;
constexpr int kStunnelEchoServerPort = 18443;
constexpr int kStunnelSinkServerPort = 18444;
// splice-relay: the same layout as stunnel, with weft-loadgen's splice relay on each side.
constexpr int kRelayEchoClientPort = 28080;
constexpr int kRelaySinkClientPort = 28081;
constexpr int kRelayEchoServerPort = 28443;
constexpr int kRelaySinkServerPort = 28444;
// ztunnel's --mark default: its own sockets are never captured (ztunnel/README.md).
constexpr uint32_t kZtunnelMark = 1337;

bool Selected(const std::vector<ModeSpec>& modes, const std::string& name) {
  for (const ModeSpec& m : modes) {
    if (m.name == name) return true;
  }
  return false;
}

// Index i of BenchWorld::splice_relays_ (StartSpliceRelays' order), as reports name it.
std::string SpliceRelayName(size_t i) {
  static constexpr const char* kNames[] = {"relay server echo", "relay server sink",
                                           "relay client echo", "relay client sink"};
  return i < 4 ? kNames[i] : absl::StrCat("relay ", i);
}

std::string AbsoluteCgroup(const std::string& dir) {
  if (dir.empty() || dir[0] == '/') return dir;
  absl::StatusOr<std::string> root = weft::host::Cgroup2MountPoint();
  return root.ok() ? *root + "/" + dir : dir;
}

}  // namespace

BenchWorld::BenchWorld(BenchWorldOptions options) : options_(std::move(options)) {}

BenchWorld::~BenchWorld() {
  servers_.clear();
  splice_relays_.clear();
  stunnel_.reset();
  iptables_.reset();
  if (short_circuit_) {
    if (absl::Status s = short_circuit_->Restore(); !s.ok()) {
      fprintf(stderr, "weftctl bench: cleanup: %s\n", s.ToString().c_str());
    }
  }
  lab_.reset();  // `lab down` when this invocation brought it up
}

absl::StatusOr<std::unique_ptr<BenchWorld>> BenchWorld::Create(const BenchWorldOptions& options) {
  std::unique_ptr<BenchWorld> world(new BenchWorld(options));
  MeshLabOptions lab_options{.weftctl = options.weftctl,
                             .topology = options.topology,
                             .name = options.lab_name};
  absl::StatusOr<std::unique_ptr<MeshLab>> lab =
      options.use_running_lab ? MeshLab::Attach(lab_options) : MeshLab::Up(lab_options);
  if (!lab.ok()) return lab.status();
  world->lab_ = *std::move(lab);
  for (const char* pod : {kMeshClient, kIptablesClient, kPlainClient, kMeshServer, kPlainServer}) {
    if (!world->lab_->Pod(pod).ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("lab ", options.lab_name, " has no pod ", pod,
                       "; the bench needs the pods of deploy/lab/bench.yaml"));
    }
  }
  // Labelling an already ambient namespace changes nothing; it waits until every mesh
  // pod is enrolled, which `lab up` does not.
  if (absl::Status s = world->lab_->SetAmbient("mesh", true, absl::Seconds(30)); !s.ok()) {
    return s;
  }
  absl::StatusOr<ShortCircuitSwitch> sc = ShortCircuitSwitch::ForLab(world->lab_->state());
  if (!sc.ok()) return sc.status();
  world->short_circuit_ = *std::move(sc);
  if (absl::Status s = world->StartServers(); !s.ok()) return s;
  if (absl::Status s = world->StartModeExtras(); !s.ok()) return s;
  return world;
}

absl::StatusOr<std::string> BenchWorld::PodIp(const std::string& pod) const {
  absl::StatusOr<MeshLab::PodState> state = lab_->Pod(pod);
  if (!state.ok()) return state.status();
  return state->ip();
}

absl::Status BenchWorld::StartServers() {
  for (const char* pod : {kMeshServer, kPlainServer}) {
    absl::StatusOr<PodPlacement> placement = lab_->Placement(pod, /*join_cgroup=*/true);
    if (!placement.ok()) return placement.status();
    for (auto [mode, port] : {std::pair{"echo", kEchoPort}, std::pair{"sink", kSinkPort}}) {
      absl::StatusOr<std::unique_ptr<LoadgenServer>> server = LoadgenServer::Start(
          options_.loadgen,
          {"--listen", absl::StrCat("0.0.0.0:", port), "--mode", mode, "--netns",
           placement->netns_path, "--cgroup", placement->cgroup_dir, "--max-seconds", "3600"});
      if (!server.ok()) return server.status();
      if (std::string(mode) == "echo") {
        (std::string(pod) == kMeshServer ? mesh_echo_pid_ : plain_echo_pid_) = (*server)->pid();
      }
      servers_.push_back(*std::move(server));
    }
  }
  return absl::OkStatus();
}

absl::Status BenchWorld::StartModeExtras() {
  if (Selected(options_.modes, "iptables")) {
    absl::StatusOr<PodPlacement> client = lab_->Placement(kIptablesClient, false);
    if (!client.ok()) return client.status();
    IptablesCaptureOptions ipt;
    ipt.netns_path = client->netns_path;
    ipt.redirect_port = 15001;
    ipt.exclude_mark = kZtunnelMark;
    absl::StatusOr<std::unique_ptr<IptablesCapture>> capture = IptablesCapture::Install(ipt);
    if (!capture.ok()) return capture.status();
    iptables_ = *std::move(capture);
  }
  if (Selected(options_.modes, "stunnel")) {
    absl::StatusOr<PlainPods> plain = PlainPodsForRelays();
    if (!plain.ok()) return plain.status();
    StunnelPairOptions st;
    st.client_netns_path = plain->client_netns;
    st.server_netns_path = plain->server_netns;
    st.server_ip = plain->server_ip;
    st.services = {
        {"echo", kStunnelEchoClientPort, kStunnelEchoServerPort,
         absl::StrCat("127.0.0.1:", kEchoPort)},
        {"sink", kStunnelSinkClientPort, kStunnelSinkServerPort,
         absl::StrCat("127.0.0.1:", kSinkPort)},
    };
    st.work_dir = options_.work_dir + "/stunnel";
    st.log_connections = false;  // a log line per connection would cost in connrate
    absl::StatusOr<std::unique_ptr<StunnelPair>> pair = StunnelPair::Start(st);
    if (!pair.ok()) return pair.status();
    stunnel_ = *std::move(pair);
  }
  if (Selected(options_.modes, "splice-relay")) {
    if (absl::Status s = StartSpliceRelays(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<BenchWorld::PlainPods> BenchWorld::PlainPodsForRelays() const {
  absl::StatusOr<PodPlacement> client = lab_->Placement(kPlainClient, false);
  absl::StatusOr<PodPlacement> server = lab_->Placement(kPlainServer, false);
  absl::StatusOr<std::string> server_ip = PodIp(kPlainServer);
  if (!client.ok()) return client.status();
  if (!server.ok()) return server.status();
  if (!server_ip.ok()) return server_ip.status();
  return PlainPods{client->netns_path, server->netns_path, *server_ip};
}

absl::Status BenchWorld::StartSpliceRelays() {
  absl::StatusOr<PlainPods> plain = PlainPodsForRelays();
  if (!plain.ok()) return plain.status();
  const std::string& server_ip = plain->server_ip;
  struct Hop {
    const std::string* netns;
    std::string listen;
    std::string upstream;
  };
  // Server side first, so a client-side relay never connects into nothing.
  const std::vector<Hop> hops = {
      {&plain->server_netns, absl::StrCat(server_ip, ":", kRelayEchoServerPort),
       absl::StrCat("127.0.0.1:", kEchoPort)},
      {&plain->server_netns, absl::StrCat(server_ip, ":", kRelaySinkServerPort),
       absl::StrCat("127.0.0.1:", kSinkPort)},
      {&plain->client_netns, absl::StrCat("127.0.0.1:", kRelayEchoClientPort),
       absl::StrCat(server_ip, ":", kRelayEchoServerPort)},
      {&plain->client_netns, absl::StrCat("127.0.0.1:", kRelaySinkClientPort),
       absl::StrCat(server_ip, ":", kRelaySinkServerPort)},
  };
  for (const Hop& hop : hops) {
    absl::StatusOr<std::unique_ptr<LoadgenServer>> relay = LoadgenServer::Start(
        options_.loadgen, {"--listen", hop.listen, "--mode", "relay", "--relay-to", hop.upstream,
                           "--netns", *hop.netns, "--max-seconds", "3600"});
    if (!relay.ok()) return relay.status();
    splice_relays_.push_back(*std::move(relay));
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, std::string>> BenchWorld::ModeDetails() const {
  std::vector<std::pair<std::string, std::string>> details;
  if (iptables_) details.emplace_back("iptables", iptables_->Describe());
  if (stunnel_) details.emplace_back("stunnel", stunnel_->Describe());
  if (!splice_relays_.empty()) {
    details.emplace_back("splice-relay",
                         "weft-loadgen server --mode relay on each side (bench/loadgen/"
                         "splice_relay.h): a thread per direction per connection, splice(2) "
                         "through a pipe, no user-space copy, no TLS, no framing; TCP_NODELAY "
                         "on both legs");
  }
  return details;
}

std::vector<AccountedProcess> BenchWorld::Proxies() const {
  std::vector<AccountedProcess> proxies;
  if (absl::StatusOr<MeshLab::LabState> state = lab_->ReadState(); state.ok()) {
    for (const auto& node : state->nodes()) {
      proxies.push_back({"ztunnel " + node.name(), node.ztunnel().pid()});
    }
  }
  if (stunnel_) {
    proxies.push_back({"stunnel client", stunnel_->client_pid()});
    proxies.push_back({"stunnel server", stunnel_->server_pid()});
  }
  for (size_t i = 0; i < splice_relays_.size(); ++i) {
    proxies.push_back({SpliceRelayName(i), splice_relays_[i]->pid()});
  }
  return proxies;
}

absl::StatusOr<ModePath> BenchWorld::Enter(const ModeSpec& mode) {
  ModePath path;
  path.mode = mode;
  const std::string& name = mode.name;
  const bool mesh_path = name == "mesh" || name == "mesh-nosockmap" || name == "iptables";
  if (name == "mesh" || name == "mesh-nosockmap") {
    if (absl::Status s = short_circuit_->Set(name == "mesh"); !s.ok()) return s;
  }
  const char* client_pod = name == "iptables" ? kIptablesClient
                           : mesh_path        ? kMeshClient
                                              : kPlainClient;
  // Only processes in a pod's cgroup are captured by the eBPF programs; the iptables
  // client stays outside so that only the nat rules redirect it.
  absl::StatusOr<PodPlacement> client = lab_->Placement(client_pod, name != "iptables");
  if (!client.ok()) return client.status();
  path.client = *client;
  const char* server_pod = mesh_path ? kMeshServer : kPlainServer;
  absl::StatusOr<std::string> server_ip = PodIp(server_pod);
  if (!server_ip.ok()) return server_ip.status();
  path.echo_target = absl::StrCat(*server_ip, ":", kEchoPort);
  path.sink_target = absl::StrCat(*server_ip, ":", kSinkPort);

  absl::StatusOr<MeshLab::LabState> state = lab_->ReadState();
  if (!state.ok()) return state.status();
  absl::StatusOr<PodPlacement> server = lab_->Placement(server_pod, true);
  if (!server.ok()) return server.status();
  if (mesh_path) {
    const MeshLab::NodeState* node_a = nullptr;
    const MeshLab::NodeState* node_b = nullptr;
    for (const auto& node : state->nodes()) {
      if (node.name() == lab_->Pod(client_pod)->node()) node_a = &node;
      if (node.name() == lab_->Pod(server_pod)->node()) node_b = &node;
    }
    if (node_a == nullptr || node_b == nullptr) {
      return absl::InternalError("lab state lacks the client or server node");
    }
    for (const auto* node : {node_a, node_b}) {
      path.processes.push_back({"ztunnel " + node->name(), node->ztunnel().pid()});
    }
    for (const auto* node : {node_a, node_b}) {
      path.processes.push_back({"agent " + node->name(), node->agent_pid()});
    }
    path.peers.push_back({"client ztunnel", 0, AbsoluteCgroup(node_a->ztunnel().cgroup()),
                          client->netns_path});
    path.peers.push_back({"server ztunnel", 0, AbsoluteCgroup(node_b->ztunnel().cgroup()),
                          server->netns_path});
  } else if (name == "stunnel") {
    if (!stunnel_) return absl::FailedPreconditionError("stunnel pair not started");
    path.echo_target = absl::StrCat("127.0.0.1:", kStunnelEchoClientPort);
    path.sink_target = absl::StrCat("127.0.0.1:", kStunnelSinkClientPort);
    path.processes.push_back({"stunnel client", stunnel_->client_pid()});
    path.processes.push_back({"stunnel server", stunnel_->server_pid()});
    path.peers.push_back({"client stunnel", stunnel_->client_pid(), "", ""});
    path.peers.push_back({"server stunnel", stunnel_->server_pid(), "", ""});
  } else if (name == "splice-relay") {
    if (splice_relays_.size() != 4) {
      return absl::FailedPreconditionError("splice relays not started");
    }
    path.echo_target = absl::StrCat("127.0.0.1:", kRelayEchoClientPort);
    path.sink_target = absl::StrCat("127.0.0.1:", kRelaySinkClientPort);
    for (size_t i = 0; i < splice_relays_.size(); ++i) {
      path.processes.push_back({SpliceRelayName(i), splice_relays_[i]->pid()});
    }
    // The per-hop tracer follows the echo relays: client side (index 2), then server side.
    path.peers.push_back({"client relay", splice_relays_[2]->pid(), "", ""});
    path.peers.push_back({"server relay", splice_relays_[0]->pid(), "", ""});
  }
  path.peers.push_back({"server app", mesh_path ? mesh_echo_pid_ : plain_echo_pid_, "", ""});
  return path;
}

}  // namespace weft::bench
