// Runs `mesh_bench --quick` for real (root: it brings up its own two-node lab with
// ztunnels) and checks what a reader of its JSON relies on: it parses, carries the machine
// facts and the date, and has every (metric, mode) row with numbers. A failed repetition
// is allowed (exit status 1, the row lists why): that is a finding about the mesh, not a
// broken harness; a row that is short without saying why, or has no number at all, is.
// No timing assertions.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace weft::bench {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

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
  char dir[] = "/tmp/mesh-bench-smoke-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string out = std::string(dir) + "/mesh.json";
  const std::string cmd =
      std::string(MESH_BENCH_BINARY) + " --quick --out " + out + " > " + dir + "/stdout 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream stdout_file(std::string(dir) + "/stdout");
  std::stringstream printed;
  printed << stdout_file.rdbuf();
  ASSERT_TRUE(WIFEXITED(status)) << printed.str();
  // 0: every repetition measured; 1: some failed and say so. 2/130: setup, usage, signal.
  EXPECT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1) << printed.str();
  EXPECT_NE(printed.str().find("bulk_throughput"), std::string::npos) << "no table printed";

  std::ifstream file(out);
  ASSERT_TRUE(file.good()) << "no JSON at " << out << "\n" << printed.str();
  std::stringstream json;
  json << file.rdbuf();
  Struct doc;
  auto parsed = google::protobuf::util::JsonStringToMessage(json.str(), &doc);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString() << "\n" << json.str();

  const auto& f = doc.fields();
  ASSERT_TRUE(f.contains("machine") && f.contains("rows") && f.contains("date_utc"));
  const auto& machine = f.at("machine").struct_value().fields();
  EXPECT_GT(machine.at("cores").number_value(), 0);
  EXPECT_FALSE(machine.at("kernel").string_value().empty());
  EXPECT_FALSE(machine.at("cpu_model").string_value().empty());
  EXPECT_FALSE(f.at("date_utc").string_value().empty());
  const double repetitions =
      f.at("config").struct_value().fields().at("repetitions").number_value();
  EXPECT_GE(repetitions, 5);

  std::set<std::pair<std::string, std::string>> seen;
  bool all_ok = true;
  for (const Value& v : f.at("rows").list_value().values()) {
    const auto& row = v.struct_value().fields();
    std::pair<std::string, std::string> key = {row.at("metric").string_value(),
                                               row.at("mode").string_value()};
    EXPECT_TRUE(seen.insert(key).second) << "duplicate row " << key.first << " " << key.second;
    const int samples = row.at("samples").list_value().values_size();
    const int errors = row.at("errors").list_value().values_size();
    EXPECT_GT(samples, 0) << key.first << " " << key.second << " produced no number\n"
                          << printed.str();
    EXPECT_EQ(row.at("median").kind_case(), Value::kNumberValue) << key.first << " " << key.second;
    // Never silently short: each missing sample is explained by an error.
    const int want = kOneSampleMetrics.contains(key.first) ? 1 : static_cast<int>(repetitions);
    EXPECT_GE(samples + errors, want) << key.first << " " << key.second;
    EXPECT_EQ(row.at("failed").bool_value(), errors > 0 || samples == 0)
        << key.first << " " << key.second;
    all_ok = all_ok && errors == 0 && samples > 0;
  }
  EXPECT_EQ(seen, kRows);
  EXPECT_EQ(f.at("ok").bool_value(), all_ok);
  std::system((std::string("rm -rf ") + dir).c_str());
}

}  // namespace
}  // namespace weft::bench
