// weft-agent: the node agent. Today it owns the node's config (a watched file,
// validated into immutable snapshots), its host resources (cgroup root, BPF pin
// directory) and its admin port; enrollment and the BPF data path build on these.
#include <signal.h>

#include <iostream>
#include <thread>

#include "agent/agent_options.h"
#include "agent/bpf/capture/capture_program.h"
#include "agent/bpf/inbound/inbound_steering.h"
#include "agent/bpf/inbound/loopback_short_circuit.h"
#include "agent/kernel_enrollment.h"
#include "agent/kernel_policy.h"
#include "agent/capture_stats_collector.h"
#include "agent/enrollment/enrollment_controller.h"
#include "agent/enrollment/netns_channel_handoff.h"
#include "agent/workloads_endpoint.h"
#include "agent/config_metrics.h"
#include "agent/node_environment.h"
#include "agent/nodeapi/node_api_server.h"
#include "agent/nodeapi/node_local_ca.h"
#include "agent/nodeapi/socket_path_preparation.h"
#include "common/admin/admin_server.h"
#include "common/admin/event_loop_collector.h"
#include "common/admin/metrics_registry.h"
#include "common/cli/flag_set.h"
#include "common/config/config_snapshot.h"
#include "common/config/file_config_source.h"
#include "common/event/event_loop.h"
#include "common/host/mount_table.h"
#include "common/json/json_string.h"
#include "common/log/logger.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace weft::agent {
namespace {

int Fail(const absl::Status& status) {
  std::cerr << "weft-agent: " << status.message() << "\n";
  return 1;
}

admin::HttpResponse DebugConfig(const config::SnapshotStore& store) {
  auto snapshot = store.Current();
  if (!snapshot) return admin::HttpResponse::Json("{\"version\":0}");
  std::string config_json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  if (auto s = google::protobuf::util::MessageToJsonString(snapshot->config, &config_json, print);
      !s.ok()) {
    return admin::HttpResponse::Text(500, "cannot render the snapshot\n");
  }
  return admin::HttpResponse::Json(absl::StrCat(
      "{\"version\":", snapshot->version, ",\"source\":", json::Quoted(snapshot->source),
      ",\"applied_at\":", json::Quoted(absl::FormatTime(snapshot->applied_at)),
      ",\"config\":", config_json, "}"));
}

int Run(const AgentOptions& options) {
  NodeEnvironmentOptions env_options{options.cgroup_root, options.bpffs, options.instance};
  if (options.uninstall) {
    // Links first (detaching the programs), then every pinned map and directory.
    const std::string pin_dir = NodeEnvironment::PinDir(env_options);
    if (absl::Status s = weft::bpf::InboundSteering::Uninstall(pin_dir); !s.ok()) return Fail(s);
    if (absl::Status s = weft::bpf::LoopbackShortCircuit::Uninstall(pin_dir); !s.ok()) {
      return Fail(s);
    }
    if (absl::Status s = weft::bpf::capture::CaptureProgram::Uninstall(pin_dir); !s.ok()) {
      return Fail(s);
    }
    if (absl::Status s = NodeEnvironment::Uninstall(env_options); !s.ok()) return Fail(s);
    log::Info("uninstalled", {{"instance", options.instance}});
    return 0;
  }
  if (env_options.cgroup_root.empty()) {
    auto mount = host::Cgroup2MountPoint();
    if (!mount.ok()) return Fail(mount.status());
    env_options.cgroup_root = *mount;
  }
  auto env = NodeEnvironment::Prepare(env_options);
  if (!env.ok()) return Fail(env.status());

  // Signals are taken synchronously by the main thread; block them before any
  // other thread starts so none of those is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto metrics = std::make_shared<admin::MetricsRegistry>();
  auto config_metrics = ConfigMetrics::Create(*metrics);
  if (!config_metrics.ok()) return Fail(config_metrics.status());
  if (auto info = metrics->Gauge("weft_agent_info", "The agent's identity (value is always 1)",
                                 {{"node", options.node}, {"instance", options.instance}});
      info.ok()) {
    (*info)->Set(1);
  }

  weft::bpf::capture::CaptureOptions capture_options;
  capture_options.cgroup_root = env->cgroup_root();
  capture_options.getsockopt_cgroup = options.getsockopt_cgroup;
  capture_options.pin_dir = env->pin_dir();
  capture_options.outbound_port = static_cast<uint16_t>(options.outbound_port);
  capture_options.ztunnel_mark = static_cast<uint32_t>(options.ztunnel_mark);
  auto capture = weft::bpf::capture::CaptureProgram::Create(capture_options);
  if (!capture.ok()) return Fail(capture.status());
  log::Info("capture programs attached", {{"cgroup_root", env->cgroup_root()},
                                          {"pin_dir", env->pin_dir()},
                                          {"reused_pinned_maps", (*capture)->reused_pinned_maps()}});
  auto inbound = weft::bpf::InboundSteering::Create(env->pin_dir());
  if (!inbound.ok()) return Fail(inbound.status());
  auto short_circuit = weft::bpf::LoopbackShortCircuit::Create(
      {.pin_dir = env->pin_dir(),
       .cgroup_path = env->cgroup_root(),
       .ztunnel_cgroup = options.getsockopt_cgroup,
       .enabled = options.loopback_short_circuit});
  if (!short_circuit.ok()) return Fail(short_circuit.status());
  KernelEnrollment kernel_enrollment(capture->get(), inbound->get(), short_circuit->get());

  config::SnapshotStore store;
  store.Subscribe([&kernel_enrollment](std::shared_ptr<const config::ConfigSnapshot> snapshot) {
    if (absl::Status s = kernel_enrollment.ApplyExclusions(snapshot->config.mesh()); !s.ok()) {
      log::Error("capture exclusions not applied", {{"version", snapshot->version}, {"error", s}});
    }
  });
  // Pods go to ztunnel over the netns channel and are captured once it acknowledges them.
  std::atomic<EnrollmentController*> enrollment_ptr{nullptr};
  std::unique_ptr<NetnsChannelHandoff> handoff;
  if (!options.netns_socket.empty()) {
    absl::Status prepared = nodeapi::PrepareSocketPath(options.netns_socket);
    auto created = !prepared.ok()
                       ? absl::StatusOr<std::unique_ptr<NetnsChannelHandoff>>(prepared)
                       : NetnsChannelHandoff::Create(
        options.netns_socket,
        [&enrollment_ptr] {
          if (EnrollmentController* e = enrollment_ptr.load()) e->Wake();
        },
        metrics.get());
    if (!created.ok()) {
      log::Error("netns channel not started",
                 {{"socket", options.netns_socket}, {"error", created.status()}});
      return Fail(created.status());
    }
    handoff = *std::move(created);
  }
  EnrollmentController enrollment(
      {.node = options.node,
       .outbound_port = static_cast<uint16_t>(options.outbound_port),
       .handoff = handoff.get()},
      std::make_unique<CgroupNetnsSource>(env->cgroup_root()), &kernel_enrollment, metrics.get());
  enrollment_ptr.store(&enrollment);
  auto kernel_policy = KernelPolicy::Create(capture->get(), metrics.get());
  if (!kernel_policy.ok()) return Fail(kernel_policy.status());
  enrollment.SetChangeListener(
      [policy = kernel_policy->get()](const config::ConfigSnapshot& snapshot,
                                      const std::vector<EnrolledPod>& enrolled) {
        policy->Update(snapshot, enrolled);
      });
  auto capture_stats = std::make_shared<CaptureStatsCollector>(capture->get(), &enrollment,
                                                               kernel_policy->get());
  metrics->AddCollectable(capture_stats);
  auto source = config::FileConfigSource::Create(
      {.path = options.config_path}, &store,
      [m = config_metrics->get()](const config::ReloadOutcome& o) { m->Record(o); });
  if (!source.ok()) return Fail(source.status());

  event::EventLoopOptions loop_options;
  loop_options.name = "admin";
  loop_options.queue_depth = 64;
  loop_options.recv_buffer_count = 64;
  auto loop = event::EventLoop::Create(loop_options);
  if (!loop.ok()) return Fail(loop.status());
  auto loop_stats = std::make_shared<admin::EventLoopCollector>(
      std::vector<const event::EventLoop*>{loop->get()});
  metrics->AddCollectable(loop_stats);
  admin::AdminServerOptions admin_options;
  admin_options.address = options.admin_addr;
  admin_options.metrics = metrics;
  admin_options.readiness = [&store]() -> absl::Status {
    if (store.Current() == nullptr) return absl::UnavailableError("no valid config applied yet");
    return absl::OkStatus();
  };
  auto server = admin::AdminServer::Create(loop->get(), std::move(admin_options));
  if (!server.ok()) return Fail(server.status());
  if (auto s = (*server)->RegisterHandler(
          "/debug/config", [&store](const admin::HttpRequest&) { return DebugConfig(store); });
      !s.ok()) {
    return Fail(s);
  }

  if (auto s = (*server)->RegisterHandler(
          "/debug/workloads",
          [&](const admin::HttpRequest&) {
            std::string json;
            google::protobuf::util::JsonPrintOptions print;
            print.preserve_proto_field_names = true;
            (void)google::protobuf::util::MessageToJsonString(
                DumpWorkloads(options.node, enrollment, store, (*kernel_policy)->PolicyNames()), &json, print);
            return admin::HttpResponse::Json(json);
          });
      !s.ok()) {
    return Fail(s);
  }

  if (absl::Status s = (*source)->Start(); !s.ok()) return Fail(s);
  enrollment.Start(&store);
  // The CA takes its trust domain from the config, so it opens with the first valid snapshot:
  // now if the file was valid, else at the first certificate request after one is applied.
  // Without its node API the agent is useless to ztunnel: a failure now is fatal.
  nodeapi::LazyNodeLocalCa local_ca(
      {.ca_dir = options.ca_dir, .node = options.node, .store = &store});
  if (store.Current() != nullptr) {
    if (auto ca = local_ca.Get(); !ca.ok()) return Fail(ca.status());
  } else {
    log::Warn("local CA waits for the first valid config", {{"ca_dir", options.ca_dir}});
  }
  auto node_api = nodeapi::NodeApiServer::Create(
      {.socket_path = options.node_api_socket,
       .node = options.node,
       .store = &store,
       .ca = nullptr,
       .ca_source = [&local_ca] { return local_ca.Get(); },
       .cert_max_ttl = options.cert_max_ttl,
       .cert_default_ttl = options.cert_max_ttl,
       .metrics = metrics.get(),
       .enrolled_workload_uids = [&enrollment] {
         std::vector<std::string> uids;
         for (const EnrolledPod& pod : enrollment.Enrolled()) uids.push_back(pod.workload.uid);
         return uids;
       }});
  if (!node_api.ok()) {
    log::Error("node API not started",
               {{"socket", options.node_api_socket}, {"error", node_api.status()}});
    return Fail(node_api.status());
  }
  std::thread admin_thread([&loop] {
    if (absl::Status s = (*loop)->Run(); !s.ok()) {
      log::Error("admin event loop failed", {{"error", s}});
    }
  });
  log::Info("agent started", {{"node", options.node},
                              {"instance", options.instance},
                              {"config", options.config_path},
                              {"cgroup_root", env->cgroup_root()},
                              {"pin_dir", env->pin_dir()},
                              {"admin", (*server)->address().ToString()},
                              {"node_api", options.node_api_socket}});

  int signal = 0;
  sigwait(&signals, &signal);
  log::Info("agent stopping", {{"signal", signal}});
  (*node_api)->Stop();
  (*source)->Stop();
  enrollment.Stop();
  enrollment_ptr.store(nullptr);
  (*loop)->Stop();
  admin_thread.join();
  server->reset();  // the loop has stopped, so the server may go from this thread
  return 0;
}

}  // namespace
}  // namespace weft::agent

int main(int argc, char** argv) {
  auto options = weft::agent::ParseAgentOptions(weft::cli::Args(argc, argv));
  if (!options.ok()) return weft::agent::Fail(options.status());
  if (options->help) {
    std::cout << options->usage;
    return 0;
  }
  weft::log::Configure(options->log_level, options->log_format, "agent");
  return weft::agent::Run(*options);
}
