// Exports the counters every event::EventLoop keeps (EventLoopStats) to /metrics, one
// series per loop (label loop="<name>"), read at scrape time so the loops' hot paths only
// touch their own relaxed atomics.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "common/event/event_loop.h"

namespace weft::admin {

class EventLoopCollector : public prometheus::Collectable {
 public:
  // The loops must outlive this collector (or the registry's last scrape of it).
  explicit EventLoopCollector(std::vector<const event::EventLoop*> loops);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<const event::EventLoop*> loops_;
};

}  // namespace weft::admin
