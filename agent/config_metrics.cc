#include "agent/config_metrics.h"

#include <chrono>

namespace weft::agent {

absl::StatusOr<std::unique_ptr<ConfigMetrics>> ConfigMetrics::Create(
    admin::MetricsRegistry& registry) {
  std::unique_ptr<ConfigMetrics> m(new ConfigMetrics());
  const std::string reloads = "weft_config_reloads_total";
  const std::string help =
      "Config reload attempts by result (applied, unchanged, rejected, read_error)";
  struct Slot {
    prometheus::Counter** target;
    const char* result;
  };
  for (Slot s : {Slot{&m->applied_, "applied"}, Slot{&m->unchanged_, "unchanged"},
                 Slot{&m->rejected_, "rejected"}, Slot{&m->read_error_, "read_error"}}) {
    auto counter = registry.Counter(reloads, help, {{"result", s.result}});
    if (!counter.ok()) return counter.status();
    *s.target = *counter;
  }
  auto version = registry.Gauge("weft_config_snapshot_version",
                                "Version of the config snapshot in force (0: none yet)");
  if (!version.ok()) return version.status();
  m->version_ = *version;
  auto last = registry.Gauge("weft_config_last_applied_timestamp_seconds",
                             "Unix time the config snapshot in force was applied");
  if (!last.ok()) return last.status();
  m->last_applied_ = *last;
  return m;
}

void ConfigMetrics::Record(const config::ReloadOutcome& outcome) {
  using Kind = config::ReloadOutcome::Kind;
  switch (outcome.kind) {
    case Kind::kApplied:
      applied_->Increment();
      last_applied_->Set(std::chrono::duration<double>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
      break;
    case Kind::kUnchanged: unchanged_->Increment(); break;
    case Kind::kRejected: rejected_->Increment(); break;
    case Kind::kReadError: read_error_->Increment(); break;
  }
  version_->Set(static_cast<double>(outcome.version));
}

}  // namespace weft::agent
