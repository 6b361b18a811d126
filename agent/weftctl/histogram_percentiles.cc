#include "agent/weftctl/histogram_percentiles.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace weft::weftctl {

BucketRange Log2BucketRange(size_t index) {
  if (index == 0) return {0, 2};  // 0 and 1 share bucket 0
  double lower = std::ldexp(1.0, static_cast<int>(index));
  return {lower, 2 * lower};
}

uint64_t HistogramTotal(std::span<const uint64_t> buckets) {
  uint64_t total = 0;
  for (uint64_t count : buckets) total += count;
  return total;
}

std::optional<double> EstimatePercentile(std::span<const uint64_t> buckets, double quantile) {
  const uint64_t total = HistogramTotal(buckets);
  if (total == 0) return std::nullopt;
  quantile = std::clamp(quantile, 0.0, 1.0);
  // The rank of the wanted sample among `total`, as a real number so that p50 of a
  // single bucket lands in its middle rather than at an edge.
  const double rank = quantile * static_cast<double>(total);
  double below = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0) continue;
    const double count = static_cast<double>(buckets[i]);
    if (below + count >= rank) {
      BucketRange range = Log2BucketRange(i);
      double fraction = (rank - below) / count;
      return range.lower + fraction * (range.upper - range.lower);
    }
    below += count;
  }
  // Rounding left the rank just past the last sample: it is in the last non-empty bucket.
  for (size_t i = buckets.size(); i-- > 0;) {
    if (buckets[i] != 0) return Log2BucketRange(i).upper;
  }
  return std::nullopt;
}

std::string FormatNanoseconds(double nanoseconds) {
  struct Unit {
    double scale;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
  for (const Unit& unit : kUnits) {
    if (nanoseconds >= unit.scale) {
      double value = nanoseconds / unit.scale;
      char text[32];
      std::snprintf(text, sizeof(text), value < 10 ? "%.1f%s" : "%.0f%s", value, unit.suffix);
      return text;
    }
  }
  return absl::StrCat(static_cast<uint64_t>(std::llround(nanoseconds)), "ns");
}

std::string CompactBuckets(std::span<const uint64_t> buckets, double unit_ns) {
  std::string out;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0) continue;
    BucketRange range = Log2BucketRange(i);
    absl::StrAppend(&out, out.empty() ? "" : " ", FormatNanoseconds(range.lower * unit_ns), "-",
                    FormatNanoseconds(range.upper * unit_ns), ":", buckets[i]);
  }
  return out.empty() ? "-" : out;
}

}  // namespace weft::weftctl
