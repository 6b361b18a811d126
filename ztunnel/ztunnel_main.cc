// weft-ztunnel: the node tunnel. Connects to the agent's node API for config and
// certificates, receives enrolled pods' network namespaces on the netns channel, opens each
// pod's listeners on every io_uring worker, and carries pod traffic between nodes as HBONE
// over mutual TLS. SIGTERM drains.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <future>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/admin/admin_server.h"
#include "common/admin/event_loop_collector.h"
#include "common/admin/metrics_registry.h"
#include "common/cli/flag_set.h"
#include "common/event/worker_pool.h"
#include "common/json/json_string.h"
#include "common/log/logger.h"
#include "common/nodeapi/netns_channel_client.h"
#include "common/tls/key_and_csr.h"
#include "ztunnel/connection_telemetry.h"
#include "ztunnel/heap_policy.h"
#include "ztunnel/identity/certificate_manager.h"
#include "ztunnel/identity_tls_publisher.h"
#include "ztunnel/nodeapi/certificate_client.h"
#include "ztunnel/nodeapi/config_stream_client.h"
#include "ztunnel/pod_registry.h"
#include "ztunnel/worker.h"
#include "ztunnel/ztunnel_options.h"

namespace weft::ztunnel {
namespace {

int Fail(const absl::Status& status) {
  std::cerr << "weft-ztunnel: " << status.message() << "\n";
  return 1;
}

std::chrono::milliseconds ToMillis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

// Serves the agent's netns channel, reconnecting whenever the agent restarts.
class NetnsChannelLoop {
 public:
  NetnsChannelLoop(std::string path, PodRegistry* registry)
      : path_(std::move(path)), registry_(registry) {}
  void Start() { thread_ = std::thread([this] { Run(); }); }
  void Stop() {
    stopping_ = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (client_ != nullptr) client_->Shutdown();
    }
    if (thread_.joinable()) thread_.join();
  }
  bool connected() const { return connected_; }
  bool superseded() const { return superseded_; }

 private:
  void Run() {
    while (!stopping_) {
      nodeapi::NetnsChannelClient::ConnectOptions options;
      options.max_wait = absl::Seconds(2);
      auto client = nodeapi::NetnsChannelClient::Connect(
          path_,
          [this](const nodeapi::PodNetnsMessage& m, event::ScopedFd fd) {
            return registry_->OnMessage(m, std::move(fd));
          },
          options);
      if (!client.ok()) continue;  // the agent is not there yet; Connect backed off
      registry_->BeginResync();
      {
        std::lock_guard<std::mutex> lock(mu_);
        client_ = std::move(*client);
        if (stopping_) break;
      }
      connected_ = true;
      log::Info("netns channel connected", {{"path", path_}});
      absl::Status s = client_->Serve();
      connected_ = false;
      if (client_->superseded()) {
        // Keep serving the pods' established connections; the successor owns new ones
        // once this process drains on SIGTERM.
        log::Info("a newer ztunnel took over the pods; not reconnecting", {});
        superseded_ = true;
        std::lock_guard<std::mutex> lock(mu_);
        client_.reset();
        return;
      }
      if (!stopping_) log::Warn("netns channel lost; reconnecting", {{"why", s}});
      std::lock_guard<std::mutex> lock(mu_);
      client_.reset();
    }
  }

