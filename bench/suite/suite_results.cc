#include "bench/suite/suite_results.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/result_table.h"
#include "common/json/json_string.h"

namespace weft::bench {
namespace {

std::vector<double> Samples(const SuiteRow& row) {
  std::vector<double> samples;
  for (const auto& [round, value] : row.by_round) samples.push_back(value);
  return samples;
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.6g", value);
}

std::string Cell(const SuiteRow* row) {
  if (row == nullptr) return "";
  if (row->by_round.empty()) return "FAILED";
  Summary s = Summarize(Samples(*row));
  std::string cell = FormatValue(s.median);
  if (row->by_round.size() > 1) {
    absl::StrAppend(&cell, " <sub>", FormatValue(s.min), "–", FormatValue(s.max), "</sub>");
  }
  if (!row->errors.empty()) absl::StrAppend(&cell, " ⚠");
  return cell;
}

bool IsRatio(const SuiteRow& row) { return row.mode.find('/') != std::string::npos; }

}  // namespace

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string FormatValue(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude >= 100) return absl::StrFormat("%.0f", value);
  if (magnitude >= 10) return absl::StrFormat("%.1f", value);
  if (magnitude >= 1) return absl::StrFormat("%.2f", value);
  return absl::StrFormat("%.3g", value);
}

SuiteRow& SuiteResults::Row(const std::string& scenario, const std::string& mode,
                            const std::string& metric, const std::string& unit,
                            const std::string& process, const std::string& hop) {
  for (SuiteRow& row : rows_) {
    if (row.scenario == scenario && row.mode == mode && row.metric == metric &&
        row.process == process && row.hop == hop) {
      return row;
    }
  }
  rows_.push_back(SuiteRow{scenario, mode, metric, unit, process, hop, {}, {}});
  return rows_.back();
}

void SuiteResults::MarkFailed(const std::string& scenario, const std::string& mode,
                              const std::vector<std::pair<std::string, std::string>>& metrics,
                              const std::string& error) {
  for (const auto& [metric, unit] : metrics) Row(scenario, mode, metric, unit);
  for (SuiteRow& row : rows_) {
    if (row.scenario == scenario && row.mode == mode && row.hop.empty()) {
      row.errors.push_back(error);
    }
  }
}

void SuiteResults::AddRatios(const std::vector<std::pair<std::string, std::string>>& mode_pairs,
                             const std::vector<std::string>& metrics) {
  std::vector<SuiteRow> ratios;
  for (const SuiteRow& top : rows_) {
    if (IsRatio(top) || !top.process.empty() || !top.hop.empty()) continue;
    if (std::find(metrics.begin(), metrics.end(), top.metric) == metrics.end()) continue;
    for (const auto& [numerator, denominator] : mode_pairs) {
      if (top.mode != numerator) continue;
      const SuiteRow* bottom = nullptr;
      for (const SuiteRow& row : rows_) {
        if (row.scenario == top.scenario && row.metric == top.metric && row.mode == denominator &&
            row.process.empty() && row.hop.empty()) {
          bottom = &row;
        }
      }
      if (bottom == nullptr) continue;
      SuiteRow ratio{top.scenario, numerator + "/" + denominator, top.metric, "x", "", "", {}, {}};
      for (const auto& [round, value] : top.by_round) {
        auto it = bottom->by_round.find(round);
        if (it != bottom->by_round.end() && it->second > 0) ratio.by_round[round] = value / it->second;
      }
      if (!top.errors.empty() || !bottom->errors.empty()) {
        ratio.errors.push_back("a compared row has errors");
      }
      ratios.push_back(std::move(ratio));
    }
  }
  for (SuiteRow& r : ratios) rows_.push_back(std::move(r));
}

void SuiteResults::MarkShortRows(int rounds) {
  for (SuiteRow& row : rows_) {
    if (static_cast<int>(row.by_round.size()) < rounds && row.errors.empty() && !IsRatio(row) &&
        row.hop.empty()) {
      row.errors.push_back(absl::StrCat("only ", row.by_round.size(), " of ", rounds,
                                        " rounds measured (stopped early)"));
    }
  }
}

bool SuiteResults::AnyFailed() const {
  return std::any_of(rows_.begin(), rows_.end(), [](const SuiteRow& r) { return r.failed(); });
}

