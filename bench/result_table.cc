#include "bench/result_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weft::bench {
namespace {

std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// Short human form: 3 significant digits, no exponent for the usual ranges.
std::string Human(double v) {
  char buf[32];
  if (std::fabs(v) >= 100) {
    snprintf(buf, sizeof(buf), "%.0f", v);
  } else if (std::fabs(v) >= 10) {
    snprintf(buf, sizeof(buf), "%.1f", v);
  } else {
    snprintf(buf, sizeof(buf), "%.2f", v);
  }
  return buf;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

Summary Summarize(std::vector<double> samples) {
  Summary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  s.min = samples.front();
  s.max = samples.back();
  return s;
}

Row& ResultTable::Add(std::string metric, std::string mode, std::string unit, std::string target) {
  rows_.push_back(
      Row{std::move(metric), std::move(mode), std::move(unit), std::move(target), {}, {}});
  return rows_.back();
}

void ResultTable::MarkShortRows(size_t want, const std::string& why) {
  for (Row& row : rows_) {
    if (row.errors.empty() && row.samples.size() < want) {
      row.errors.push_back(absl::StrCat(row.samples.size(), " of ", want, " samples: ", why));
    }
  }
}

bool ResultTable::AnyFailed() const {
  return std::any_of(rows_.begin(), rows_.end(), [](const Row& r) { return r.failed(); });
}

std::string ResultTable::FormatText() const {
  std::string out = absl::StrCat(Pad("metric", 22), Pad("mode", 18), Pad("unit", 10),
                                 Pad("median", 10), Pad("min-max", 20), Pad("n", 4), "target\n");
  out += std::string(92, '-') + "\n";
  for (const Row& row : rows_) {
    std::string line = absl::StrCat(Pad(row.metric, 22), Pad(row.mode, 18), Pad(row.unit, 10));
    if (row.samples.empty()) {
      line += Pad("FAILED", 10) + Pad("-", 20);
    } else {
      Summary s = Summarize(row.samples);
      line += Pad(Human(s.median), 10) + Pad(absl::StrCat(Human(s.min), "-", Human(s.max)), 20);
    }
    line += Pad(std::to_string(row.samples.size()), 4) + row.target;
    out += line + "\n";
    for (const std::string& e : row.errors) out += absl::StrCat("    FAILED: ", e, "\n");
  }
  return out;
}

std::string ResultTable::FormatJson(const std::string& benchmark, const MachineFacts& m,
                                    const std::vector<std::pair<std::string, double>>& config,
                                    double wall_seconds, bool interrupted) const {
  std::string out = absl::StrCat("{\n  \"benchmark\": ", Quote(benchmark), ",\n");
  out += absl::StrCat("  \"schema_version\": 1,\n  \"date_utc\": ", Quote(m.date_utc), ",\n");
  out += absl::StrCat("  \"machine\": {\"cores\": ", m.cores, ", \"kernel\": ", Quote(m.kernel),
                      ", \"kernel_version\": ", Quote(m.kernel_version),
                      ", \"arch\": ", Quote(m.arch), ", \"cpu_model\": ", Quote(m.cpu_model),
                      ", \"loadavg_1m_at_start\": ", Number(m.loadavg_1m),
                      ", \"tcp_congestion_control\": ", Quote(m.tcp_congestion_control), "},\n");
  std::vector<std::string> cfg;
  for (const auto& [key, value] : config)
    cfg.push_back(absl::StrCat(Quote(key), ": ", Number(value)));
  out += absl::StrCat("  \"config\": {", absl::StrJoin(cfg, ", "), "},\n");
  out += absl::StrCat("  \"wall_seconds\": ", Number(wall_seconds), ",\n");
  out += absl::StrCat("  \"interrupted\": ", interrupted ? "true" : "false", ",\n");
  out += absl::StrCat("  \"ok\": ", AnyFailed() ? "false" : "true", ",\n  \"rows\": [\n");
  for (size_t i = 0; i < rows_.size(); ++i) {
    const Row& row = rows_[i];
    std::vector<std::string> samples, errors;
    for (double v : row.samples) samples.push_back(Number(v));
    for (const std::string& e : row.errors) errors.push_back(Quote(e));
    std::string stats = "\"median\": null, \"min\": null, \"max\": null";
    if (!row.samples.empty()) {
      Summary s = Summarize(row.samples);
      stats = absl::StrCat("\"median\": ", Number(s.median), ", \"min\": ", Number(s.min),
                           ", \"max\": ", Number(s.max));
    }
    out += absl::StrCat("    {\"metric\": ", Quote(row.metric), ", \"mode\": ", Quote(row.mode),
                        ", \"unit\": ", Quote(row.unit), ", \"target\": ", Quote(row.target),
                        ", \"failed\": ", row.failed() ? "true" : "false", ", ", stats,
                        ", \"samples\": [", absl::StrJoin(samples, ", "), "], \"errors\": [",
                        absl::StrJoin(errors, ", "), "]}", i + 1 < rows_.size() ? "," : "", "\n");
  }
  return out + "  ]\n}\n";
}

}  // namespace weft::bench