  const std::string path_;
  PodRegistry* registry_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<bool> superseded_{false};
  std::mutex mu_;
  std::unique_ptr<nodeapi::NetnsChannelClient> client_;
};

// Sums a per-worker value by asking each worker on its own thread.
size_t LiveRelays(event::WorkerPool& pool, std::vector<std::unique_ptr<Worker>>& workers) {
  size_t total = 0;
  for (size_t i = 0; i < workers.size(); ++i) {
    auto promise = std::make_shared<std::promise<size_t>>();
    auto future = promise->get_future();
    Worker* w = workers[i].get();
    pool.loop(i).Post([w, promise] { promise->set_value(w->live_relays()); });
    if (future.wait_for(std::chrono::seconds(2)) == std::future_status::ready) total += future.get();
  }
  return total;
}

int Run(const ZtunnelOptions& options) {
  auto metrics = std::make_shared<admin::MetricsRegistry>();
  auto telemetry = ConnectionTelemetry::Create({metrics.get(), options.access_log});
  if (!telemetry.ok()) return Fail(telemetry.status());

  DataPlaneSettings settings;
  settings.mark = static_cast<uint32_t>(options.mark);
  settings.connect_timeout = ToMillis(options.connect_timeout);
  settings.pool_idle_timeout = ToMillis(options.pool_idle_timeout);
  settings.session.max_concurrent_streams = static_cast<uint32_t>(options.max_streams_per_connection);
  settings.session.initial_stream_window = static_cast<uint32_t>(options.stream_window);
  settings.session.connection_window = static_cast<uint32_t>(options.connection_window);
  SharedState shared(settings, telemetry->get());

  // Workers.
  event::WorkerPoolOptions pool_options;
  pool_options.workers = static_cast<size_t>(options.workers);
  pool_options.loop.name = "ztunnel-worker";
  // 64 KiB receive buffers, as many bytes in all as the loop's default (8 MiB per worker):
  // a relay moving a bulk stream then handles a loopback segment per completion, and TLS and
  // HTTP/2 work in batches of four records instead of one (bulk +5% on the lab).
  pool_options.loop.recv_buffer_size = 64 * 1024;
  pool_options.loop.recv_buffer_count = 128;
  auto pool = event::WorkerPool::Create(pool_options);
  if (!pool.ok()) return Fail(pool.status());
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Worker*> worker_ptrs;
  std::vector<const event::EventLoop*> loops;
  for (size_t i = 0; i < (*pool)->size(); ++i) {
    workers.push_back(std::make_unique<Worker>(i, &(*pool)->loop(i), &shared));
    worker_ptrs.push_back(workers.back().get());
    loops.push_back(&(*pool)->loop(i));
  }
  auto loop_stats = std::make_shared<admin::EventLoopCollector>(loops);
  metrics->AddCollectable(loop_stats);
  // Housekeeping once a second on each worker.
  std::function<void(Worker*)> schedule_tick = [&schedule_tick](Worker* w) {
    w->loop().AddTimer(std::chrono::seconds(1), [w, &schedule_tick] {
      w->Tick();
      schedule_tick(w);
    });
  };
  for (Worker* w : worker_ptrs) {
    w->loop().Post([w, &schedule_tick] { schedule_tick(w); });
  }
  (*pool)->Start();

  // Identities: keys made here, certificates from the agent's CA.
  IdentityTlsPublisher publisher(&shared);
  auto cert_client = CertificateClient::Create({.socket_path = options.node_api_socket});
  if (!cert_client.ok()) return Fail(cert_client.status());
  CertificateManager::Options cert_options;
  cert_options.ttl = options.cert_ttl;
  cert_options.issuer = [client = cert_client->get()](const std::string& identity,
                                                      const std::string& csr, absl::Duration ttl) {
    return client->Issue(identity, csr, ttl);
  };
  cert_options.key_generator = [](const std::string& identity) -> absl::StatusOr<KeyAndCsr> {
    absl::StatusOr<tls::KeyAndCsr> made = tls::GenerateKeyAndCsr(identity);
    if (!made.ok()) return made.status();
    return KeyAndCsr{made->private_key_pem, made->csr_pem};
  };
  cert_options.on_change = [&publisher](std::shared_ptr<const IdentityCredentials> c) {
    publisher.OnCredentials(c);
  };
  auto certificates = CertificateManager::Create(std::move(cert_options));
  if (!certificates.ok()) return Fail(certificates.status());

  // Config from the agent.
  auto config_stream = ConfigStreamClient::Create(
      {.socket_path = options.node_api_socket,
       .on_update = [&](const weft::nodeapi::v1::ConfigUpdate& update) -> std::string {
         auto view = MeshView::Create(update.snapshot(), update.version(), options.node);
         if (!view.ok()) {
           log::Warn("config version refused; keeping the last good one",
                     {{"version", static_cast<unsigned long long>(update.version())},
                      {"error", view.status()}});
           return std::string(view.status().message());
         }
         std::set<std::string> identities = (*view)->LocalIdentities();
         shared.set_view(*std::move(view));
         (*certificates)->SetIdentities(identities);
         publisher.Retain(identities);
         return "";
       }});
  if (!config_stream.ok()) return Fail(config_stream.status());
  (*config_stream)->Start();

  PodRegistry registry(worker_ptrs, PodPorts{}, &shared);
  NetnsChannelLoop channel(options.netns_socket, &registry);
  channel.Start();

  // Admin.
  event::EventLoopOptions admin_loop_options;
  admin_loop_options.name = "admin";
  admin_loop_options.queue_depth = 64;
  admin_loop_options.recv_buffer_count = 64;
  auto admin_loop = event::EventLoop::Create(admin_loop_options);
  if (!admin_loop.ok()) return Fail(admin_loop.status());
  admin::AdminServerOptions admin_options;
  admin_options.address = options.admin_addr;
  admin_options.metrics = metrics;
  admin_options.readiness = [&]() -> absl::Status {
    if (shared.view() == nullptr) return absl::UnavailableError("no config from the agent yet");
    if (channel.superseded()) return absl::UnavailableError("superseded by a newer ztunnel");
    if (!registry.synced()) return absl::UnavailableError("netns channel not synchronised yet");
    return absl::OkStatus();
  };
  auto admin = admin::AdminServer::Create(admin_loop->get(), std::move(admin_options));
  if (!admin.ok()) return Fail(admin.status());
  (void)(*admin)->RegisterHandler("/debug/pods", [&](const admin::HttpRequest&) {
    std::string json = "{\"pods\":[";
    bool first = true;
    for (const std::string& uid : registry.Pods()) {
      if (!first) json += ",";
      first = false;
      json += json::Quoted(uid);
    }
    std::shared_ptr<const MeshView> view = shared.view();
    absl::StrAppend(&json, "],\"config_version\":", view ? view->version() : 0, "}");
    return admin::HttpResponse::Json(json);
  });
  std::thread admin_thread([&admin_loop] { (void)(*admin_loop)->Run(); });
  log::Info("ztunnel started", {{"node", options.node},
                                {"workers", static_cast<unsigned long long>((*pool)->size())},
                                {"admin", options.admin_addr}});

  // Wait for SIGTERM / SIGINT (blocked in every thread, taken here).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int signal_number = 0;
  sigwait(&signals, &signal_number);

  log::Info("draining: no new connections; established ones may finish",
            {{"signal", signal_number},
             {"drain_timeout", absl::FormatDuration(options.drain_timeout)}});
  for (Worker* w : worker_ptrs) w->loop().Post([w] { w->StopAccepting(); });
  const absl::Time deadline = absl::Now() + options.drain_timeout;
  size_t live = LiveRelays(**pool, workers);
  while (live > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    live = LiveRelays(**pool, workers);
  }
  if (live > 0) {
    log::Warn("drain timeout: closing the connections still open",
              {{"connections", static_cast<unsigned long long>(live)}});
    for (Worker* w : worker_ptrs) {
      w->loop().Post([w] { w->AbortAll(absl::CancelledError("ztunnel drain timeout")); });
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  channel.Stop();
  (*config_stream)->Stop();
  (*certificates)->Stop();
  (*pool)->Stop();
  (*pool)->Join();
  (*admin_loop)->Stop();
  admin_thread.join();
  log::Info("ztunnel stopped", {});
  return 0;
}

}  // namespace
}  // namespace weft::ztunnel

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the mask and sigwait gets them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  weft::ztunnel::KeepHeapWhileBusy();
  // Every proxied connection holds two sockets: take the whole descriptor allowance.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  auto options = weft::ztunnel::ParseZtunnelOptions(weft::cli::Args(argc, argv));
  if (options.ok() && options->help) {
    std::cout << options->usage;
    return 0;
  }
  if (!options.ok()) return weft::ztunnel::Fail(options.status());
  weft::log::Configure(options->log_level, options->log_format, "ztunnel");
  return weft::ztunnel::Run(*options);
}
