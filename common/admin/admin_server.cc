#include "common/admin/admin_server.h"

#include "absl/strings/str_cat.h"
#include "common/event/listen_socket.h"
#include "common/log/logger.h"

namespace weft::admin {

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Create(event::EventLoop* loop,
                                                                 AdminServerOptions options) {
  if (loop == nullptr) return absl::InvalidArgumentError("AdminServer needs an event loop");
  absl::StatusOr<event::SocketAddress> address = event::SocketAddress::Parse(options.address);
  if (!address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("admin address: ", address.status().message()));
  }
  absl::StatusOr<event::ScopedFd> fd = event::OpenListenSocket(*address, {.backlog = 128});
  if (!fd.ok()) return fd.status();
  absl::StatusOr<event::SocketAddress> bound = event::SocketAddress::LocalOf(fd->get());
  if (!bound.ok()) return bound.status();

  auto context = std::make_shared<AdminContext>();
  context->router = std::make_shared<AdminRouter>(options.metrics, std::move(options.readiness));
  context->limits = options.limits;
  context->max_connections = options.max_connections;
  if (options.metrics != nullptr) {
    absl::StatusOr<prometheus::Family<prometheus::Counter>*> requests =
        options.metrics->CounterFamily("weft_admin_requests_total",
                                       "Admin HTTP responses sent, by status code.");
    if (!requests.ok()) return requests.status();
    context->requests = *requests;
    absl::StatusOr<prometheus::Counter*> refused =
        options.metrics->Counter("weft_admin_connections_refused_total",
                                 "Admin connections refused because max_connections were open.");
    if (!refused.ok()) return refused.status();
    context->refused = *refused;
  }

  std::unique_ptr<AdminServer> server(new AdminServer(loop, context));
  server->bound_ = *bound;
  const std::chrono::milliseconds idle_timeout = options.idle_timeout;
  const std::string where = bound->ToString();
  absl::StatusOr<event::ListenerId> listener = loop->AddListener(
      std::move(*fd),
      [loop, context, idle_timeout,
       where](event::ConnectionId id) -> std::unique_ptr<event::ConnectionHandler> {
        if (context->live_connections >= context->max_connections) {
          if (context->refused != nullptr) context->refused->Increment();
          weft::log::Warn("admin connection refused: too many open",
                          {{"address", where}, {"max_connections", context->max_connections}});
          return nullptr;
        }
        if (idle_timeout.count() > 0) (void)loop->SetIdleTimeout(id, idle_timeout);
        return std::make_unique<AdminConnection>(context);
      });
  if (!listener.ok()) return listener.status();
  server->listener_ = *listener;
  weft::log::Info("admin server listening", {{"address", where}});
  return server;
}

AdminServer::~AdminServer() {
  if (listener_.valid()) (void)loop_->RemoveListener(listener_);
}

absl::Status AdminServer::RegisterHandler(const std::string& path, AdminHandler handler) {
  return context_->router->Register(path, std::move(handler));
}

}  // namespace weft::admin
