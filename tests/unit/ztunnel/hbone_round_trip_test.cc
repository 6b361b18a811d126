// A real HBONE round trip in the test's own network namespace: a Worker serves a pod's
// HBONE listener (mutual TLS, L4 authorization, connect to the app) and an
// HboneConnectionPool on the same io_uring loop opens CONNECT streams toward it. The app is
// a TCP echo server on 127.0.0.1; certificates come from a LocalCa.
#include <fcntl.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/admin/metrics_registry.h"
#include "common/event/event_loop.h"
#include "tests/unit/event/event_test_support.h"
#include "tests/unit/tls/tls_test_support.h"
#include "ztunnel/hbone_connection_pool.h"
#include "ztunnel/mesh_view.h"
#include "ztunnel/netns_socket.h"
#include "ztunnel/shared_state.h"
#include "ztunnel/stream_leg.h"
#include "ztunnel/worker.h"

namespace weft::ztunnel {
namespace {

using event::testing::LoopThread;
using tls::testing::kClientId;
using tls::testing::kServerId;

constexpr size_t kChunk = 64 * 1024;

// The app side of the client's relay: feeds a payload in chunks while the relay lets it
// read, then half-closes; records what comes back and how the leg was ended.
class AppSide : public RelayLeg {
 public:
  AppSide(event::EventLoop* loop, std::string payload)
      : loop_(loop), payload_(std::move(payload)) {}
  void set_relay(std::shared_ptr<Relay> relay) { relay_ = std::move(relay); }

  void Feed() {
    if (closed) return;
    while (reading_ && offset_ < payload_.size()) {
      const size_t n = std::min(kChunk, payload_.size() - offset_);
      const std::string chunk = payload_.substr(offset_, n);
      offset_ += n;
      relay_->OnRead(Relay::kDownstream, chunk);
    }
    if (offset_ == payload_.size() && half_close && !end_sent_) {
      end_sent_ = true;
      relay_->OnReadEnd(Relay::kDownstream);
    }
  }

  bool Deliver(std::string_view data) override {
    received.append(data);
    return true;
  }
  void DeliverEnd() override {
    got_end = true;
    loop_->Post([this] { Close(absl::OkStatus()); });
  }
  void Abort(const absl::Status& reason) override {
    ++aborts;
    loop_->Post([this, reason] { Close(reason); });
  }
  void SetReading(bool enabled) override {
    reading_ = enabled;
    if (enabled) loop_->Post([this] { Feed(); });
  }

  bool half_close = true;  // after the payload
  std::string received;
  bool got_end = false;
  int aborts = 0;
  bool closed = false;

 private:
  void Close(const absl::Status& reason) {
    if (closed) return;
    closed = true;
    relay_->OnLegClosed(Relay::kDownstream, reason);
  }

  event::EventLoop* loop_;
  std::string payload_;
  std::shared_ptr<Relay> relay_;
  size_t offset_ = 0;
  bool reading_ = true;
  bool end_sent_ = false;
};

// A client stream leg that also records the tunnel's response status.
class RecordingStreamLeg : public StreamLeg {
 public:
  RecordingStreamLeg(std::shared_ptr<Relay> relay, int* status)
      : StreamLeg(std::move(relay), Relay::kUpstream), status_(status) {}
  void OnResponse(int32_t stream_id, int status) override {
    *status_ = status;
    StreamLeg::OnResponse(stream_id, status);
  }

