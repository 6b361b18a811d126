// When ztunnel asks for a certificate again: at half of the lifetime it actually got, and after
// a failure with exponential backoff; both jittered so that the pods of a node (and the nodes of
// a cluster, restarted together) do not ask the CA at the same instant.
#pragma once

#include <functional>

#include "absl/time/time.h"

namespace weft::ztunnel {

struct RotationPolicy {
  absl::Duration initial_retry = absl::Milliseconds(200);
  absl::Duration max_retry = absl::Seconds(30);
  double jitter_fraction = 0.2;  // each delay is scaled by a factor in [1 - j, 1 + j]
};

class RotationSchedule {
 public:
  // `uniform01` returns values in [0, 1); injected so tests can pin the jitter.
  RotationSchedule(RotationPolicy policy, std::function<double()> uniform01);

  // The renewal time of a certificate valid over [not_before, not_after): not_before plus half
  // the lifetime, jittered, and never later than not_after.
  absl::Time RenewAt(absl::Time not_before, absl::Time not_after) const;

  // The delay before retry number `failures` (1 after the first failure): initial_retry doubled
  // per earlier failure, capped at max_retry, jittered.
  absl::Duration RetryDelay(int failures) const;

 private:
  double JitterFactor() const;

  const RotationPolicy policy_;
  const std::function<double()> uniform01_;
};

}  // namespace weft::ztunnel
