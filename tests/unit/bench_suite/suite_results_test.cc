// SuiteResults: ratios are per round, failures stay visible in every rendering, and the
// JSON validates against bench/suite/results.schema.json (checked with python3-jsonschema,
// which scripts/bootstrap installs).
#include "bench/suite/suite_results.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace weft::bench {
namespace {

SuiteRun SampleRun() {
  SuiteRun run;
  run.machine.cores = 2;
  run.machine.kernel = "6.18";
  run.machine.arch = "x86_64";
  run.machine.cpu_model = "test cpu";
  run.machine.tcp_congestion_control = "cubic";
  run.machine.date_utc = "2026-11-28T04:00:00Z";
  run.command = "weftctl bench --quick --out /tmp/x";
  run.quick = true;
  run.lab = "wb1";
  run.durations = DurationsFor(true);
  run.scenarios = *SelectScenarios({"rr_1KiB_c1", "bulk_c1"});
  run.modes = *SelectModes({"direct", "mesh"});
  return run;
}

TEST(SuiteResultsTest, RatiosAreTakenRoundByRound) {
  SuiteResults results;
  SuiteRow& direct = results.Row("rr_1KiB_c1", "direct", "latency_p50", "us");
  SuiteRow& mesh = results.Row("rr_1KiB_c1", "mesh", "latency_p50", "us");
  // Round 0 fast for both, round 1 slow for both: per-round ratios are 2 and 2, while the
  // ratio of medians would be 2 as well but the ratio of mismatched rounds would not.
  direct.by_round = {{0, 10}, {1, 100}, {2, 20}};
  mesh.by_round = {{0, 20}, {1, 200}};  // round 2 missing for mesh
  results.AddRatios({{"mesh", "direct"}}, {"latency_p50"});
  const SuiteRow* ratio = nullptr;
  for (const SuiteRow& row : results.rows()) {
    if (row.mode == "mesh/direct") ratio = &row;
  }
  ASSERT_NE(ratio, nullptr);
  ASSERT_EQ(ratio->by_round.size(), 2u);
  EXPECT_DOUBLE_EQ(ratio->by_round.at(0), 2.0);
  EXPECT_DOUBLE_EQ(ratio->by_round.at(1), 2.0);
  EXPECT_EQ(ratio->unit, "x");
}

TEST(SuiteResultsTest, AFailedRunMarksItsRowsAndTheyStayInEveryOutput) {
  SuiteResults results;
  results.Row("rr_1KiB_c1", "direct", "latency_p50", "us").by_round[0] = 50;
  results.MarkFailed("rr_1KiB_c1", "mesh", {{"latency_p50", "us"}, {"rate", "req/s"}},
                     "round 0: weft-loadgen client exited with status 1: connect refused");
  EXPECT_TRUE(results.AnyFailed());
  SuiteRun run = SampleRun();
  const std::string text = results.FormatText();
  EXPECT_NE(text.find("FAILED: round 0: weft-loadgen client exited"), std::string::npos) << text;
  const std::string md = results.FormatMarkdown(run, {});
  EXPECT_NE(md.find("## Failures"), std::string::npos);
  EXPECT_NE(md.find("rr_1KiB_c1 / mesh / rate"), std::string::npos) << md;
  const std::string json = results.FormatJson(run);
  EXPECT_NE(json.find("\"ok\": false"), std::string::npos);
  EXPECT_NE(json.find("\"failed\": true"), std::string::npos);
}

TEST(SuiteResultsTest, ShortRowsAreMarked) {
  SuiteResults results;
  results.Row("bulk_c1", "mesh", "throughput", "MiB/s").by_round = {{0, 500}, {1, 510}};
  results.MarkShortRows(5);
  EXPECT_TRUE(results.AnyFailed());
  EXPECT_EQ(results.rows()[0].errors.at(0), "only 2 of 5 rounds measured (stopped early)");
}

TEST(SuiteResultsTest, JsonValidatesAgainstTheSchema) {
  SuiteResults results;
  results.Row("rr_1KiB_c1", "direct", "latency_p50", "us").by_round = {{0, 60}};
  results.Row("rr_1KiB_c1", "mesh", "latency_p50", "us").by_round = {{0, 110}};
  results.Row("rr_1KiB_c1", "mesh", "cpu_ms_per_1k_req", "ms", "all").by_round = {{0, 80}};
  results.Row("rr_1KiB_c1", "mesh", "hop_p50", "us", "", "client app send → client ztunnel recv")
      .by_round = {{0, 12.5}};
  results.MarkFailed("bulk_c1", "mesh", {{"throughput", "MiB/s"}}, "round 0: boom");
  results.AddRatios({{"mesh", "direct"}}, {"latency_p50"});
  SuiteRun run = SampleRun();
  run.setup_errors.push_back("gnuplot not found");
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/results.json";
  std::ofstream(path) << results.FormatJson(run);
  const std::string command =
      "/usr/bin/python3 -c 'import json,sys,jsonschema; "
      "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' " +
      path + " " WEFT_SOURCE_DIR "/bench/suite/results.schema.json";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;

  // And the schema is not vacuous: a row claiming success without a sample is rejected.
  std::string bad = results.FormatJson(run);
  const std::string failed_row = "\"failed\": true, \"n\": 0";
  ASSERT_NE(bad.find(failed_row), std::string::npos);
  bad.replace(bad.find(failed_row), failed_row.size(), "\"failed\": false, \"n\": 0");
  std::ofstream(path) << bad;
  EXPECT_NE(std::system((command + " 2>/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace weft::bench