 private:
  int* status_;
};

// One CONNECT attempt and everything observed about it (loop thread only).
struct Tunnel {
  int status = 0;
  bool finished = false;
  int upstream_ready = 0;
  int upstream_failed = 0;
  absl::Status open_error;
  std::unique_ptr<AppSide> app;
  std::shared_ptr<Relay> relay;
};

// The value of the series `name{...}` whose labels contain every one of `labels`; -1 if none.
double SeriesValue(const std::string& text, const std::string& name,
                   const std::vector<std::string>& labels) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(name + "{")) continue;
    bool all = true;
    for (const std::string& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

class HboneRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_creds_ = ca_.Issue(kServerId);
    client_creds_ = ca_.Issue(kClientId);
    auto server_tls = tls::TlsContext::CreateServer(server_creds_, tls::testing::Options());
    auto server_client_tls = tls::TlsContext::CreateClient(server_creds_, tls::testing::Options());
    auto client_tls = tls::TlsContext::CreateClient(client_creds_, tls::testing::Options());
    ASSERT_TRUE(server_tls.ok()) << server_tls.status();
    ASSERT_TRUE(server_client_tls.ok()) << server_client_tls.status();
    ASSERT_TRUE(client_tls.ok()) << client_tls.status();
    client_tls_ = *client_tls;

    auto server_telemetry = ConnectionTelemetry::Create({&server_metrics_, "off"});
    auto client_telemetry = ConnectionTelemetry::Create({&client_metrics_, "off"});
    ASSERT_TRUE(server_telemetry.ok() && client_telemetry.ok());
    server_telemetry_ = *std::move(server_telemetry);
    client_telemetry_ = *std::move(client_telemetry);

    DataPlaneSettings settings;
    settings.mark = 0;  // no SO_MARK: nothing captures traffic here
    settings.connect_timeout = std::chrono::milliseconds(2000);
    shared_ = std::make_unique<SharedState>(settings, server_telemetry_.get());
    client_shared_ = std::make_unique<SharedState>(settings, client_telemetry_.get());
    SetPolicies("");
    auto credentials = std::make_shared<CredentialSet>();
    (*credentials)[kServerId] = IdentityTls{*server_client_tls, *server_tls};
    shared_->set_credentials(credentials);

    netns_ = std::make_shared<event::ScopedFd>(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(netns_->valid());

    auto loop = event::EventLoop::Create(event::EventLoopOptions{});
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    worker_ = std::make_unique<Worker>(0, loop_.get(), shared_.get());
    pool_ = std::make_unique<HboneConnectionPool>(loop_.get(), client_shared_.get());

    auto loopback = event::SocketAddress::Parse("127.0.0.1:0");
    ASSERT_TRUE(loopback.ok());
    auto hbone = ListenerInNetns(netns_->get(), *loopback, 64);
    auto app = ListenerInNetns(netns_->get(), *loopback, 64);
    ASSERT_TRUE(hbone.ok()) << hbone.status();
    ASSERT_TRUE(app.ok()) << app.status();
    auto hbone_address = event::SocketAddress::LocalOf(hbone->get());
    auto app_address = event::SocketAddress::LocalOf(app->get());
    ASSERT_TRUE(hbone_address.ok() && app_address.ok());
    hbone_address_ = *hbone_address;
    app_port_ = app_address->port();
    // A bound socket that never listens: connects to its port are refused.
    dead_ = event::ScopedFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(dead_.get(), loopback->sockaddr_ptr(), loopback->length()), 0);
    auto dead_address = event::SocketAddress::LocalOf(dead_.get());
    ASSERT_TRUE(dead_address.ok());
    dead_port_ = dead_address->port();

    auto pod = std::make_shared<PodContext>();
    pod->uid = "server";
    pod->addresses = {"127.0.0.1"};
    pod->netns = netns_;
    std::vector<PodListenerFd> listeners;
    listeners.push_back(PodListenerFd{ListenerKind::kHbone, *std::move(hbone)});

    thread_ = std::make_unique<LoopThread>(*loop_);
    event::ScopedFd app_fd = *std::move(app);
    thread_->RunOnLoop([&] {
      worker_->AddPod(pod, std::move(listeners));
      auto id = loop_->AddListener(std::move(app_fd), [](event::ConnectionId) {
        return std::make_unique<event::testing::EchoHandler>();
      });
      ASSERT_TRUE(id.ok()) << id.status();
    });
  }

  void TearDown() override {
    if (thread_ == nullptr) return;
    thread_->RunOnLoop([&] { pool_->ShutdownAll(); });
    // Every connection ends on its own before the loop goes (no handler dies mid-flight).
    EXPECT_TRUE(event::testing::WaitFor(
        [&] {
          size_t open = 1;
          thread_->RunOnLoop([&] { open = loop_->connection_count(); });
          return open == 0;
        },
        std::chrono::seconds(5)));
    thread_->RunOnLoop([&] {
      worker_->StopAccepting();
      pool_.reset();
    });
    ASSERT_TRUE(thread_->Stop().ok());
    thread_.reset();
    loop_.reset();
  }