std::string SuiteResults::FormatJson(const SuiteRun& run) const {
  using weft::json::Quoted;
  std::string out = "{\n  \"benchmark\": \"weftctl bench\",\n  \"schema_version\": 1,\n";
  const MachineFacts& m = run.machine;
  absl::StrAppend(&out, "  \"date_utc\": ", Quoted(m.date_utc), ",\n  \"machine\": {\"cores\": ",
                  m.cores, ", \"kernel\": ", Quoted(m.kernel),
                  ", \"kernel_version\": ", Quoted(m.kernel_version), ", \"arch\": ",
                  Quoted(m.arch), ", \"cpu_model\": ", Quoted(m.cpu_model),
                  ", \"loadavg_1m_at_start\": ", JsonNumber(m.loadavg_1m),
                  ", \"tcp_congestion_control\": ", Quoted(m.tcp_congestion_control), "},\n");
  absl::StrAppend(&out, "  \"command\": ", Quoted(run.command), ",\n  \"quick\": ",
                  run.quick ? "true" : "false", ",\n  \"lab\": ", Quoted(run.lab), ",\n");
  const RunDurations& d = run.durations;
  absl::StrAppend(&out, "  \"config\": {\"repetitions\": ", d.repetitions,
                  ", \"warmup_rounds\": ", d.warmup_rounds,
                  ", \"open_loop_s\": ", JsonNumber(d.open_loop_s),
                  ", \"closed_s\": ", JsonNumber(d.closed_s),
                  ", \"warmup_s\": ", JsonNumber(d.warmup_s),
                  ", \"hop_trace_s\": ", JsonNumber(d.hop_trace_s), "},\n");
  out += "  \"scenarios\": [";
  for (size_t i = 0; i < run.scenarios.size(); ++i) {
    const ScenarioSpec& s = run.scenarios[i];
    absl::StrAppend(&out, i ? ",\n    " : "\n    ", "{\"name\": ", Quoted(s.name),
                    ", \"kind\": ", Quoted(KindName(s.kind)), ", \"size\": ", s.size,
                    ", \"connections\": ", s.connections,
                    ", \"open_loop_rate\": ", s.open_loop_rate,
                    ", \"description\": ", Quoted(s.description), "}");
  }
  out += "\n  ],\n  \"modes\": [";
  for (size_t i = 0; i < run.modes.size(); ++i) {
    const ModeSpec& mode = run.modes[i];
    std::string details;
    for (const auto& [name, text] : run.mode_details) {
      if (name == mode.name) details = text;
    }
    absl::StrAppend(&out, i ? ",\n    " : "\n    ", "{\"name\": ", Quoted(mode.name),
                    ", \"description\": ", Quoted(mode.description),
                    ", \"details\": ", Quoted(details), "}");
  }
  absl::StrAppend(&out, "\n  ],\n  \"wall_seconds\": ", JsonNumber(run.wall_seconds),
                  ",\n  \"interrupted\": ", run.interrupted ? "true" : "false",
                  ",\n  \"ok\": ",
                  !AnyFailed() && run.setup_errors.empty() && !run.interrupted ? "true" : "false",
                  ",\n  \"setup_errors\": [");
  for (size_t i = 0; i < run.setup_errors.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", Quoted(run.setup_errors[i]));
  }
  out += "],\n  \"rows\": [";
  for (size_t i = 0; i < rows_.size(); ++i) {
    const SuiteRow& row = rows_[i];
    Summary s = Summarize(Samples(row));
    const bool empty = row.by_round.empty();
    absl::StrAppend(&out, i ? ",\n    " : "\n    ", "{\"scenario\": ", Quoted(row.scenario),
                    ", \"mode\": ", Quoted(row.mode), ", \"metric\": ", Quoted(row.metric),
                    ", \"unit\": ", Quoted(row.unit), ", \"process\": ", Quoted(row.process),
                    ", \"hop\": ", Quoted(row.hop),
                    ", \"failed\": ", row.failed() ? "true" : "false",
                    ", \"n\": ", row.by_round.size(),
                    ", \"median\": ", empty ? "null" : JsonNumber(s.median),
                    ", \"min\": ", empty ? "null" : JsonNumber(s.min),
                    ", \"max\": ", empty ? "null" : JsonNumber(s.max), ", \"samples\": [");
    bool first = true;
    for (const auto& [round, value] : row.by_round) {
      absl::StrAppend(&out, first ? "" : ", ", JsonNumber(value));
      first = false;
    }
    out += "], \"errors\": [";
    for (size_t e = 0; e < row.errors.size(); ++e) {
      absl::StrAppend(&out, e ? ", " : "", Quoted(row.errors[e]));
    }
    out += "]}";
  }
  out += "\n  ]\n}\n";
  return out;
}

