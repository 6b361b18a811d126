// The check both older bench smoke tests make of a bench/run_report JSON file: run the
// benchmark with --quick, then everything a reader relies on — it parses, carries the
// machine facts and the date, and has exactly the expected (metric, mode) rows, each
// with a number, never short without an error saying why. A failed repetition is
// allowed (exit status 1, the row lists why): that is a finding, not a broken harness.
#pragma once

#include <set>
#include <string>
#include <utility>

namespace weft::bench {

// `table_marker`: a metric name the printed table must contain. `one_sample_metrics`:
// rows measured once per run rather than once per repetition.
void ExpectQuickRunReportsEveryRow(const std::string& binary, const std::string& name,
                                   const std::string& table_marker,
                                   const std::set<std::pair<std::string, std::string>>& rows,
                                   const std::set<std::string>& one_sample_metrics = {});

}  // namespace weft::bench
