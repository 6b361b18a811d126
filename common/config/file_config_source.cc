#include "common/config/file_config_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/config/config_loader.h"
#include "common/log/logger.h"

namespace weft::config {

std::string_view ReloadKindName(ReloadOutcome::Kind kind) {
  switch (kind) {
    case ReloadOutcome::Kind::kApplied: return "applied";
    case ReloadOutcome::Kind::kUnchanged: return "unchanged";
    case ReloadOutcome::Kind::kRejected: return "rejected";
    case ReloadOutcome::Kind::kReadError: return "read_error";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<FileConfigSource>> FileConfigSource::Create(
    FileConfigSourceOptions options, SnapshotStore* store, ReloadListener listener) {
  if (options.path.empty()) return absl::InvalidArgumentError("config file path is empty");
  std::filesystem::path dir = std::filesystem::absolute(options.path).parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("config file ", options.path, ": directory ", dir.string(), " does not exist"));
  }
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) {
    return absl::InternalError(absl::StrCat("inotify_init1: ", std::strerror(errno)));
  }
  uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB |
                  IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF;
  if (inotify_add_watch(ifd, dir.c_str(), mask) < 0) {
    int err = errno;
    close(ifd);
    return absl::InternalError(
        absl::StrCat("inotify_add_watch ", dir.string(), ": ", std::strerror(err)));
  }
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    int err = errno;
    close(ifd);
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(err)));
  }
  options.path = std::filesystem::absolute(options.path).string();
  return std::unique_ptr<FileConfigSource>(
      new FileConfigSource(std::move(options), store, std::move(listener), ifd, efd));
}

FileConfigSource::FileConfigSource(FileConfigSourceOptions options, SnapshotStore* store,
                                   ReloadListener listener, int inotify_fd, int stop_fd)
    : options_(std::move(options)),
      store_(store),
      listener_(std::move(listener)),
      inotify_fd_(inotify_fd),
      stop_fd_(stop_fd),
      file_name_(std::filesystem::path(options_.path).filename().string()) {}

FileConfigSource::~FileConfigSource() {
  Stop();
  close(inotify_fd_);
  close(stop_fd_);
}

absl::Status FileConfigSource::Start() {
  if (running_.exchange(true)) return absl::FailedPreconditionError("already started");
  Reload();
  watcher_ = std::thread([this] { WatchLoop(); });
  return absl::OkStatus();
}

void FileConfigSource::Stop() {
  if (!running_.exchange(false)) return;
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) < 0) {
    log::Error("config watcher: cannot signal stop", {{"error", std::strerror(errno)}});
  }
  if (watcher_.joinable()) watcher_.join();
}

ReloadOutcome FileConfigSource::Reload() {
  ReloadOutcome outcome;
  auto current = store_->Current();
  outcome.version = current ? current->version : 0;
  absl::StatusOr<std::string> text = ReadFileToString(options_.path);
  if (!text.ok()) {
    outcome.kind = ReloadOutcome::Kind::kReadError;
    outcome.errors.push_back(std::string(text.status().message()));
    log::Warn("config not readable; keeping the last good snapshot",
              {{"source", Describe()}, {"error", text.status().message()},
               {"version", outcome.version}});
  } else if (have_text_ && *text == last_text_) {
    outcome.kind = ReloadOutcome::Kind::kUnchanged;
  } else {
    LoadedConfig loaded = LoadClusterConfig(*text);
    last_text_ = std::move(*text);
    have_text_ = true;
    if (!loaded.ok()) {
      outcome.kind = ReloadOutcome::Kind::kRejected;
      for (const FieldError& e : loaded.errors) {
        outcome.errors.push_back(FormatFieldError(options_.path, e));
      }
      log::Warn("config rejected; keeping the last good snapshot",
                {{"source", Describe()}, {"errors", outcome.errors.size()},
                 {"first_error", outcome.errors.front()}, {"version", outcome.version}});
    } else {
      auto published = store_->Publish(std::move(loaded.config), Describe());
      outcome.kind = ReloadOutcome::Kind::kApplied;
      outcome.version = published->version;
      log::Info("config applied", {{"source", Describe()}, {"version", outcome.version}});
    }
  }
  if (listener_) listener_(outcome);
  return outcome;
}

bool FileConfigSource::Concerns(const struct inotify_event* event) const {
  if (event->len == 0) return true;  // the directory itself moved or went away
  std::string_view name(event->name);
  // Our file, or a Kubernetes ConfigMap volume's "..data" symlink swap.
  return name == file_name_ || name.starts_with("..");
}

void FileConfigSource::WatchLoop() {
  const int settle_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.settle));
  bool dirty = false;
  alignas(struct inotify_event) char buf[16 * 1024];
  while (running_.load()) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    // While dirty, wait only for the settle delay: a quiet period means the writer
    // is done and the file can be read.
    int n = poll(fds, 2, dirty ? settle_ms : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::Error("config watcher: poll failed; reloads stop",
                 {{"source", Describe()}, {"error", std::strerror(errno)}});
      return;
    }
    if (fds[1].revents & POLLIN) return;
    if (n == 0) {
      dirty = false;
      Reload();
      continue;
    }
    if (fds[0].revents & POLLIN) {
      ssize_t len;
      while ((len = read(inotify_fd_, buf, sizeof(buf))) > 0) {
        for (char* p = buf; p < buf + len;) {
          auto* event = reinterpret_cast<struct inotify_event*>(p);
          if (Concerns(event)) dirty = true;
          p += sizeof(struct inotify_event) + event->len;
        }
      }
    }
  }
}

}  // namespace weft::config
