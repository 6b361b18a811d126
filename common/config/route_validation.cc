// Checks of HTTPRoute and TrafficPolicy documents.
#include "common/config/validation_context.h"
#include "common/config/value_checks.h"
#include "google/protobuf/util/time_util.h"

namespace weft::config {
namespace {

using google::protobuf::util::TimeUtil;
using weft::config::v1::BackendRef;
using weft::config::v1::ClusterConfig;
using weft::config::v1::HeaderMatch;
using weft::config::v1::HTTPRoute;
using weft::config::v1::PathMatch;
using weft::config::v1::RouteFilter;
using weft::config::v1::RouteRule;
using weft::config::v1::Service;

bool HasPort(const Service& s, uint32_t port) {
  for (const auto& p : s.ports()) {
    if (p.port() == port) return true;
  }
  return false;
}

// A reference to a Service by name (and optionally namespace and port).
void CheckServiceRef(ValidationContext& ctx, const std::string& path, const std::string& own_ns,
                     const std::string& name, const std::string& ns, uint32_t port) {
  if (name.empty()) {
    ctx.Error(path + ".name", "expected the name of a service, got nothing");
    return;
  }
  const std::string& target_ns = ns.empty() ? own_ns : ns;
  const Service* service = ctx.FindService(target_ns, name);
  if (service == nullptr) {
    ctx.Error(path + ".name", absl::StrCat("expected the name of a service, but service \"",
                                           target_ns, "/", name, "\" does not exist"));
    return;
  }
  if (port != 0 && !HasPort(*service, port)) {
    ctx.Error(path + ".port", absl::StrCat("expected a port of service \"", target_ns, "/", name,
                                           "\", got ", port));
  }
}

void ValidatePathMatch(ValidationContext& ctx, const std::string& path, const PathMatch& m) {
  if (m.type() == PathMatch::REGEX) {
    ctx.Check(path + ".value", CheckRegex(m.value()));
  } else if (!std::string_view(m.value()).starts_with("/")) {
    ctx.Error(path + ".value",
              absl::StrCat("expected a path starting with '/', got \"", m.value(), "\""));
  }
}

void ValidateHeaderMatch(ValidationContext& ctx, const std::string& path, const HeaderMatch& m,
                         bool is_header) {
  if (is_header) {
    ctx.Check(path + ".name", CheckHeaderName(m.name()));
  } else if (m.name().empty()) {
    ctx.Error(path + ".name", "expected a query parameter name, got nothing");
  }
  if (m.type() == HeaderMatch::REGEX) ctx.Check(path + ".value", CheckRegex(m.value()));
}

void ValidateFilter(ValidationContext& ctx, const std::string& path, const std::string& ns,
                    const RouteFilter& f) {
  switch (f.filter_case()) {
    case RouteFilter::kRequestRedirect: {
      uint32_t code = f.request_redirect().status_code();
      if (code != 0 && code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
        ctx.Error(path + ".request_redirect.status_code",
                  absl::StrCat("expected 301, 302, 303, 307 or 308, got ", code));
      }
      if (f.request_redirect().port() != 0) {
        ctx.Check(path + ".request_redirect.port", CheckPort(f.request_redirect().port()));
      }
      break;
    }
    case RouteFilter::kUrlRewrite: {
      const auto& rw = f.url_rewrite();
      const std::string& p = rw.has_replace_full_path() ? rw.replace_full_path()
                                                        : rw.replace_prefix_match();
      if (rw.path_case() != weft::config::v1::URLRewrite::PATH_NOT_SET &&
          !std::string_view(p).starts_with("/")) {
        ctx.Error(path + (rw.has_replace_full_path() ? ".url_rewrite.replace_full_path"
                                                     : ".url_rewrite.replace_prefix_match"),
                  absl::StrCat("expected a path starting with '/', got \"", p, "\""));
      }
      break;
    }
    case RouteFilter::kRequestMirror: {
      const BackendRef& b = f.request_mirror().backend_ref();
      CheckServiceRef(ctx, path + ".request_mirror.backend_ref", ns, b.name(), b.namespace_(),
                      b.port());
      break;
    }
    case RouteFilter::kRequestHeaderModifier:
    case RouteFilter::kResponseHeaderModifier: {
      const auto& hm = f.has_request_header_modifier() ? f.request_header_modifier()
                                                       : f.response_header_modifier();
      std::string hpath = path + (f.has_request_header_modifier() ? ".request_header_modifier"
                                                                  : ".response_header_modifier");
      for (const auto& [name, value] : hm.set()) {
        ctx.Check(absl::StrCat(hpath, ".set[", name, "]"), CheckHeaderName(name));
      }
      for (const auto& [name, value] : hm.add()) {
        ctx.Check(absl::StrCat(hpath, ".add[", name, "]"), CheckHeaderName(name));
      }
      for (int i = 0; i < hm.remove_size(); ++i) {
        ctx.Check(Item(hpath + ".remove", i), CheckHeaderName(hm.remove(i)));
      }
      break;
    }
    case RouteFilter::FILTER_NOT_SET:
      ctx.Error(path, "expected one filter (request_header_modifier, response_header_modifier, "
                      "request_redirect, url_rewrite or request_mirror), got none");
      break;
  }
}

void ValidateBackends(ValidationContext& ctx, const std::string& path, const std::string& ns,
                      const RouteRule& rule) {
  bool redirects = false;
  for (const auto& f : rule.filters()) redirects |= f.has_request_redirect();
  if (rule.backend_refs_size() == 0 && !redirects) {
    ctx.Error(path + ".backend_refs", "expected at least one backend, got none");
  }
  uint32_t sum = 0;
  int weighted = 0;
  for (int i = 0; i < rule.backend_refs_size(); ++i) {
    const BackendRef& b = rule.backend_refs(i);
    std::string bpath = Item(path + ".backend_refs", i);
    CheckServiceRef(ctx, bpath, ns, b.name(), b.namespace_(), b.port());
    if (b.weight() > 100) {
      ctx.Error(bpath + ".weight", absl::StrCat("expected a percentage up to 100, got ",
                                                b.weight()));
    }
    sum += b.weight();
    if (b.weight() != 0) ++weighted;
  }
  if (weighted > 0 && sum != 100) {
    ctx.Error(path + ".backend_refs",
              absl::StrCat("expected backend weights that add up to 100, got ", sum));
  }
}

void CheckDuration(ValidationContext& ctx, const std::string& path,
                   const google::protobuf::Duration& d, bool allow_zero) {
  if (!allow_zero && TimeUtil::DurationToNanoseconds(d) <= 0) {
    ctx.Error(path, "expected a duration greater than 0s, got " + TimeUtil::ToString(d));
  }
}

void ValidateRule(ValidationContext& ctx, const std::string& path, const std::string& ns,
                  const RouteRule& rule) {
  for (int i = 0; i < rule.matches_size(); ++i) {
    const auto& m = rule.matches(i);
    std::string mpath = Item(path + ".matches", i);
    if (m.has_path()) ValidatePathMatch(ctx, mpath + ".path", m.path());
    for (int j = 0; j < m.headers_size(); ++j) {
      ValidateHeaderMatch(ctx, Item(mpath + ".headers", j), m.headers(j), true);
    }
    for (int j = 0; j < m.query_params_size(); ++j) {
      ValidateHeaderMatch(ctx, Item(mpath + ".query_params", j), m.query_params(j), false);
    }
    if (!m.method().empty()) ctx.Check(mpath + ".method", CheckHttpMethod(m.method()));
  }
  for (int i = 0; i < rule.filters_size(); ++i) {
    ValidateFilter(ctx, Item(path + ".filters", i), ns, rule.filters(i));
  }
  ValidateBackends(ctx, path, ns, rule);
  const auto& t = rule.timeouts();
  if (t.has_request()) CheckDuration(ctx, path + ".timeouts.request", t.request(), false);
  if (t.has_backend_request()) {
    CheckDuration(ctx, path + ".timeouts.backend_request", t.backend_request(), false);
    if (t.has_request() && t.backend_request() > t.request()) {
      ctx.Error(path + ".timeouts.backend_request",
                "expected a backend_request timeout no longer than the request timeout");
    }
  }
  if (rule.has_retry()) {
    const auto& r = rule.retry();
    if (r.attempts() > 10) {
      ctx.Error(path + ".retry.attempts",
                absl::StrCat("expected at most 10 attempts, got ", r.attempts()));
    }
    static constexpr std::string_view kRetryOn[] = {"5xx", "gateway-error", "reset",
                                                    "connect-failure", "retriable-status-codes"};
    for (int i = 0; i < r.retry_on_size(); ++i) {
      bool known = false;
      for (auto k : kRetryOn) known |= r.retry_on(i) == k;
      if (!known) {
        ctx.Error(Item(path + ".retry.retry_on", i),
                  absl::StrCat("expected one of 5xx, gateway-error, reset, connect-failure or "
                               "retriable-status-codes, got \"",
                               r.retry_on(i), "\""));
      }
    }
  }
}

}  // namespace

void ValidateHttpRoutes(ValidationContext& ctx, const ClusterConfig& config) {
  for (int i = 0; i < config.http_routes_size(); ++i) {
    const HTTPRoute& route = config.http_routes(i);
    std::string path = Item("http_routes", i);
    ctx.CheckObjectName(path, "http route", route.namespace_(), route.name());
    if (route.parent_refs_size() == 0) {
      ctx.Error(path + ".parent_refs", "expected at least one parent service, got none");
    }
    for (int j = 0; j < route.parent_refs_size(); ++j) {
      const auto& p = route.parent_refs(j);
      CheckServiceRef(ctx, Item(path + ".parent_refs", j), route.namespace_(), p.name(),
                      p.namespace_(), p.port());
    }
    for (int j = 0; j < route.hostnames_size(); ++j) {
      std::string_view host = route.hostnames(j);
      if (std::string_view(host).starts_with("*.")) host.remove_prefix(2);
      ctx.Check(Item(path + ".hostnames", j), CheckDnsSubdomain(host));
    }
    if (route.rules_size() == 0) ctx.Error(path + ".rules", "expected at least one rule, got none");
    for (int j = 0; j < route.rules_size(); ++j) {
      ValidateRule(ctx, Item(path + ".rules", j), route.namespace_(), route.rules(j));
    }
  }
}

void ValidateTrafficPolicies(ValidationContext& ctx, const ClusterConfig& config) {
  for (int i = 0; i < config.traffic_policies_size(); ++i) {
    const auto& tp = config.traffic_policies(i);
    std::string path = Item("traffic_policies", i);
    ctx.CheckObjectName(path, "traffic policy", tp.namespace_(), tp.name());
    if (tp.target().empty()) {
      ctx.Error(path + ".target", "expected the name of a service, got nothing");
    } else if (ctx.FindService(tp.namespace_(), tp.target()) == nullptr) {
      ctx.Error(path + ".target", absl::StrCat("expected the name of a service, but service \"",
                                               tp.namespace_(), "/", tp.target(),
                                               "\" does not exist"));
    }
    const auto& od = tp.outlier_detection();
    if (od.max_ejection_percent() > 100) {
      ctx.Error(path + ".outlier_detection.max_ejection_percent",
                absl::StrCat("expected a percentage up to 100, got ", od.max_ejection_percent()));
    }
    if (od.has_interval()) {
      CheckDuration(ctx, path + ".outlier_detection.interval", od.interval(), false);
    }
    for (int j = 0; j < tp.rate_limits_size(); ++j) {
      const auto& rl = tp.rate_limits(j);
      std::string rpath = Item(path + ".rate_limits", j);
      if (rl.requests_per_second() == 0) {
        ctx.Error(rpath + ".requests_per_second", "expected a rate greater than 0, got 0");
      }
      if (rl.key() == weft::config::v1::RateLimit::HEADER) {
        ctx.Check(rpath + ".header", CheckHeaderName(rl.header()));
      } else if (!rl.header().empty()) {
        ctx.Error(rpath + ".header", "expected no header unless key is HEADER");
      }
    }
    const auto& fault = tp.fault();
    if (fault.has_delay()) {
      double pct = fault.delay().percentage();
      if (pct < 0 || pct > 100) {
        ctx.Error(path + ".fault.delay.percentage",
                  absl::StrCat("expected a percentage from 0 to 100, got ", pct));
      }
      CheckDuration(ctx, path + ".fault.delay.fixed_delay", fault.delay().fixed_delay(), false);
    }
    if (fault.has_abort()) {
      double pct = fault.abort().percentage();
      if (pct < 0 || pct > 100) {
        ctx.Error(path + ".fault.abort.percentage",
                  absl::StrCat("expected a percentage from 0 to 100, got ", pct));
      }
      uint32_t status = fault.abort().http_status();
      if (status < 200 || status > 599) {
        ctx.Error(path + ".fault.abort.http_status",
                  absl::StrCat("expected an HTTP status from 200 to 599, got ", status));
      }
    }
  }
}

}  // namespace weft::config