  // The mesh: namespaces front and back are ambient; the server workload (identity
  // kServerId) lives at 127.0.0.1. `extra` adds documents (policies).
  void SetPolicies(const std::string& extra) {
    weft::config::v1::ClusterConfig config;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        absl::StrCat(R"pb(
                       namespaces {
                         name: "front"
                         labels { key: "weft.dev/dataplane-mode" value: "ambient" }
                       }
                       namespaces {
                         name: "back"
                         labels { key: "weft.dev/dataplane-mode" value: "ambient" }
                       }
                       workloads {
                         uid: "server"
                         name: "db-0"
                         namespace: "back"
                         service_account: "db"
                         node: "node-a"
                         addresses: "127.0.0.1"
                       }
                     )pb",
                     extra),
        &config));
    auto view = MeshView::Create(config, 1, "node-a");
    ASSERT_TRUE(view.ok()) << view.status();
    shared_->set_view(*view);
  }

  // Opens a CONNECT to `authority` from identity A and feeds `payload` through it.
  // With `speak_first`, the app writes before the tunnel is answered (the relay holds it).
  Tunnel* Open(const std::string& authority, std::string payload,
               std::shared_ptr<const tls::TlsContext> client_tls = nullptr,
               bool speak_first = false, bool half_close = true) {
    auto tunnel = std::make_unique<Tunnel>();
    Tunnel* t = tunnel.get();
    tunnels_.push_back(std::move(tunnel));
    if (client_tls == nullptr) client_tls = client_tls_;
    thread_->RunOnLoop([&] {
      ConnectionRecord record;
      record.direction = "outbound";
      record.reporter = "source";
      record.security_policy = "mutual_tls";
      record.destination_address = authority;
      Relay::Hooks hooks;
      hooks.on_upstream_ready = [t] {
        ++t->upstream_ready;
        t->app->SetReading(true);  // starts feeding
      };
      hooks.on_upstream_failed = [t](const absl::Status&) { ++t->upstream_failed; };
      hooks.on_finished = [t] { t->finished = true; };
      t->relay = std::make_shared<Relay>(client_telemetry_.get(), record, std::move(hooks));
      t->app = std::make_unique<AppSide>(loop_.get(), std::move(payload));
      t->app->set_relay(t->relay);
      t->app->half_close = half_close;
      t->relay->Attach(Relay::kDownstream, t->app.get());
      PoolKey key{kClientId, kServerId, hbone_address_.ToString()};
      HboneConnectionPool::Dial dial{netns_->get(), client_tls, hbone_address_};
      hbone::ConnectRequest request;
      request.authority = authority;
      auto leg = std::make_unique<RecordingStreamLeg>(t->relay, &t->status);
      absl::StatusOr<int32_t> stream = pool_->OpenStream(key, dial, request, std::move(leg));
      if (!stream.ok()) t->open_error = stream.status();
      if (speak_first) t->app->Feed();
    });
    return t;
  }

  bool WaitFinished(Tunnel* t) {
    return event::testing::WaitFor(
        [&] {
          bool done = false;
          thread_->RunOnLoop([&] { done = t->finished; });
          return done;
        },
        std::chrono::seconds(10));
  }

  // Server-side telemetry may land a moment after the client saw the end.
  bool WaitForSeries(admin::MetricsRegistry& metrics, const std::string& name,
                     const std::vector<std::string>& labels) {
    return event::testing::WaitFor(
        [&] { return SeriesValue(metrics.SerializeText(), name, labels) >= 1; },
        std::chrono::seconds(5));
  }

  std::string AppAuthority() const { return absl::StrCat("127.0.0.1:", app_port_); }

  tls::testing::TestCa ca_;
  tls::Credentials server_creds_, client_creds_;
  std::shared_ptr<const tls::TlsContext> client_tls_;
  admin::MetricsRegistry server_metrics_, client_metrics_;
  std::unique_ptr<ConnectionTelemetry> server_telemetry_, client_telemetry_;
  std::unique_ptr<SharedState> shared_, client_shared_;
  std::vector<std::unique_ptr<Tunnel>> tunnels_;  // outlive the loop: legs point into them
  std::shared_ptr<event::ScopedFd> netns_;
  event::ScopedFd dead_;
  std::unique_ptr<event::EventLoop> loop_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<HboneConnectionPool> pool_;
  std::unique_ptr<LoopThread> thread_;
  event::SocketAddress hbone_address_;
  uint16_t app_port_ = 0;
  uint16_t dead_port_ = 0;
};

