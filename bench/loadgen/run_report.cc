#include "bench/loadgen/run_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json/json_string.h"

namespace weft::loadgen {
namespace {

// %.6g keeps JSON numbers short and never prints inf/nan (those are not JSON).
std::string Number(double value) {
  if (!(value == value) || value > 1e300 || value < -1e300) return "0";
  return absl::StrFormat("%.6g", value);
}

void AppendSummary(std::string& out, const LatencyHistogram& histogram) {
  const LatencySummary s = histogram.Summarize();
  absl::StrAppend(&out, "{\"count\":", s.count, ",\"min\":", s.min, ",\"p50\":", s.p50,
                  ",\"p90\":", s.p90, ",\"p99\":", s.p99, ",\"p99_9\":", s.p99_9,
                  ",\"max\":", s.max, ",\"mean\":", Number(s.mean), "}");
}

void AppendParameters(std::string& out, const ClientOptions& o) {
  out += "{\"target\":";
  json::AppendJsonString(out, o.target.ToString());
  absl::StrAppend(&out, ",\"size\":", o.size, ",\"connections\":", o.connections,
                  ",\"rate\":", Number(o.closed_loop ? 0 : o.rate),
                  ",\"closed_loop\":", o.closed_loop ? "true" : "false",
                  ",\"duration_s\":", Number(static_cast<double>(o.duration_ns) / 1e9),
                  ",\"warmup_s\":", Number(static_cast<double>(o.warmup_ns) / 1e9),
                  ",\"timeout_ms\":", o.request_timeout_ns / 1'000'000);
  if (o.scenario == Scenario::kBulk) {
    out += ",\"direction\":";
    json::AppendJsonString(out, BulkDirectionName(o.direction));
  }
  out += "}";
}

}  // namespace

std::string RenderJson(const RunReport& r) {
  std::string out = "{\"scenario\":";
  json::AppendJsonString(out, ScenarioName(r.options.scenario));
  out += ",\"parameters\":";
  AppendParameters(out, r.options);
  absl::StrAppend(&out, ",\"count\":", r.count, ",\"errors\":{");
  bool first = true;
  for (const auto& [kind, n] : r.errors.by_kind()) {
    if (!first) out += ",";
    first = false;
    json::AppendJsonString(out, kind);
    absl::StrAppend(&out, ":", n);
  }
  absl::StrAppend(&out, "},\"error_total\":", r.errors.Total(),
                  ",\"duration_s\":", Number(r.duration_s), ",\"rate\":", Number(r.rate),
                  ",\"throughput_mib_s\":", Number(r.throughput_mib_s));
  if (r.options.scenario == Scenario::kBulk) {
    out += ",\"per_connection_mib_s\":[";
    for (size_t i = 0; i < r.per_connection_mib_s.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "" : ",", Number(r.per_connection_mib_s[i]));
    }
    out += "]";
  } else {
    out += ",\"latency_ns\":";
    AppendSummary(out, r.latency);
    out += ",\"service_time_ns\":";
    AppendSummary(out, r.service_time);
    // [lower, upper, count] per non-empty bucket: enough to redraw the distribution.
    out += ",\"histogram\":[";
    first = true;
    for (const HistogramBucket& b : r.latency.NonEmptyBuckets()) {
      absl::StrAppend(&out, first ? "" : ",", "[", b.lower_bound, ",", b.upper_bound, ",", b.count,
                      "]");
      first = false;
    }
    out += "]";
  }
  out += "}";
  return out;
}

std::string RenderHumanLine(const RunReport& r) {
  std::string line =
      absl::StrCat(ScenarioName(r.options.scenario), " ", r.options.target.ToString(),
                   " size=", r.options.size, " conns=", r.options.connections);
  if (r.options.scenario == Scenario::kBulk) {
    absl::StrAppend(&line, " ", BulkDirectionName(r.options.direction),
                    absl::StrFormat(" %.1f MiB/s", r.throughput_mib_s));
  } else {
    const LatencySummary s = r.latency.Summarize();
    absl::StrAppend(
        &line,
        r.options.scenario == Scenario::kRequestResponse && !r.options.closed_loop
            ? absl::StrFormat(" open-loop %.0f/s", r.options.rate)
            : std::string(" closed-loop"),
        absl::StrFormat(" count=%u rate=%.1f/s p50=%.1fus p90=%.1fus p99=%.1fus p99.9=%.1fus "
                        "max=%.1fus",
                        s.count, r.rate, s.p50 / 1e3, s.p90 / 1e3, s.p99 / 1e3, s.p99_9 / 1e3,
                        s.max / 1e3));
  }
  absl::StrAppend(&line, " errors=", r.errors.Total());
  for (const auto& [kind, n] : r.errors.by_kind()) absl::StrAppend(&line, " ", kind, "=", n);
  return line;
}

}  // namespace weft::loadgen