std::string SuiteResults::FormatMarkdown(const SuiteRun& run,
                                         const std::vector<std::string>& plots) const {
  const MachineFacts& m = run.machine;
  std::string md = "# weft bench results\n\n";
  absl::StrAppend(&md, "- **When:** ", m.date_utc, " (", FormatValue(run.wall_seconds),
                  " s wall)\n- **Machine:** ", m.cores, " cores, ", m.cpu_model, ", kernel ",
                  m.kernel, " (", m.arch, "), TCP congestion control ", m.tcp_congestion_control,
                  ", load average ", FormatValue(m.loadavg_1m), " at start\n- **Command:** `", run.command, "`\n- **Method:** ",
                  run.durations.warmup_rounds, " warm-up round(s) discarded, then ",
                  run.durations.repetitions,
                  " measured round(s); in each round every scenario runs every mode, in "
                  "forward order on even rounds and reversed on odd ones. Cells: median "
                  "<sub>min–max</sub> over the rounds; ⚠ = the row has errors (see Failures). "
                  "Ratios are taken round by round, then summarised.\n");
  if (run.quick) md += "- **--quick:** a smoke run (one short round): do not quote these.\n";
  if (run.interrupted) md += "- **Interrupted**: rows may be short.\n";
  md += "\n## Modes\n\n| mode | what the path includes |\n|---|---|\n";
  for (const ModeSpec& mode : run.modes) {
    std::string details;
    for (const auto& [name, text] : run.mode_details) {
      if (name == mode.name) details = " — " + text;
    }
    absl::StrAppend(&md, "| `", mode.name, "` | ", mode.description, details, " |\n");
  }
  for (const std::string& plot : plots) absl::StrAppend(&md, "\n![", plot, "](", plot, ")\n");

  // Columns: every mode, then every ratio mode present.
  std::vector<std::string> columns;
  for (const ModeSpec& mode : run.modes) columns.push_back(mode.name);
  for (const SuiteRow& row : rows_) {
    if (IsRatio(row) && std::find(columns.begin(), columns.end(), row.mode) == columns.end()) {
      columns.push_back(row.mode);
    }
  }
  auto find = [&](const std::string& scenario, const std::string& mode,
                  const std::string& metric, const std::string& process) -> const SuiteRow* {
    for (const SuiteRow& row : rows_) {
      if (row.scenario == scenario && row.mode == mode && row.metric == metric &&
          row.process == process && row.hop.empty()) {
        return &row;
      }
    }
    return nullptr;
  };
  auto table = [&](const std::string& title, auto keep, const std::string& process) {
    std::string header = "| scenario | metric |";
    std::string rule = "|---|---|";
    for (const std::string& c : columns) {
      absl::StrAppend(&header, " ", c, " |");
      rule += "---|";
    }
    std::string body;
    std::set<std::pair<std::string, std::string>> seen;
    for (const SuiteRow& row : rows_) {
      if (IsRatio(row) || row.process != process || !row.hop.empty() || !keep(row)) continue;
      if (!seen.insert({row.scenario, row.metric}).second) continue;
      absl::StrAppend(&body, "| ", row.scenario, " | ", row.metric, " (", row.unit, ") |");
      for (const std::string& c : columns) {
        absl::StrAppend(&body, " ", Cell(find(row.scenario, c, row.metric, process)), " |");
      }
      body += "\n";
    }
    if (!body.empty()) absl::StrAppend(&md, "\n## ", title, "\n\n", header, "\n", rule, "\n", body);
  };
  table("Latency, rate and throughput", [](const SuiteRow& r) { return r.metric.rfind("cpu", 0) != 0 && r.metric != "peak_rss"; }, "");
  table("CPU of the mesh processes (all of them, user + system)",
        [](const SuiteRow& r) { return r.metric.rfind("cpu", 0) == 0; }, "all");

  // Peak RSS: per process, the largest median over scenarios.
  std::map<std::pair<std::string, std::string>, double> peak;  // (process, mode) → MB
  std::set<std::string> processes;
  for (const SuiteRow& row : rows_) {
    if (row.metric != "peak_rss" || row.by_round.empty()) continue;
    double median = Summarize(Samples(row)).median;
    double& slot = peak[{row.process, row.mode}];
    slot = std::max(slot, median);
    processes.insert(row.process);
  }
  if (!processes.empty()) {
    md += "\n## Peak RSS of the mesh processes (MB, largest of any scenario)\n\n| process |";
    std::string rule = "|---|";
    for (const ModeSpec& mode : run.modes) {
      absl::StrAppend(&md, " ", mode.name, " |");
      rule += "---|";
    }
    absl::StrAppend(&md, "\n", rule, "\n");
    for (const std::string& p : processes) {
      absl::StrAppend(&md, "| ", p, " |");
      for (const ModeSpec& mode : run.modes) {
        auto it = peak.find({p, mode.name});
        absl::StrAppend(&md, " ", it == peak.end() ? "" : FormatValue(it->second), " |");
      }
      md += "\n";
    }
  }

  // Per hop, one table per mode.
  for (const ModeSpec& mode : run.modes) {
    std::vector<std::string> hops;
    for (const SuiteRow& row : rows_) {
      if (row.mode == mode.name && !row.hop.empty() &&
          std::find(hops.begin(), hops.end(), row.hop) == hops.end()) {
        hops.push_back(row.hop);
      }
    }
    if (hops.empty()) continue;
    std::string scenario;
    for (const SuiteRow& row : rows_) {
      if (row.mode == mode.name && !row.hop.empty()) scenario = row.scenario;
    }
    absl::StrAppend(&md, "\n## Per hop: `", mode.name, "`, ", scenario,
                    " (µs, one traced run)\n\n| hop | p50 | p90 | p99 | p99.9 | round trips |\n"
                    "|---|---|---|---|---|---|\n");
    for (const std::string& hop : hops) {
      absl::StrAppend(&md, "| ", hop, " |");
      for (const char* metric : {"hop_p50", "hop_p90", "hop_p99", "hop_p999", "hop_count"}) {
        const SuiteRow* found = nullptr;
        for (const SuiteRow& row : rows_) {
          if (row.mode == mode.name && row.hop == hop && row.metric == metric) found = &row;
        }
        absl::StrAppend(&md, " ", found && !found->by_round.empty()
                                      ? FormatValue(found->by_round.begin()->second)
                                      : "", " |");
      }
      md += "\n";
    }
    std::string srtt;
    for (const SuiteRow& row : rows_) {
      if (row.mode != mode.name || row.metric != "srtt_p50" || row.by_round.empty()) continue;
      const SuiteRow* p99 = nullptr;
      for (const SuiteRow& other : rows_) {
        if (other.mode == mode.name && other.metric == "srtt_p99" &&
            other.process == row.process) {
          p99 = &other;
        }
      }
      absl::StrAppend(&srtt, " ", row.process, " p50 ", FormatValue(row.by_round.begin()->second),
                      p99 && !p99->by_round.empty()
                          ? " / p99 " + FormatValue(p99->by_round.begin()->second)
                          : "",
                      ";");
    }
    if (!srtt.empty()) {
      absl::StrAppend(&md, "\nSmoothed RTT of each participant's sockets (µs, kernel srtt):", srtt,
                      "\n");
    }
  }

  std::string failures;
  for (const std::string& e : run.setup_errors) absl::StrAppend(&failures, "- setup: ", e, "\n");
  for (const SuiteRow& row : rows_) {
    if (!row.failed() || IsRatio(row)) continue;
    absl::StrAppend(&failures, "- ", row.scenario, " / ", row.mode, " / ", row.metric,
                    row.process.empty() ? "" : " / " + row.process,
                    row.hop.empty() ? "" : " / " + row.hop, ": ",
                    row.errors.empty() ? "no sample" : absl::StrJoin(row.errors, "; "), "\n");
  }
  if (!failures.empty()) absl::StrAppend(&md, "\n## Failures\n\n", failures);
  return md;
}

std::string SuiteResults::FormatText() const {
  std::string out = absl::StrFormat("%-16s %-22s %-16s %-10s %10s  %-22s %2s\n", "scenario",
                                    "mode", "metric", "unit", "median", "min-max", "n");
  for (const SuiteRow& row : rows_) {
    if (!row.process.empty() && row.process != "all") continue;  // details are in the files
    if (!row.hop.empty()) continue;
    Summary s = Summarize(Samples(row));
    std::string mode = row.process.empty() ? row.mode : row.mode + " (" + row.process + ")";
    absl::StrAppend(&out, absl::StrFormat("%-16s %-22s %-16s %-10s %10s  %-22s %2d\n",
                                          row.scenario, mode, row.metric, row.unit,
                                          row.by_round.empty() ? "-" : FormatValue(s.median),
                                          row.by_round.empty()
                                              ? "-"
                                              : FormatValue(s.min) + "-" + FormatValue(s.max),
                                          static_cast<int>(row.by_round.size())));
    for (const std::string& e : row.errors) absl::StrAppend(&out, "    FAILED: ", e, "\n");
  }
  return out;
}

}  // namespace weft::bench
