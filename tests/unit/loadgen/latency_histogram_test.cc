// The histogram against distributions whose percentiles are known exactly or in closed
// form, plus the edges (empty, single value, clamping) and Merge.
#include "bench/loadgen/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace weft::loadgen {
namespace {

// The q-th percentile of a sorted sample under the documented rank rule.
int64_t ExactPercentile(const std::vector<int64_t>& sorted, double q) {
  const double exact_rank = q / 100.0 * static_cast<double>(sorted.size());
  size_t rank = static_cast<size_t>(std::ceil(exact_rank - 1e-9 * exact_rank));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

TEST(LatencyHistogramTest, UniformPercentilesWithinBucketErrorOfExact) {
  LatencyHistogram h;
  std::vector<int64_t> values;
  for (int64_t v = 1; v <= 1'000'000; ++v) {
    h.Record(v);
    values.push_back(v);
  }
  for (double q = 0.1; q <= 100.0; q += 0.1) {
    const int64_t exact = ExactPercentile(values, q);
    const int64_t got = h.Percentile(q);
    ASSERT_GE(got, exact) << "q=" << q;  // the rule reports a bucket's upper bound
    ASSERT_LE(static_cast<double>(got - exact), 0.015 * static_cast<double>(exact)) << "q=" << q;
  }
  EXPECT_EQ(h.Percentile(50), 501'759);  // 500000 lies in [499712, 501759] (width 2048)
  EXPECT_EQ(h.Count(), 1'000'000u);
  EXPECT_EQ(h.Min(), 1);
  EXPECT_EQ(h.Max(), 1'000'000);
  EXPECT_NEAR(h.Mean(), 500'000.5, 0.01);
  EXPECT_EQ(h.Percentile(100), 1'000'000);
}

TEST(LatencyHistogramTest, ExponentialMedianIsLn2TimesMean) {
  constexpr double kMean = 100'000;  // 100 us
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> exponential(1.0 / kMean);
  LatencyHistogram h;
  for (int i = 0; i < 200'000; ++i) h.Record(static_cast<int64_t>(std::llround(exponential(rng))));
  EXPECT_NEAR(static_cast<double>(h.Percentile(50)), std::log(2.0) * kMean, 0.02 * kMean);
  EXPECT_NEAR(static_cast<double>(h.Percentile(99)), std::log(100.0) * kMean,
              0.03 * std::log(100.0) * kMean);
  EXPECT_NEAR(h.Mean(), kMean, 0.01 * kMean);
}

TEST(LatencyHistogramTest, BimodalP99LandsInTheUpperMode) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> fast(90'000, 110'000);         // ~100 us
  std::uniform_int_distribution<int64_t> slow(45'000'000, 55'000'000);  // ~50 ms
  LatencyHistogram h;
  for (int i = 0; i < 100'000; ++i) h.Record(i % 50 == 0 ? slow(rng) : fast(rng));  // 2% slow
  EXPECT_LE(h.Percentile(50), 110'000 * 1.01);
  EXPECT_LE(h.Percentile(97.9), 110'000 * 1.01);
  EXPECT_GE(h.Percentile(99), 45'000'000);
  EXPECT_LE(h.Percentile(99), 55'000'000);
}

TEST(LatencyHistogramTest, SingleValueIsEveryPercentile) {
  LatencyHistogram h;
  h.Record(12'345);
  for (double q : {0.0, 1.0, 50.0, 99.9, 100.0}) EXPECT_EQ(h.Percentile(q), 12'345) << q;
  EXPECT_EQ(h.Min(), 12'345);
  EXPECT_EQ(h.Max(), 12'345);
  EXPECT_DOUBLE_EQ(h.Mean(), 12'345.0);
  ASSERT_EQ(h.NonEmptyBuckets().size(), 1u);
  EXPECT_LE(h.NonEmptyBuckets()[0].lower_bound, 12'345);
  EXPECT_GE(h.NonEmptyBuckets()[0].upper_bound, 12'345);
}

TEST(LatencyHistogramTest, EmptyHistogramAnswersZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0);
  EXPECT_EQ(h.Percentile(99.9), 0);
  EXPECT_EQ(h.Min(), 0);
  EXPECT_EQ(h.Max(), 0);
  EXPECT_EQ(h.Mean(), 0.0);
  EXPECT_TRUE(h.NonEmptyBuckets().empty());
  EXPECT_EQ(h.Summarize().p99_9, 0);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingTheUnion) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> lognormal(11.0, 1.5);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const int64_t v = static_cast<int64_t>(lognormal(rng));
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  LatencyHistogram merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_EQ(merged.Count(), all.Count());
  EXPECT_EQ(merged.Min(), all.Min());
  EXPECT_EQ(merged.Max(), all.Max());
  EXPECT_NEAR(merged.Mean(), all.Mean(), 1e-6 * all.Mean());
  for (double q : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.Percentile(q), all.Percentile(q)) << q;
  }
  const auto merged_buckets = merged.NonEmptyBuckets();
  const auto all_buckets = all.NonEmptyBuckets();
  ASSERT_EQ(merged_buckets.size(), all_buckets.size());
  for (size_t i = 0; i < all_buckets.size(); ++i) {
    EXPECT_EQ(merged_buckets[i].upper_bound, all_buckets[i].upper_bound);
    EXPECT_EQ(merged_buckets[i].count, all_buckets[i].count);
  }
}

TEST(LatencyHistogramTest, ExtremeValuesClampToTheRange) {
  LatencyHistogram h;
  h.Record(0);
  h.Record(-5);
  h.Record(1'000'000'000'000);  // 1000 s
  h.Record(500);
  EXPECT_EQ(h.Count(), 4u);
  EXPECT_EQ(h.clamped_count(), 3u);
  EXPECT_EQ(h.Min(), LatencyHistogram::kMinValue);
  EXPECT_EQ(h.Max(), LatencyHistogram::kMaxValue);
  EXPECT_EQ(h.Percentile(100), LatencyHistogram::kMaxValue);
  EXPECT_EQ(h.Percentile(25), 1);
}

TEST(LatencyHistogramTest, BucketsTileTheRangeWithBoundedWidth) {
  int64_t expected_lower = 0;
  for (int i = 0; i < LatencyHistogram::BucketCount(); ++i) {
    const int64_t lower = LatencyHistogram::BucketLowerBound(i);
    const int64_t upper = LatencyHistogram::BucketUpperBound(i);
    ASSERT_EQ(lower, expected_lower) << "gap or overlap before bucket " << i;
    ASSERT_EQ(LatencyHistogram::BucketIndex(lower), i);
    ASSERT_EQ(LatencyHistogram::BucketIndex(upper), i);
    // The documented error bound: width <= 1/128 of the smallest value in the bucket.
    if (lower >= LatencyHistogram::kSubBucketCount) {
      ASSERT_LE((upper - lower + 1) * 128, lower);
    }
    expected_lower = upper + 1;
  }
  EXPECT_GT(expected_lower, LatencyHistogram::kMaxValue);
}

}  // namespace
}  // namespace weft::loadgen
