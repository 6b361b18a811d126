// The numbers of one `weftctl bench` invocation: one row per (scenario, mode, metric
// [, process or hop]) with one sample per measured round, errors kept on the row that
// had them (a failed run marks its row, it never disappears), ratio rows computed round
// by round, and the three renderings: results.json (bench/suite/results.schema.json),
// results.md and the terminal table.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "bench/machine_facts.h"
#include "bench/suite/suite_catalog.h"

namespace weft::bench {

struct SuiteRow {
  std::string scenario;
  std::string mode;  // a mode, or "a/b" for a ratio row
  std::string metric;
  std::string unit;
  std::string process;  // resource rows: "ztunnel node-a", "all"
  std::string hop;      // per-hop rows: "client app send → client ztunnel recv"
  std::map<int, double> by_round;  // measured round → sample
  std::vector<std::string> errors;

  bool failed() const { return !errors.empty() || by_round.empty(); }
};

struct SuiteRun {
  MachineFacts machine;
  std::string command;
  bool quick = false;
  RunDurations durations;
  std::vector<ScenarioSpec> scenarios;
  std::vector<ModeSpec> modes;
  std::vector<std::pair<std::string, std::string>> mode_details;  // mode → extra facts
  std::string lab;
  double wall_seconds = 0;
  bool interrupted = false;
  std::vector<std::string> setup_errors;  // anything that stopped part of the run
};

class SuiteResults {
 public:
  // Finds or adds the row; rows keep the order in which they were first added.
  SuiteRow& Row(const std::string& scenario, const std::string& mode, const std::string& metric,
                const std::string& unit, const std::string& process = "",
                const std::string& hop = "");
  const std::deque<SuiteRow>& rows() const { return rows_; }
  // Adds `error` to every row of (scenario, mode), and creates `metrics` rows for it
  // when none exists yet, so a run that never produced a number still shows.
  void MarkFailed(const std::string& scenario, const std::string& mode,
                  const std::vector<std::pair<std::string, std::string>>& metrics,
                  const std::string& error);
  // numerator/denominator rows for `metrics`, from rounds where both have a sample.
  void AddRatios(const std::vector<std::pair<std::string, std::string>>& mode_pairs,
                 const std::vector<std::string>& metrics);
  // Rows with fewer than `rounds` samples and no error get one.
  void MarkShortRows(int rounds);
  bool AnyFailed() const;

  std::string FormatJson(const SuiteRun& run) const;
  std::string FormatMarkdown(const SuiteRun& run, const std::vector<std::string>& plots) const;
  std::string FormatText() const;

 private:
  std::deque<SuiteRow> rows_;
};

// Writes `text` to `path` (replacing it); the error names the path.
absl::Status WriteTextFile(const std::string& path, const std::string& text);

// "1.23" style: 3 significant digits, at least the integer part.
std::string FormatValue(double value);

}  // namespace weft::bench
