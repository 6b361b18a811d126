// The process's metrics: one prometheus::Registry (prometheus-cpp core) shared by every
// component of a binary, plus collectables that produce their values at scrape time (such as
// event loop counters), serialised in the Prometheus text format for /metrics.
//
// prometheus-cpp reports bad names and type clashes by throwing; weft code must not throw, so
// every registration goes through here and is validated first, returning a Status instead.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft::admin {

class MetricsRegistry {
 public:
  MetricsRegistry();

  // Families: the same name and type returns the existing family; a name already used by a
  // family of another type is AlreadyExists; an invalid name is InvalidArgument.
  absl::StatusOr<prometheus::Family<prometheus::Counter>*> CounterFamily(const std::string& name,
                                                                         const std::string& help);
  absl::StatusOr<prometheus::Family<prometheus::Gauge>*> GaugeFamily(const std::string& name,
                                                                     const std::string& help);
  absl::StatusOr<prometheus::Family<prometheus::Histogram>*> HistogramFamily(
      const std::string& name, const std::string& help);

  // One time series of a family (created on first use, shared afterwards). Label names are
  // validated. Histogram bucket bounds must be strictly increasing.
  absl::StatusOr<prometheus::Counter*> Counter(const std::string& name, const std::string& help,
                                               const prometheus::Labels& labels = {});
  absl::StatusOr<prometheus::Gauge*> Gauge(const std::string& name, const std::string& help,
                                           const prometheus::Labels& labels = {});
  absl::StatusOr<prometheus::Histogram*> Histogram(
      const std::string& name, const std::string& help,
      const prometheus::Histogram::BucketBoundaries& buckets,
      const prometheus::Labels& labels = {});

  // Adds a source collected at every scrape; dropped once the owner releases it.
  void AddCollectable(std::weak_ptr<prometheus::Collectable> collectable);

  // Everything, in the text exposition format 0.0.4.
  std::string SerializeText() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  absl::Status Reserve(const std::string& name, Type type);
  static absl::Status ValidateLabels(const std::string& metric, const prometheus::Labels& labels);

  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;
  std::map<std::string, Type> types_;                                  // guarded by mu_
  mutable std::vector<std::weak_ptr<prometheus::Collectable>> extra_;  // guarded by mu_
};

}  // namespace weft::admin
