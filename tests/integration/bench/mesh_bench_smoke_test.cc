// Runs `mesh_bench --quick` for real (root: it brings up its own two-node lab with
// ztunnels) and checks what a reader of its JSON relies on: it parses, carries the machine
// facts and the date, and has every (metric, mode) row with numbers. A failed repetition
// is allowed (exit status 1, the row lists why): that is a finding about the mesh, not a
// broken harness; a row that is short without saying why, or has no number at all, is.
// No timing assertions.
#include <set>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "tests/integration/bench/run_report_check.h"

namespace weft::bench {
namespace {

const std::set<std::pair<std::string, std::string>> kRows = {
    {"bulk_throughput", "direct"},
    {"bulk_throughput", "mesh"},
    {"bulk_ratio", "mesh/direct"},
    {"rr_1KiB_latency_p50", "direct"},
    {"rr_1KiB_latency_p50", "mesh"},
    {"rr_1KiB_latency_p99", "direct"},
    {"rr_1KiB_latency_p99", "mesh"},
    {"rr_1KiB_rate", "direct"},
    {"rr_1KiB_rate", "mesh"},
    {"rr_1KiB_p50_ratio", "mesh/direct"},
    {"mesh_conn_open", "mesh"},
    {"zt_rss_idle_at_up", "node-a"},
    {"zt_rss_idle_at_up", "node-b"},
    {"zt_rss_idle", "node-a"},
    {"zt_rss_idle", "node-b"},
    {"zt_rss_with_conns", "node-a"},
    {"zt_rss_with_conns", "node-b"},
    {"zt_rss_per_conn", "node-a"},
    {"zt_rss_per_conn", "node-b"},
    {"zt_rss_after_close", "node-a"},
    {"zt_rss_after_close", "node-b"},
    {"zt_rss_after_traffic", "node-a"},
    {"zt_rss_after_traffic", "node-b"},
    {"zt_anon_idle_at_up", "node-a"},
    {"zt_anon_idle_at_up", "node-b"},
    {"zt_anon_after_traffic", "node-a"},
    {"zt_anon_after_traffic", "node-b"},
};

// Memory snapshots of a moment (right after `lab up`, after all traffic): one sample each.
const std::set<std::string> kOneSampleMetrics = {"zt_rss_idle_at_up", "zt_anon_idle_at_up",
                                                 "zt_rss_after_traffic", "zt_anon_after_traffic"};

TEST(MeshBenchSmokeTest, QuickRunWritesEveryRowMeasured) {
  ExpectQuickRunReportsEveryRow(MESH_BENCH_BINARY, "mesh", "bulk_throughput", kRows,
                                kOneSampleMetrics);
}

}  // namespace
}  // namespace weft::bench
