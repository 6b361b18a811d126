// The node API's metrics. Every pointer may be null (no registry given, as in some tests); the
// Record* calls then do nothing.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/admin/metrics_registry.h"

namespace weft::agent::nodeapi {

class NodeApiMetrics {
 public:
  // `registry` may be null: every metric is then a no-op.
  static absl::StatusOr<std::unique_ptr<NodeApiMetrics>> Create(admin::MetricsRegistry* registry);

  void RecordAck(bool applied);
  void StreamOpened();
  void StreamClosed();
  enum class Issuance { kIssued, kRefused, kError };
  void RecordIssuance(Issuance result);

 private:
  NodeApiMetrics() = default;

  prometheus::Counter* acks_ok_ = nullptr;
  prometheus::Counter* acks_rejected_ = nullptr;
  prometheus::Gauge* streams_ = nullptr;
  prometheus::Counter* issued_ = nullptr;
  prometheus::Counter* refused_ = nullptr;
  prometheus::Counter* errors_ = nullptr;
};

}  // namespace weft::agent::nodeapi
