// The suite reads weft-loadgen's --json (bench/loadgen/README.md); a change of that
// format must fail here, not silently turn into zeros in the results.
#include "bench/suite/loadgen_invocation.h"

#include <unistd.h>

#include "bench/suite/process_usage.h"
#include "gtest/gtest.h"

namespace weft::bench {
namespace {

TEST(LoadgenSummaryTest, ParsesTheClientReport) {
  const std::string json = R"({"scenario":"rr","parameters":{"target":"10.0.0.1:80","size":1024},
    "count":3000,"errors":{"timeout":2,"reset":1},"error_total":3,"duration_s":1.5,
    "rate":2000,"throughput_mib_s":3.90625,
    "latency_ns":{"count":3000,"min":1000,"p50":50000,"p90":70000,"p99":90000,
                  "p99_9":120000,"max":200000,"mean":52000},
    "service_time_ns":{"count":3000,"min":1,"p50":2,"p90":3,"p99":4,"p99_9":5,"max":6,"mean":3},
    "histogram":[[1000,1010,1]]})";
  absl::StatusOr<LoadgenSummary> s = ParseLoadgenJson(json);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->count, 3000u);
  EXPECT_DOUBLE_EQ(s->rate, 2000);
  EXPECT_DOUBLE_EQ(s->p50_us, 50);
  EXPECT_DOUBLE_EQ(s->p99_us, 90);
  EXPECT_DOUBLE_EQ(s->p999_us, 120);
  EXPECT_DOUBLE_EQ(s->service_p50_us, 0.002);
  EXPECT_EQ(s->error_total, 3u);
  EXPECT_EQ(s->errors.at("timeout"), 2u);
  EXPECT_DOUBLE_EQ(s->bytes, 3.90625 * 1.5 * 1024 * 1024);
}

TEST(LoadgenSummaryTest, NotJsonIsAnError) {
  absl::StatusOr<LoadgenSummary> s = ParseLoadgenJson("weft-loadgen: --target: required");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no JSON object"), absl::string_view::npos);
}

TEST(ProcessUsageTest, ReadsThisProcess) {
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + i;  // burn some CPU (~20 ms)
  absl::StatusOr<CpuSeconds> cpu = ReadCpuSeconds(::getpid());
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_GT(cpu->user + cpu->system, 0);
  absl::StatusOr<double> peak = ReadPeakRssBytes(::getpid());
  ASSERT_TRUE(peak.ok());
  EXPECT_GT(*peak, 1e6);
  EXPECT_FALSE(ReadCpuSeconds(999999999).ok());
}

}  // namespace
}  // namespace weft::bench
