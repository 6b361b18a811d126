// A log-linear latency histogram over nanoseconds (HdrHistogram's layout, fixed range):
// values below 128 ns get one bucket each; every power-of-two range [2^k, 2^(k+1)) above
// is split into 128 linear sub-buckets of width 2^(k-7). A bucket's width is therefore at
// most 1/128 of any value in it, so every reported value is within 0.79% (relative) of a
// value that really was recorded at that rank.
//
// Range: 1 ns .. 100 s. Values outside are clamped to the nearest end (and counted in
// clamped_count()), because a load generator must never drop a sample: a 200 s stall still
// shows up, as 100 s.
//
// Record() touches one counter and four scalars; the bucket array is allocated once, in
// the constructor, so recording never allocates.
#pragma once

#include <cstdint>
#include <vector>

namespace weft::loadgen {

struct LatencySummary {
  uint64_t count = 0;
  int64_t min = 0;
  int64_t p50 = 0;
  int64_t p90 = 0;
  int64_t p99 = 0;
  int64_t p99_9 = 0;
  int64_t max = 0;
  double mean = 0;
};

// One non-empty bucket for plotting: `count` values v with lower_bound <= v <= upper_bound.
struct HistogramBucket {
  int64_t lower_bound = 0;
  int64_t upper_bound = 0;
  uint64_t count = 0;
};

class LatencyHistogram {
 public:
  static constexpr int64_t kMinValue = 1;                // 1 ns
  static constexpr int64_t kMaxValue = 100'000'000'000;  // 100 s
  static constexpr int kSubBucketBits = 7;               // 128 linear sub-buckets
  static constexpr int64_t kSubBucketCount = int64_t{1} << kSubBucketBits;

  LatencyHistogram();

  void Record(int64_t value_ns);
  // Adds every sample of `other`, as if each had been recorded here.
  void Merge(const LatencyHistogram& other);
  void Reset();

  // The percentile rule: with n samples, rank = ceil(q/100 * n) (at least 1); the result
  // is the upper bound of the first bucket whose cumulative count reaches rank, clamped
  // into [Min(), Max()]. So the result is >= the true q-th percentile sample and exceeds
  // it by less than that bucket's width (<= 1/128 of it). q is clamped into [0, 100];
  // an empty histogram answers 0.
  int64_t Percentile(double q) const;

  uint64_t Count() const { return count_; }
  // Smallest / largest recorded value (after clamping); 0 when empty.
  int64_t Min() const { return count_ == 0 ? 0 : min_; }
  int64_t Max() const { return count_ == 0 ? 0 : max_; }
  double Mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }
  uint64_t clamped_count() const { return clamped_count_; }

  // p50, p90, p99, p99.9 plus min, max, mean and count.
  LatencySummary Summarize() const;
  // The non-empty buckets in ascending order (compact enough to plot a whole run).
  std::vector<HistogramBucket> NonEmptyBuckets() const;

  // Bucket layout, exposed for tests and for anyone plotting against bucket edges.
  static int BucketIndex(int64_t value_ns);
  static int64_t BucketLowerBound(int index);
  static int64_t BucketUpperBound(int index);
  static int BucketCount();

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t clamped_count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace weft::loadgen
