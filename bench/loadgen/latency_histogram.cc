#include "bench/loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace weft::loadgen {
namespace {

// Index of the most significant set bit (value > 0).
int Log2Floor(int64_t value) { return 63 - std::countl_zero(static_cast<uint64_t>(value)); }

}  // namespace

int LatencyHistogram::BucketIndex(int64_t value_ns) {
  if (value_ns < kSubBucketCount) return static_cast<int>(value_ns);
  const int k = Log2Floor(value_ns);
  const int shift = k - kSubBucketBits;
  const int sub = static_cast<int>((value_ns >> shift) - kSubBucketCount);
  return static_cast<int>(kSubBucketCount) + shift * static_cast<int>(kSubBucketCount) + sub;
}

int64_t LatencyHistogram::BucketLowerBound(int index) {
  if (index < kSubBucketCount) return index;
  const int shift = (index - static_cast<int>(kSubBucketCount)) >> kSubBucketBits;
  const int64_t sub = (index - kSubBucketCount) & (kSubBucketCount - 1);
  return (kSubBucketCount + sub) << shift;
}

int64_t LatencyHistogram::BucketUpperBound(int index) {
  if (index < kSubBucketCount) return index;
  const int shift = (index - static_cast<int>(kSubBucketCount)) >> kSubBucketBits;
  return BucketLowerBound(index) + (int64_t{1} << shift) - 1;
}

int LatencyHistogram::BucketCount() { return BucketIndex(kMaxValue) + 1; }

LatencyHistogram::LatencyHistogram() : counts_(static_cast<size_t>(BucketCount()), 0) {}

void LatencyHistogram::Record(int64_t value_ns) {
  if (value_ns < kMinValue || value_ns > kMaxValue) {
    ++clamped_count_;
    value_ns = std::clamp(value_ns, kMinValue, kMaxValue);
  }
  ++counts_[static_cast<size_t>(BucketIndex(value_ns))];
  if (count_ == 0 || value_ns < min_) min_ = value_ns;
  if (count_ == 0 || value_ns > max_) max_ = value_ns;
  ++count_;
  sum_ += static_cast<double>(value_ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
  clamped_count_ += other.clamped_count_;
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  clamped_count_ = 0;
  min_ = 0;
  max_ = 0;
  sum_ = 0;
}

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 100.0);
  // The small epsilon keeps decimal quantiles exact: 99.9/100*1000 is 999.0000000000001
  // in binary floating point, and ceil() of that would skip a rank.
  const double exact_rank = q / 100.0 * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact_rank - 1e-9 * exact_rank));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    if (cumulative >= rank) {
      return std::clamp(BucketUpperBound(static_cast<int>(i)), min_, max_);
    }
  }
  return max_;  // unreachable while count_ equals the sum of counts_
}

LatencySummary LatencyHistogram::Summarize() const {
  LatencySummary s;
  s.count = count_;
  s.min = Min();
  s.p50 = Percentile(50);
  s.p90 = Percentile(90);
  s.p99 = Percentile(99);
  s.p99_9 = Percentile(99.9);
  s.max = Max();
  s.mean = Mean();
  return s;
}

std::vector<HistogramBucket> LatencyHistogram::NonEmptyBuckets() const {
  std::vector<HistogramBucket> buckets;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const int index = static_cast<int>(i);
    buckets.push_back({BucketLowerBound(index), BucketUpperBound(index), counts_[i]});
  }
  return buckets;
}

}  // namespace weft::loadgen
