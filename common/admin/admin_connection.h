// One admin client connection on the admin EventLoop: accumulates bytes, parses request
// heads, answers each through the AdminRouter in order (pipelining works), and closes after
// an error or when either side asked for Connection: close.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/admin/admin_router.h"
#include "common/admin/http_request_parser.h"
#include "common/event/connection_handler.h"

namespace weft::admin {

// Shared by the server and its connections; outlives whichever goes first.
struct AdminContext {
  std::shared_ptr<AdminRouter> router;
  HttpParserLimits limits;
  size_t max_connections = 64;
  size_t live_connections = 0;  // loop thread only
  // weft_admin_requests_total{code} and weft_admin_connections_refused_total; may be null.
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Counter* refused = nullptr;
};

class AdminConnection : public event::ConnectionHandler {
 public:
  explicit AdminConnection(std::shared_ptr<AdminContext> context);

  void OnData(event::EventLoop& loop, event::ConnectionId id, std::string_view data) override;
  void OnClosed(event::EventLoop& loop, event::ConnectionId id,
                const absl::Status& reason) override;

 private:
  void Respond(event::EventLoop& loop, event::ConnectionId id, const HttpResponse& response,
               bool keep_alive, bool head_only);

  std::shared_ptr<AdminContext> context_;
  std::string buffer_;
  bool closing_ = false;
};

}  // namespace weft::admin
