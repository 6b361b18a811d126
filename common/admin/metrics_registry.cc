#include "common/admin/metrics_registry.h"

#include <prometheus/check_names.h>
#include <prometheus/text_serializer.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace weft::admin {
namespace {

const char* TypeName(int type) {
  switch (type) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "histogram";
  }
}

}  // namespace

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

absl::Status MetricsRegistry::Reserve(const std::string& name, Type type) {
  if (!prometheus::CheckMetricName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric name \"", name, "\" is not [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = types_.emplace(name, type);
  if (!inserted && it->second != type) {
    return absl::AlreadyExistsError(
        absl::StrCat("metric \"", name, "\" is already a ", TypeName(static_cast<int>(it->second)),
                     ", cannot register it as a ", TypeName(static_cast<int>(type))));
  }
  return absl::OkStatus();
}

absl::Status MetricsRegistry::ValidateLabels(const std::string& metric,
                                             const prometheus::Labels& labels) {
  for (const auto& [name, value] : labels) {
    if (!prometheus::CheckLabelName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric \"", metric, "\": label name \"", name, "\" is invalid"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<prometheus::Family<prometheus::Counter>*> MetricsRegistry::CounterFamily(
    const std::string& name, const std::string& help) {
  if (absl::Status s = Reserve(name, Type::kCounter); !s.ok()) return s;
  return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

absl::StatusOr<prometheus::Family<prometheus::Gauge>*> MetricsRegistry::GaugeFamily(
    const std::string& name, const std::string& help) {
  if (absl::Status s = Reserve(name, Type::kGauge); !s.ok()) return s;
  return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

absl::StatusOr<prometheus::Family<prometheus::Histogram>*> MetricsRegistry::HistogramFamily(
    const std::string& name, const std::string& help) {
  if (absl::Status s = Reserve(name, Type::kHistogram); !s.ok()) return s;
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

absl::StatusOr<prometheus::Counter*> MetricsRegistry::Counter(const std::string& name,
                                                              const std::string& help,
                                                              const prometheus::Labels& labels) {
  if (absl::Status s = ValidateLabels(name, labels); !s.ok()) return s;
  absl::StatusOr<prometheus::Family<prometheus::Counter>*> family = CounterFamily(name, help);
  if (!family.ok()) return family.status();
  return &(*family)->Add(labels);
}

absl::StatusOr<prometheus::Gauge*> MetricsRegistry::Gauge(const std::string& name,
                                                          const std::string& help,
                                                          const prometheus::Labels& labels) {
  if (absl::Status s = ValidateLabels(name, labels); !s.ok()) return s;
  absl::StatusOr<prometheus::Family<prometheus::Gauge>*> family = GaugeFamily(name, help);
  if (!family.ok()) return family.status();
  return &(*family)->Add(labels);
}

absl::StatusOr<prometheus::Histogram*> MetricsRegistry::Histogram(
    const std::string& name, const std::string& help,
    const prometheus::Histogram::BucketBoundaries& buckets, const prometheus::Labels& labels) {
  if (absl::Status s = ValidateLabels(name, labels); !s.ok()) return s;
  if (std::adjacent_find(buckets.begin(), buckets.end(), std::greater_equal<double>()) !=
      buckets.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram \"", name, "\": bucket bounds must be strictly increasing"));
  }
  absl::StatusOr<prometheus::Family<prometheus::Histogram>*> family = HistogramFamily(name, help);
  if (!family.ok()) return family.status();
  return &(*family)->Add(labels, buckets);
}

void MetricsRegistry::AddCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
  std::lock_guard<std::mutex> lock(mu_);
  extra_.push_back(std::move(collectable));
}

std::string MetricsRegistry::SerializeText() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Owners that went away are forgotten here rather than by an unregister call.
    extra_.erase(std::remove_if(extra_.begin(), extra_.end(),
                                [](const auto& weak) { return weak.expired(); }),
                 extra_.end());
    for (const auto& weak : extra_) {
      if (std::shared_ptr<prometheus::Collectable> c = weak.lock()) {
        std::vector<prometheus::MetricFamily> more = c->Collect();
        families.insert(families.end(), std::make_move_iterator(more.begin()),
                        std::make_move_iterator(more.end()));
      }
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace weft::admin
