#include "ztunnel/identity/rotation_schedule.h"

#include <algorithm>

namespace weft::ztunnel {

RotationSchedule::RotationSchedule(RotationPolicy policy, std::function<double()> uniform01)
    : policy_(policy), uniform01_(std::move(uniform01)) {}

double RotationSchedule::JitterFactor() const {
  const double j = std::clamp(policy_.jitter_fraction, 0.0, 0.9);
  return 1.0 + j * (2.0 * uniform01_() - 1.0);
}

absl::Time RotationSchedule::RenewAt(absl::Time not_before, absl::Time not_after) const {
  const absl::Duration lifetime = not_after - not_before;
  if (lifetime <= absl::ZeroDuration()) return not_before;
  return std::min(not_before + (lifetime / 2) * JitterFactor(), not_after);
}

absl::Duration RotationSchedule::RetryDelay(int failures) const {
  absl::Duration delay = policy_.initial_retry;
  for (int i = 1; i < failures && delay < policy_.max_retry; ++i) delay *= 2;
  delay = std::min(delay, policy_.max_retry);
  return delay * JitterFactor();
}

}  // namespace weft::ztunnel