std::string Payload(size_t size) {
  std::string out(size, '\0');
  uint32_t x = 2463534242u;  // xorshift: no repeating pattern a reordering could hide in
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

TEST_F(HboneRoundTripTest, MebibyteEchoesIntactThroughTheTunnel) {
  const std::string payload = Payload(1 << 20);
  Tunnel* t = Open(AppAuthority(), payload);
  ASSERT_TRUE(WaitFinished(t));
  thread_->RunOnLoop([&] {
    EXPECT_TRUE(t->open_error.ok()) << t->open_error;
    EXPECT_EQ(t->status, 200);
    EXPECT_EQ(t->upstream_ready, 1);
    EXPECT_EQ(t->upstream_failed, 0);
    EXPECT_EQ(t->app->received.size(), payload.size());
    EXPECT_TRUE(t->app->received == payload) << "echoed bytes differ";
    EXPECT_TRUE(t->app->got_end) << "the app's close must reach the client as a half-close";
    EXPECT_EQ(t->app->aborts, 0);
    EXPECT_EQ(t->relay->record().bytes_sent, payload.size());
    EXPECT_EQ(t->relay->record().bytes_received, payload.size());
  });
  const std::vector<std::string> labels = {"connection_security_policy=\"mutual_tls\""};
  EXPECT_EQ(
      SeriesValue(client_metrics_.SerializeText(), "weft_tcp_connections_closed_total", labels), 1);
  // The destination side saw who called: identity A, verified by mutual TLS.
  EXPECT_TRUE(WaitForSeries(
      server_metrics_, "weft_tcp_connections_closed_total",
      {"connection_security_policy=\"mutual_tls\"",
       absl::StrCat("source_principal=\"", kClientId, "\""), "reporter=\"destination\""}))
      << server_metrics_.SerializeText();
  EXPECT_EQ(SeriesValue(server_metrics_.SerializeText(), "weft_tcp_received_bytes_total",
                        {"reporter=\"destination\""}),
            static_cast<double>(payload.size()));
}

TEST_F(HboneRoundTripTest, BytesWrittenBeforeThe200ArriveAfterIt) {
  // More than the relay holds (256 KiB): the app is paused, then resumed after the 200.
  const std::string payload = Payload(600 * 1024);
  Tunnel* t = Open(AppAuthority(), payload, nullptr, /*speak_first=*/true);
  ASSERT_TRUE(WaitFinished(t));
  thread_->RunOnLoop([&] {
    EXPECT_EQ(t->status, 200);
    EXPECT_EQ(t->app->received.size(), payload.size());
    EXPECT_TRUE(t->app->received == payload) << "echoed bytes differ";
    EXPECT_EQ(t->relay->record().bytes_sent, payload.size());
  });
}

TEST_F(HboneRoundTripTest, RemovingThePodEndsItsConnections) {
  Tunnel* t = Open(AppAuthority(), "ping", nullptr, false, /*half_close=*/false);
  ASSERT_TRUE(event::testing::WaitFor(
      [&] {
        std::string received;
        thread_->RunOnLoop([&] { received = t->app->received; });
        return received == "ping";
      },
      std::chrono::seconds(5)));
  thread_->RunOnLoop([&] { EXPECT_FALSE(t->finished) << "an open connection stays open"; });
  thread_->RunOnLoop([&] { worker_->RemovePod("server"); });
  ASSERT_TRUE(WaitFinished(t));
  thread_->RunOnLoop([&] {
    EXPECT_EQ(t->app->aborts, 1) << "the client's app connection is ended, not half-closed";
    EXPECT_FALSE(t->app->got_end);
  });
  EXPECT_TRUE(WaitForSeries(server_metrics_, "weft_tcp_connections_closed_total",
                            {"reporter=\"destination\""}))
      << server_metrics_.SerializeText();
}

TEST_F(HboneRoundTripTest, SecondStreamReusesThePooledConnection) {
  Tunnel* first = Open(AppAuthority(), "one");
  ASSERT_TRUE(WaitFinished(first));
  Tunnel* second = Open(AppAuthority(), "two");
  ASSERT_TRUE(WaitFinished(second));
  thread_->RunOnLoop([&] {
    EXPECT_EQ(first->app->received, "one");
    EXPECT_EQ(second->app->received, "two");
    EXPECT_EQ(pool_->connection_count(), 1u);
  });
}

TEST_F(HboneRoundTripTest, DenyPolicyGives403AndPolicyDenied) {
  // Spelled with a non-proto delimiter so clang-format leaves the principal alone.
  SetPolicies(absl::StrCat(R"txt(
    authorization_policies {
      name: "no-web" namespace: "back" action: DENY
      rules { from { principals: ")txt",
                           kClientId, R"txt(" } }
    }
  )txt"));
  Tunnel* t = Open(AppAuthority(), "secret");
  ASSERT_TRUE(WaitFinished(t));
  thread_->RunOnLoop([&] {
    EXPECT_EQ(t->status, 403);
    EXPECT_EQ(t->upstream_ready, 0);
    EXPECT_EQ(t->upstream_failed, 1);
    EXPECT_EQ(t->app->aborts, 1) << "the app's connection is ended";
    EXPECT_EQ(t->app->received, "");
  });
  EXPECT_EQ(SeriesValue(client_metrics_.SerializeText(), "weft_tcp_connection_failures_total",
                        {"reason=\"policy_denied\""}),
            1)
      << client_metrics_.SerializeText();
  EXPECT_TRUE(WaitForSeries(server_metrics_, "weft_tcp_connection_failures_total",
                            {"reason=\"policy_denied\"", "reporter=\"destination\""}))
      << server_metrics_.SerializeText();
  EXPECT_EQ(SeriesValue(server_metrics_.SerializeText(), "weft_tcp_connections_opened_total", {}),
            -1);
}

TEST_F(HboneRoundTripTest, ConnectToAClosedPortGives503) {
  Tunnel* t = Open(absl::StrCat("127.0.0.1:", dead_port_), "hello");
  ASSERT_TRUE(WaitFinished(t));
  thread_->RunOnLoop([&] {
    EXPECT_EQ(t->status, 503);
    EXPECT_EQ(t->upstream_ready, 0);
    EXPECT_EQ(t->upstream_failed, 1);
    EXPECT_EQ(t->app->aborts, 1);
  });
  EXPECT_EQ(SeriesValue(client_metrics_.SerializeText(), "weft_tcp_connection_failures_total",
                        {"reason=\"upstream_refused\""}),
            1)
      << client_metrics_.SerializeText();
  EXPECT_TRUE(WaitForSeries(server_metrics_, "weft_tcp_connection_failures_total",
                            {"reason=\"upstream_refused\"", "reporter=\"destination\""}))
      << server_metrics_.SerializeText();
}

TEST_F(HboneRoundTripTest, ConnectToAnotherPodsAddressIsRefused) {
  Tunnel* t = Open("127.0.0.2:80", "hello");
  ASSERT_TRUE(WaitFinished(t));
  thread_->RunOnLoop([&] {
    EXPECT_EQ(t->status, 400);
    EXPECT_EQ(t->upstream_ready, 0);
  });
  EXPECT_TRUE(WaitForSeries(server_metrics_, "weft_tcp_connection_failures_total",
                            {"reason=\"bad_authority\""}))
      << server_metrics_.SerializeText();
}

TEST_F(HboneRoundTripTest, ClientOfAnotherCaIsRefusedAndCounted) {
  tls::testing::TestCa other;
  tls::Credentials stranger = other.Issue(kClientId);
  // It trusts our root, so it is the server that must refuse its certificate.
  stranger.trust_bundle_pem = ca_.root_pem();
  auto stranger_tls = tls::TlsContext::CreateClient(stranger, tls::testing::Options());
  ASSERT_TRUE(stranger_tls.ok()) << stranger_tls.status();
  Tunnel* t = Open(AppAuthority(), "let me in", *stranger_tls);
  ASSERT_TRUE(WaitFinished(t));
  thread_->RunOnLoop([&] {
    EXPECT_NE(t->status, 200);
    EXPECT_EQ(t->upstream_ready, 0);
    EXPECT_EQ(t->app->received, "");
  });
  EXPECT_TRUE(WaitForSeries(server_metrics_, "weft_tcp_connection_failures_total",
                            {"reason=\"tls_handshake\""}))
      << server_metrics_.SerializeText();
  EXPECT_EQ(SeriesValue(server_metrics_.SerializeText(), "weft_tcp_connections_opened_total", {}),
            -1);
}

}  // namespace
}  // namespace weft::ztunnel

