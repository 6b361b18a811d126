#include "common/admin/admin_router.h"

#include "absl/strings/str_cat.h"

namespace weft::admin {

AdminRouter::AdminRouter(std::shared_ptr<MetricsRegistry> metrics, ReadinessCheck readiness)
    : metrics_(std::move(metrics)), readiness_(std::move(readiness)) {
  handlers_["/metrics"] = [this](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (metrics_ != nullptr) r.body = metrics_->SerializeText();
    return r;
  };
  handlers_["/healthz"] = [](const HttpRequest&) { return HttpResponse::Text(200, "ok\n"); };
  handlers_["/readyz"] = [this](const HttpRequest&) {
    absl::Status ready = readiness_ ? readiness_() : absl::OkStatus();
    if (ready.ok()) return HttpResponse::Text(200, "ready\n");
    return HttpResponse::Text(503, absl::StrCat("not ready: ", ready.message(), "\n"));
  };
}

absl::Status AdminRouter::Register(const std::string& path, AdminHandler handler) {
  if (path.empty() || path.front() != '/' || path.find('?') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin path \"", path, "\" must start with '/' and carry no query"));
  }
  if (!handler) return absl::InvalidArgumentError("admin handler for " + path + " is empty");
  std::lock_guard<std::mutex> lock(mu_);
  if (!handlers_.emplace(path, std::move(handler)).second) {
    return absl::AlreadyExistsError(absl::StrCat("admin path \"", path, "\" already registered"));
  }
  return absl::OkStatus();
}

HttpResponse AdminRouter::Handle(const HttpRequest& request) const {
  AdminHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = handlers_.find(request.path);
    if (it == handlers_.end()) {
      return HttpResponse::Text(404, absl::StrCat("no admin endpoint at ", request.path, "\n"));
    }
    handler = it->second;  // copied so a slow handler does not hold the lock
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = HttpResponse::Text(405, "admin endpoints accept GET and HEAD only\n");
    r.allow = "GET, HEAD";
    return r;
  }
  return handler(request);
}

}  // namespace weft::admin
