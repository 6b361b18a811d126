// The admin server over real loopback sockets: /metrics, /healthz, /readyz, registered
// handlers, 404/405, keep-alive and pipelining, and malformed input that gets a 400 while the
// server keeps serving everyone else.
#include "common/admin/admin_server.h"

#include <atomic>
#include <mutex>

#include "tests/unit/event/event_test_support.h"

namespace weft::admin {
namespace {

using event::ScopedFd;

struct Response {
  int status = 0;
  std::string head;
  std::string body;
};

// A blocking HTTP/1.1 client that reads responses by Content-Length, keeping leftovers so
// pipelined responses can be read one by one.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(event::testing::ConnectBlocking(port)) {}
  bool connected() const { return fd_.valid(); }
  bool Send(std::string_view raw) { return event::testing::WriteAll(fd_.get(), raw); }

  std::optional<Response> Read() {
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    Response r;
    r.head = buf_.substr(0, head_end + 4);
    if (r.head.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    r.status = std::stoi(r.head.substr(9, 3));
    size_t cl = r.head.find("Content-Length: ");
    if (cl == std::string::npos) return std::nullopt;
    const size_t length = std::stoul(r.head.substr(cl + 16));
    while (buf_.size() < head_end + 4 + length) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buf_.substr(head_end + 4, length);
    buf_.erase(0, head_end + 4 + length);
    return r;
  }

  std::optional<Response> Get(const std::string& path, const std::string& extra_headers = "") {
    if (!Send("GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n")) {
      return std::nullopt;
    }
    return Read();
  }

  // Closes with RST instead of FIN.
  void Reset() {
    linger lin{1, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    fd_.Reset();
  }

  // True once the server has closed the connection (EOF, no stray bytes).
  bool SeesEof() {
    char c;
    return buf_.empty() && ::recv(fd_.get(), &c, 1, 0) == 0;
  }

 private:
  bool Fill() {
    char tmp[4096];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  ScopedFd fd_;
  std::string buf_;
};

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_shared<MetricsRegistry>();
    absl::StatusOr<prometheus::Counter*> counter =
        metrics_->Counter("weft_test_scrapes_total", "Incremented by the test.");
    ASSERT_TRUE(counter.ok()) << counter.status();
    counter_ = *counter;
    absl::StatusOr<std::unique_ptr<event::EventLoop>> loop =
        event::EventLoop::Create({.name = "admin"});
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    AdminServerOptions options;
    options.address = "127.0.0.1:0";
    options.metrics = metrics_;
    options.readiness = [this]() -> absl::Status {
      std::lock_guard<std::mutex> l(mu_);
      return not_ready_reason_.empty() ? absl::OkStatus()
                                       : absl::UnavailableError(not_ready_reason_);
    };
    absl::StatusOr<std::unique_ptr<AdminServer>> server =
        AdminServer::Create(loop_.get(), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_TRUE(server_
                    ->RegisterHandler("/debug/config",
                                      [](const HttpRequest&) {
                                        return HttpResponse::Json("{\"mode\":\"ambient\"}");
                                      })
                    .ok());
    runner_ = std::make_unique<event::testing::LoopThread>(*loop_);
  }

  void TearDown() override {
    if (runner_ != nullptr) (void)runner_->Stop();
    server_.reset();
    runner_.reset();
  }

  void SetNotReady(std::string reason) {
    std::lock_guard<std::mutex> l(mu_);
    not_ready_reason_ = std::move(reason);
  }

  std::shared_ptr<MetricsRegistry> metrics_;
  prometheus::Counter* counter_ = nullptr;
  std::unique_ptr<event::EventLoop> loop_;
  std::unique_ptr<AdminServer> server_;
  std::unique_ptr<event::testing::LoopThread> runner_;
  std::mutex mu_;
  std::string not_ready_reason_;
};

TEST_F(AdminServerTest, ExposesTheBoundPort) {
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->address().ToString(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(AdminServerTest, MetricsShowsACounterTheTestIncremented) {
  counter_->Increment(7);
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  std::optional<Response> r = client.Get("/metrics");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r->head;
  EXPECT_NE(r->body.find("weft_test_scrapes_total 7"), std::string::npos) << r->body;
  counter_->Increment();
  r = client.Get("/metrics");  // same keep-alive connection
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->body.find("weft_test_scrapes_total 8"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("weft_admin_requests_total{code=\"200\"} 1"), std::string::npos)
      << r->body;
}

TEST_F(AdminServerTest, HealthzAndDebugHandler) {
  Client client(server_->port());
  std::optional<Response> r = client.Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
  r = client.Get("/debug/config");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(r->body, "{\"mode\":\"ambient\"}");
}

TEST_F(AdminServerTest, ReadyzFollowsTheReadinessCallback) {
  SetNotReady("config not loaded");
  Client client(server_->port());
  std::optional<Response> r = client.Get("/readyz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("config not loaded"), std::string::npos) << r->body;
  SetNotReady("");
  r = client.Get("/readyz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST_F(AdminServerTest, UnknownPathIs404AndOtherMethodsAre405) {
  Client client(server_->port());
  std::optional<Response> r = client.Get("/nope");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  ASSERT_TRUE(client.Send("DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_NE(r->head.find("Allow: GET, HEAD"), std::string::npos);
  r = client.Get("/healthz");  // the connection survived both
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST_F(AdminServerTest, PipelinedRequestsAreAnsweredInOrderAndCloseIsHonoured) {
  Client client(server_->port());
  ASSERT_TRUE(
      client.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /debug/config HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  std::optional<Response> a = client.Read(), b = client.Read(), c = client.Read();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(b->status, 404);
  EXPECT_EQ(c->status, 200);
  EXPECT_NE(c->head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(client.SeesEof());
}

TEST_F(AdminServerTest, MalformedRequestsGet400AndTheServerKeepsServing) {
  const std::string bad_inputs[] = {
      "garbage\r\n\r\n",
      std::string("\x16\x03\x01\x00\xa5\x01\x00\x00", 8),  // a TLS ClientHello
      "GET / HTTP/1.1\r\n\r\n",                            // no Host
      "GET /healthz HTTP/1.1\r\nHost: t\r\n bad fold\r\n\r\n",
  };
  for (const std::string& bad : bad_inputs) {
    Client client(server_->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send(bad));
    std::optional<Response> r = client.Read();
    ASSERT_TRUE(r.has_value()) << "no response to a malformed request";
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(client.SeesEof()) << "connection should close after a 400";
  }
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(9000, 'a')));
    std::optional<Response> r = client.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 431);
  }
  {
    // Half a request, then a reset: nothing to answer, nothing may break.
    Client client(server_->port());
    ASSERT_TRUE(client.Send("GET /metr"));
    client.Reset();
  }
  Client healthy(server_->port());
  std::optional<Response> r = healthy.Get("/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  r = healthy.Get("/metrics");
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->body.find("weft_admin_requests_total{code=\"400\"} 4"), std::string::npos)
      << r->body;
}

TEST(AdminServerCreateTest, RejectsBadAddressesWithAClearError) {
  absl::StatusOr<std::unique_ptr<event::EventLoop>> loop = event::EventLoop::Create({});
  ASSERT_TRUE(loop.ok());
  AdminServerOptions options;
  options.address = "localhost:15020";
  absl::StatusOr<std::unique_ptr<AdminServer>> server = AdminServer::Create(loop->get(), options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("localhost"), absl::string_view::npos);
}

}  // namespace
}  // namespace weft::admin