namespace weft::ztunnel {
namespace {

// ztunnel's authoritative L4 check, rule kind by rule kind: for each policy set, a CONNECT
// from identity A (namespace of kClientId, source 127.0.0.1) to the app's port is answered
// 200 (tunnel up, bytes echo) or 403 (refused before any connect to the app).
struct AuthzCase {
  const char* name;
  std::string policies;  // text-format authorization_policies; {PORT} = the app's port
  int want_status;
};

class HboneAuthorizationTest : public HboneRoundTripTest {};

std::string Policy(const std::string& action, const std::string& rules) {
  return absl::StrCat("authorization_policies { name: \"p-", action, "\" namespace: \"back\" ",
                      "action: ", action, " ", rules, " }\n");
}

TEST_F(HboneAuthorizationTest, PrincipalNamespaceCidrAndPortRulesEachAllowAndDeny) {
  const std::string client = kClientId;
  const std::string client_ns = NamespaceOfIdentity(client);
  ASSERT_FALSE(client_ns.empty()) << client;
  const std::vector<AuthzCase> cases = {
      {"no policy: allowed", "", 200},
      {"ALLOW principal = caller", Policy("ALLOW", "rules { from { principals: \"" + client + "\" } }"), 200},
      {"ALLOW principal = someone else",
       Policy("ALLOW", "rules { from { principals: \"spiffe://cluster.local/ns/x/sa/y\" } }"), 403},
      {"DENY principal = caller", Policy("DENY", "rules { from { principals: \"" + client + "\" } }"), 403},
      {"ALLOW namespace = caller's", Policy("ALLOW", "rules { from { namespaces: \"" + client_ns + "\" } }"), 200},
      {"ALLOW namespace = other", Policy("ALLOW", "rules { from { namespaces: \"elsewhere\" } }"), 403},
      {"DENY namespace = caller's", Policy("DENY", "rules { from { namespaces: \"" + client_ns + "\" } }"), 403},
      {"ALLOW source CIDR containing the caller", Policy("ALLOW", "rules { from { ip_blocks: \"127.0.0.0/8\" } }"), 200},
      {"ALLOW source CIDR not containing it", Policy("ALLOW", "rules { from { ip_blocks: \"10.0.0.0/8\" } }"), 403},
      {"DENY source CIDR containing the caller", Policy("DENY", "rules { from { ip_blocks: \"127.0.0.1/32\" } }"), 403},
      {"ALLOW the app's port", Policy("ALLOW", "rules { to { ports: {PORT} } }"), 200},
      {"ALLOW another port", Policy("ALLOW", "rules { to { ports: 1 } }"), 403},
      {"DENY the app's port", Policy("DENY", "rules { to { ports: {PORT} } }"), 403},
      {"DENY another port", Policy("DENY", "rules { to { ports: 1 } }"), 200},
      {"DENY wins over a matching ALLOW",
       Policy("ALLOW", "rules { from { principals: \"" + client + "\" } }") +
           Policy("DENY", "rules { from { namespaces: \"" + client_ns + "\" } }"),
       403},
      {"an ALLOW that needs L7 fails closed without a waypoint",
       Policy("ALLOW", "rules { to { methods: \"GET\" } }"), 403},
  };
  for (const AuthzCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::string policies = c.policies;
    for (size_t at; (at = policies.find("{PORT}")) != std::string::npos;) {
      policies.replace(at, 6, std::to_string(app_port_));
    }
    SetPolicies(policies);
    Tunnel* t = Open(AppAuthority(), "ping");
    ASSERT_TRUE(WaitFinished(t));
    thread_->RunOnLoop([&] {
      EXPECT_EQ(t->status, c.want_status);
      EXPECT_EQ(t->app->received, c.want_status == 200 ? "ping" : "");
    });
  }
}

}  // namespace
}  // namespace weft::ztunnel
