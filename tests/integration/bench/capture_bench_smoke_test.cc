// Runs `capture_bench --quick` for real (root: netns, cgroups, BPF) and checks what a
// reader of its JSON relies on: it parses, carries the machine facts, and has every
// (metric, mode) row with numbers. A failed repetition is allowed (exit status 1, the
// row lists why): that is a finding about the data path, not a broken harness; a row
// that is short without saying why, or has no number at all, is.
#include <set>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "tests/integration/bench/run_report_check.h"

namespace weft::bench {
namespace {

const std::set<std::pair<std::string, std::string>> kRows = {
    {"connect4_cost", "captured"},
    {"connect4_cost", "excluded"},
    {"connect4_cost", "loopback"},
    {"connect4_cost", "unenrolled"},
    {"conn_rate", "captured"},
    {"conn_rate", "hooks_pass"},
    {"conn_rate", "no_weft"},
    {"conn_rate_ratio", "captured/no_weft"},
    {"conn_rate_ratio", "captured/hooks"},
    {"loopback_bulk", "sc_on"},
    {"loopback_bulk", "sc_off"},
    {"rr_1B_latency_p50", "sc_on"},
    {"rr_1B_latency_p50", "sc_off"},
    {"rr_1B_latency_p99", "sc_on"},
    {"rr_1B_latency_p99", "sc_off"},
    {"loopback_bulk_ratio", "on/off"},
    {"rr_1B_p50_ratio", "on/off"},
};

TEST(CaptureBenchSmokeTest, QuickRunWritesEveryRowMeasured) {
  ExpectQuickRunReportsEveryRow(CAPTURE_BENCH_BINARY, "capture", "connect4_cost", kRows);
}

}  // namespace
}  // namespace weft::bench
