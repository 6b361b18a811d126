// Where the cluster config comes from. The agent runs exactly one source: a file
// today, the Kubernetes API later; each publishes validated snapshots into a
// SnapshotStore and reports every reload attempt to a listener.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace weft::config {

struct ReloadOutcome {
  enum class Kind {
    kApplied,    // a new snapshot was published
    kUnchanged,  // the document did not change; nothing published
    kRejected,   // the document is invalid; the last good snapshot stays
    kReadError,  // the document could not be read; the last good snapshot stays
  };
  Kind kind;
  uint64_t version = 0;             // the snapshot in force after this attempt (0: none)
  std::vector<std::string> errors;  // formatted "DOC: path: message (line N)"
};

std::string_view ReloadKindName(ReloadOutcome::Kind kind);

using ReloadListener = std::function<void(const ReloadOutcome&)>;

class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // Loads the initial document (an invalid one is reported, not fatal: the source
  // keeps watching for a good one) and starts watching for changes.
  virtual absl::Status Start() = 0;
  // Stops watching; no listener call happens after Stop returns.
  virtual void Stop() = 0;
  virtual std::string Describe() const = 0;
};

}  // namespace weft::config
