// The admin HTTP/1.1 endpoint of a weft binary (/metrics, /healthz, /readyz, plus registered
// debug handlers), served on an event::EventLoop.
//
// Connection handling: HTTP/1.1 keep-alive (and pipelining) by default; "Connection: close",
// HTTP/1.0 without keep-alive, any request carrying a body, and any malformed request end the
// connection after the response. Idle connections close after `idle_timeout`; beyond
// `max_connections` new connections are refused, so a scraper storm cannot take the
// process's file descriptors.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/admin/admin_connection.h"
#include "common/admin/admin_router.h"
#include "common/admin/metrics_registry.h"
#include "common/event/event_loop.h"
#include "common/event/socket_address.h"

namespace weft::admin {

struct AdminServerOptions {
  std::string address = "127.0.0.1:15020";  // port 0: the kernel picks; see port()
  std::shared_ptr<MetricsRegistry> metrics;
  ReadinessCheck readiness;  // null: always ready
  HttpParserLimits limits;
  std::chrono::milliseconds idle_timeout{30000};
  size_t max_connections = 64;
};

class AdminServer {
 public:
  // Binds and starts accepting on `loop`. Call on the loop's thread, or before it runs.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Create(event::EventLoop* loop,
                                                             AdminServerOptions options);
  // Stops accepting (same threading rule as Create); open connections finish on their own.
  // Must be destroyed before `loop`.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Any thread. E.g. RegisterHandler("/debug/config", [] { return HttpResponse::Json(...); }).
  absl::Status RegisterHandler(const std::string& path, AdminHandler handler);

  const event::SocketAddress& address() const { return bound_; }
  uint16_t port() const { return bound_.port(); }

 private:
  AdminServer(event::EventLoop* loop, std::shared_ptr<AdminContext> context)
      : loop_(loop), context_(std::move(context)) {}

  event::EventLoop* loop_;
  std::shared_ptr<AdminContext> context_;
  event::ListenerId listener_;
  event::SocketAddress bound_;
};

}  // namespace weft::admin
