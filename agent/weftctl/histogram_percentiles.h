// Percentile estimates and a compact text view for the log2 histograms the capture
// programs keep per workload (capture_stats.connect_latency_ns and .srtt_us).
//
// The kernel only knows floor(log2(sample)), so a percentile is located in its bucket
// and placed by linear interpolation inside [2^i, 2^(i+1)): the estimate is never off
// by more than a factor of two, which is what an operator comparing p50 to p99 needs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace weft::weftctl {

// Bucket i of a log2 histogram counts samples v with floor(log2(v)) == i; bucket 0 also
// takes v == 0 and the last bucket takes everything larger.
struct BucketRange {
  double lower = 0;  // inclusive
  double upper = 0;  // exclusive; for the last bucket, twice its lower bound
};
BucketRange Log2BucketRange(size_t index);

// Sum of all buckets.
uint64_t HistogramTotal(std::span<const uint64_t> buckets);

// The value below which a fraction `quantile` (0..1) of the samples lie, in the
// histogram's unit. nullopt for an empty histogram.
std::optional<double> EstimatePercentile(std::span<const uint64_t> buckets, double quantile);

// "512ns", "3.2us", "12ms", "1.5s": `nanoseconds` with three significant digits at most.
std::string FormatNanoseconds(double nanoseconds);

// The non-empty buckets as "lo-hi:count" separated by spaces ("1-2ms:4 2-4ms:11"), with
// bucket bounds scaled to nanoseconds by `unit_ns` (1 for ns histograms, 1000 for us).
// "-" for an empty histogram.
std::string CompactBuckets(std::span<const uint64_t> buckets, double unit_ns);

}  // namespace weft::weftctl
