#include "common/admin/admin_connection.h"

#include "absl/strings/str_cat.h"
#include "common/event/event_loop.h"
#include "common/log/logger.h"

namespace weft::admin {

AdminConnection::AdminConnection(std::shared_ptr<AdminContext> context)
    : context_(std::move(context)) {
  ++context_->live_connections;
}

void AdminConnection::OnData(event::EventLoop& loop, event::ConnectionId id,
                             std::string_view data) {
  if (closing_) return;
  buffer_.append(data);
  while (!closing_) {
    HttpParseResult parsed = ParseHttpRequest(buffer_, context_->limits);
    if (parsed.outcome == HttpParseResult::Outcome::kIncomplete) return;
    if (parsed.outcome == HttpParseResult::Outcome::kError) {
      // The stream position is unknown after a bad head: answer, then close.
      weft::log::Info(
          "admin request rejected",
          {{"conn", id.ToString()}, {"status", parsed.error_status}, {"reason", parsed.error}});
      Respond(loop, id, HttpResponse::Text(parsed.error_status, parsed.error + "\n"),
              /*keep_alive=*/false, /*head_only=*/false);
      return;
    }
    buffer_.erase(0, parsed.consumed);
    const HttpRequest& request = parsed.request;
    HttpResponse response = context_->router->Handle(request);
    // Bodies are never read, so the byte stream after one cannot be trusted: close.
    const bool keep_alive = request.keep_alive && !request.has_body;
    Respond(loop, id, response, keep_alive, request.method == "HEAD");
  }
}

void AdminConnection::Respond(event::EventLoop& loop, event::ConnectionId id,
                              const HttpResponse& response, bool keep_alive, bool head_only) {
  if (context_->requests != nullptr) {
    context_->requests->Add({{"code", std::to_string(response.status)}}).Increment();
  }
  absl::Status sent = loop.Send(id, SerializeHttpResponse(response, keep_alive, head_only));
  if (!sent.ok() || !keep_alive) {
    closing_ = true;
    buffer_.clear();
    (void)loop.Close(id);  // flushes the response first
  }
}

void AdminConnection::OnClosed(event::EventLoop& /*loop*/, event::ConnectionId /*id*/,
                               const absl::Status& /*reason*/) {
  --context_->live_connections;
}

}  // namespace weft::admin
