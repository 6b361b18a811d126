// Rows of a benchmark run: one row per (metric, mode), one sample per repetition.
// A repetition that errors adds an error to its row instead of a sample, so a row is
// never silently short: it prints and serialises as FAILED with the reasons.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "bench/machine_facts.h"

namespace weft::bench {

struct Row {
  std::string metric;  // "connect4_cost"
  std::string mode;    // "captured"
  std::string unit;    // "ns/call"
  std::string target;  // "<= 250" or empty; informational, never asserted
  std::vector<double> samples;
  std::vector<std::string> errors;

  bool failed() const { return !errors.empty() || samples.empty(); }
};

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
};

// Median (mean of the middle two for an even count), min and max; zeros when empty.
Summary Summarize(std::vector<double> samples);

class ResultTable {
 public:
  // Rows print in the order they were added. The reference stays valid.
  Row& Add(std::string metric, std::string mode, std::string unit, std::string target = "");
  // Adds an error to every row that has fewer than `want` samples and no error yet.
  void MarkShortRows(size_t want, const std::string& why);
  bool AnyFailed() const;
  const std::deque<Row>& rows() const { return rows_; }

  // Fixed-width table for a terminal: metric, mode, median, min–max, n, target.
  std::string FormatText() const;
  // `config`: numbers describing the run (repetitions, counts, durations).
  std::string FormatJson(const std::string& benchmark, const MachineFacts& machine,
                         const std::vector<std::pair<std::string, double>>& config,
                         double wall_seconds, bool interrupted) const;

 private:
  std::deque<Row> rows_;
};

}  // namespace weft::bench
