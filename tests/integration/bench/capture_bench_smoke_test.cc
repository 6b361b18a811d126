// Runs `capture_bench --quick` for real (root: netns, cgroups, BPF) and checks what a
// reader of its JSON relies on: it parses, carries the machine facts, and has every
// (metric, mode) row with numbers. A failed repetition is allowed (exit status 1, the
// row lists why): that is a finding about the data path, not a broken harness; a row
// that is short without saying why, or has no number at all, is.
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
  char dir[] = "/tmp/capture-bench-smoke-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string out = std::string(dir) + "/capture.json";
  const std::string cmd =
      std::string(CAPTURE_BENCH_BINARY) + " --quick --out " + out + " > " + dir + "/stdout 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream stdout_file(std::string(dir) + "/stdout");
  std::stringstream printed;
  printed << stdout_file.rdbuf();
  ASSERT_TRUE(WIFEXITED(status)) << printed.str();
  // 0: every repetition measured; 1: some failed and say so. 2/130: setup, usage, signal.
  EXPECT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1) << printed.str();
  EXPECT_NE(printed.str().find("connect4_cost"), std::string::npos) << "no table printed";

  std::ifstream file(out);
  ASSERT_TRUE(file.good()) << "no JSON at " << out;
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
    EXPECT_GT(samples, 0) << key.first << " " << key.second << " produced no number";
    EXPECT_EQ(row.at("median").kind_case(), Value::kNumberValue) << key.first << " " << key.second;
    // Never silently short: each missing sample is explained by an error.
    EXPECT_GE(samples + errors, static_cast<int>(repetitions)) << key.first << " " << key.second;
    EXPECT_EQ(row.at("failed").bool_value(), errors > 0) << key.first << " " << key.second;
    all_ok = all_ok && errors == 0;
  }
  EXPECT_EQ(seen, kRows);
  EXPECT_EQ(f.at("ok").bool_value(), all_ok);
  std::system((std::string("rm -rf ") + dir).c_str());
}

}  // namespace
}  // namespace weft::bench
