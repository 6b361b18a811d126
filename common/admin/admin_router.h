// Maps admin request paths to answers: the built-in /metrics, /healthz and /readyz, plus
// handlers other components register (e.g. /debug/config returning their state as JSON).
// Socket-free, so routing rules are tested without a server.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "common/admin/http_request_parser.h"
#include "common/admin/http_response.h"
#include "common/admin/metrics_registry.h"

namespace weft::admin {

// Runs on the admin loop's thread; must be safe to call from it (read snapshots, not
// another thread's live state).
using AdminHandler = std::function<HttpResponse(const HttpRequest&)>;
// OK when ready; otherwise the message is the 503 body.
using ReadinessCheck = std::function<absl::Status()>;

class AdminRouter {
 public:
  // `metrics` may be null (then /metrics is empty); a null `readiness` means always ready.
  AdminRouter(std::shared_ptr<MetricsRegistry> metrics, ReadinessCheck readiness);

  // Any thread. `path` must start with '/' and not be taken (built-ins included).
  absl::Status Register(const std::string& path, AdminHandler handler);

  // 404 for unknown paths, 405 (Allow: GET, HEAD) for other methods on known ones.
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  std::shared_ptr<MetricsRegistry> metrics_;
  ReadinessCheck readiness_;
  mutable std::mutex mu_;
  std::map<std::string, AdminHandler> handlers_;  // guarded by mu_
};

}  // namespace weft::admin
