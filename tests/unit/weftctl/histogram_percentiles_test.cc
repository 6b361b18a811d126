#include "agent/weftctl/histogram_percentiles.h"

#include <array>
#include <cstdint>

#include "gtest/gtest.h"

namespace weft::weftctl {
namespace {

using Buckets = std::array<uint64_t, 32>;

TEST(HistogramPercentiles, EmptyHistogramHasNoPercentile) {
  Buckets b = {};
  EXPECT_FALSE(EstimatePercentile(b, 0.5).has_value());
  EXPECT_EQ(CompactBuckets(b, 1), "-");
}

TEST(HistogramPercentiles, SingleBucketInterpolatesInsideItsRange) {
  Buckets b = {};
  b[10] = 100;  // samples in [1024, 2048)
  EXPECT_DOUBLE_EQ(*EstimatePercentile(b, 0.5), 1536);
  EXPECT_DOUBLE_EQ(*EstimatePercentile(b, 0.99), 1024 + 0.99 * 1024);
  EXPECT_DOUBLE_EQ(*EstimatePercentile(b, 0.0), 1024);
  EXPECT_DOUBLE_EQ(*EstimatePercentile(b, 1.0), 2048);
}

TEST(HistogramPercentiles, PercentilesLandInTheBucketHoldingTheirRank) {
  Buckets b = {};
  b[4] = 90;  // [16, 32)
  b[20] = 9;  // [1Mi, 2Mi)
  b[25] = 1;  // [32Mi, 64Mi)
  double p50 = *EstimatePercentile(b, 0.5);
  EXPECT_GE(p50, 16);
  EXPECT_LT(p50, 32);
  double p90 = *EstimatePercentile(b, 0.9);
  EXPECT_DOUBLE_EQ(p90, 32);  // exactly the upper edge of the first bucket
  double p95 = *EstimatePercentile(b, 0.95);
  EXPECT_GT(p95, 1 << 20);
  EXPECT_LT(p95, 2 << 20);
  // The 99th of 100 samples is the last one of the middle bucket: its upper edge.
  EXPECT_DOUBLE_EQ(*EstimatePercentile(b, 0.99), 2 << 20);
  double p999 = *EstimatePercentile(b, 0.999);
  EXPECT_GE(p999, 32 << 20);
  EXPECT_LT(p999, 64 << 20);
}

TEST(HistogramPercentiles, PercentilesAreMonotonic) {
  Buckets b = {};
  b[0] = 3;
  b[7] = 40;
  b[8] = 11;
  b[31] = 2;
  double previous = 0;
  for (double q = 0; q <= 1.0; q += 0.01) {
    double v = *EstimatePercentile(b, q);
    EXPECT_GE(v, previous) << "q=" << q;
    previous = v;
  }
}

TEST(HistogramPercentiles, BucketZeroHoldsZeroAndOne) {
  Buckets b = {};
  b[0] = 4;
  BucketRange r = Log2BucketRange(0);
  EXPECT_EQ(r.lower, 0);
  EXPECT_EQ(r.upper, 2);
  EXPECT_DOUBLE_EQ(*EstimatePercentile(b, 0.5), 1);
}

TEST(HistogramPercentiles, FormatsDurationsWithUnits) {
  EXPECT_EQ(FormatNanoseconds(512), "512ns");
  EXPECT_EQ(FormatNanoseconds(1536), "1.5us");
  EXPECT_EQ(FormatNanoseconds(32768), "33us");
  EXPECT_EQ(FormatNanoseconds(2.5e6), "2.5ms");
  EXPECT_EQ(FormatNanoseconds(3e9), "3.0s");
}

TEST(HistogramPercentiles, CompactViewListsOnlyNonEmptyBuckets) {
  Buckets b = {};
  b[10] = 3;
  b[12] = 7;
  EXPECT_EQ(CompactBuckets(b, 1), "1.0us-2.0us:3 4.1us-8.2us:7");
  // A microsecond histogram is shown in the same units after scaling.
  EXPECT_EQ(CompactBuckets(b, 1000), "1.0ms-2.0ms:3 4.1ms-8.2ms:7");
}

}  // namespace
}  // namespace weft::weftctl
