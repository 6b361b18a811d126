// ConfigSource reading one YAML/JSON file and watching it with inotify.
//
// The directory is watched, not the file, so that every way a file gets replaced
// is seen: in-place writes, editors' rename-over, and the symlink swaps of a
// Kubernetes ConfigMap volume. An event naming the file (or a ConfigMap "..*"
// entry) triggers a re-read after a short settle delay; unchanged content
// publishes nothing.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

struct inotify_event;

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config/config_snapshot.h"
#include "common/config/config_source.h"

namespace weft::config {

struct FileConfigSourceOptions {
  std::string path;
  // Quiet time after the last change before the file is read, so a writer that
  // truncates then writes is not read half-way.
  absl::Duration settle = absl::Milliseconds(50);
};

class FileConfigSource : public ConfigSource {
 public:
  static absl::StatusOr<std::unique_ptr<FileConfigSource>> Create(FileConfigSourceOptions options,
                                                                  SnapshotStore* store,
                                                                  ReloadListener listener);
  ~FileConfigSource() override;

  absl::Status Start() override;
  void Stop() override;
  std::string Describe() const override { return "file:" + options_.path; }

  // Reads the file now and applies it if it changed (also what the watcher calls).
  ReloadOutcome Reload();

 private:
  FileConfigSource(FileConfigSourceOptions options, SnapshotStore* store, ReloadListener listener,
                   int inotify_fd, int stop_fd);
  void WatchLoop();
  bool Concerns(const struct inotify_event* event) const;

  const FileConfigSourceOptions options_;
  SnapshotStore* const store_;
  const ReloadListener listener_;
  const int inotify_fd_;
  const int stop_fd_;  // eventfd that wakes the watcher to exit
  const std::string file_name_;
  std::string last_text_;
  bool have_text_ = false;
  std::thread watcher_;
  std::atomic<bool> running_{false};
};

}  // namespace weft::config
