#include "bench/loadgen/bulk_run.h"

#include <errno.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "bench/loadgen/epoll_set.h"
#include "bench/loadgen/monotonic_clock.h"
#include "bench/loadgen/tcp_socket.h"

namespace weft::loadgen {
namespace {

constexpr int64_t kRetryDelayNs = 10 * kNanosPerMilli;
// Socket calls per readiness event before the loop looks at the clock and the other
// streams again: fairness between streams, and a timely stop.
constexpr int kIoBurst = 8;

struct Stream {
  event::ScopedFd fd;
  bool connecting = false;
  int64_t connect_started = 0;
  int64_t retry_at = 0;
  uint64_t measured_bytes = 0;
};

class BulkRun {
 public:
  BulkRun(const ClientOptions& options, std::unique_ptr<EpollSet> epoll)
      : options_(options),
        epoll_(std::move(epoll)),
        streams_(static_cast<size_t>(options.connections)),
        buffer_(kZeroBytesSize) {
    report_.options = options;
  }

  absl::StatusOr<RunReport> Run();

 private:
  bool upload() const { return options_.direction == BulkDirection::kUpload; }
  void Open(size_t index, int64_t now);
  void Transfer(size_t index, uint32_t events);
  void Fail(size_t index, const std::string& kind, int64_t now);

  ClientOptions options_;
  std::unique_ptr<EpollSet> epoll_;
  std::vector<Stream> streams_;
  std::vector<uint8_t> buffer_;  // download reads land here
  RunReport report_;
  int64_t measure_from_ = 0;
  int64_t measure_until_ = 0;
};

absl::StatusOr<RunReport> BulkRun::Run() {
  const int64_t start = MonotonicNanos();
  measure_from_ = start + options_.warmup_ns;
  measure_until_ = measure_from_ + options_.duration_ns;
  while (true) {
    const int64_t now = MonotonicNanos();
    if (now >= measure_until_) break;
    int64_t wake = measure_until_;
    for (size_t k = 0; k < streams_.size(); ++k) {
      Stream& s = streams_[k];
      if (!s.fd.valid()) {
        if (now >= s.retry_at) Open(k, now);
        if (!s.fd.valid()) wake = std::min(wake, s.retry_at);
      } else if (s.connecting) {
        if (now >= s.connect_started + options_.request_timeout_ns) {
          Fail(k, "connect_timeout", now);
        } else {
          wake = std::min(wake, s.connect_started + options_.request_timeout_ns);
        }
      }
    }
    absl::StatusOr<int> ready = epoll_->WaitUntil(wake);
    if (!ready.ok()) return ready.status();
    for (int i = 0; i < *ready; ++i) Transfer(epoll_->tag(i), epoll_->events(i));
  }
  for (Stream& s : streams_) s.fd.Reset();

  report_.duration_s = static_cast<double>(options_.duration_ns) / 1e9;
  constexpr double kMiB = 1024.0 * 1024.0;
  uint64_t total = 0;
  for (const Stream& s : streams_) {
    total += s.measured_bytes;
    report_.per_connection_mib_s.push_back(static_cast<double>(s.measured_bytes) / kMiB /
                                           report_.duration_s);
  }
  report_.throughput_mib_s = static_cast<double>(total) / kMiB / report_.duration_s;
  return std::move(report_);
}

void BulkRun::Open(size_t index, int64_t now) {
  Stream& s = streams_[index];
  ConnectStart start = StartConnect(options_.target);
  if (start.error != 0) {
    Fail(index, ErrorKindOfErrno(start.error), now);
    return;
  }
  // Upload watches EPOLLIN too: that is how a reset or an early close by the server shows.
  const uint32_t interest =
      EPOLLIN | (upload() || start.pending ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (!epoll_->Add(start.fd.get(), interest, index).ok()) {
    Fail(index, "epoll_add", now);
    return;
  }
  s.fd = std::move(start.fd);
  s.connecting = start.pending;
  s.connect_started = now;
}

void BulkRun::Transfer(size_t index, uint32_t events) {
  if (index >= streams_.size()) return;
  Stream& s = streams_[index];
  if (!s.fd.valid()) return;
  int64_t now = MonotonicNanos();
  if (s.connecting) {
    const int error = PendingConnectError(s.fd.get());
    if (error != 0) {
      Fail(index, ErrorKindOfErrno(error), now);
      return;
    }
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    s.connecting = false;
    if (!upload()) epoll_->Modify(s.fd.get(), EPOLLIN, index).IgnoreError();
  }
  for (int burst = 0; burst < kIoBurst; ++burst) {
    ssize_t n = 0;
    if (upload()) {
      if (events & EPOLLIN) {
        // Nothing is expected from a sink: data or EOF means the stream is over.
        n = recv(s.fd.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
          Fail(index, n == 0 ? "closed_by_peer" : ErrorKindOfErrno(errno), now);
          return;
        }
        events &= ~EPOLLIN;
      }
      n = send(s.fd.get(), ZeroBytes(), kZeroBytesSize, MSG_NOSIGNAL);
    } else {
      n = recv(s.fd.get(), buffer_.data(), buffer_.size(), 0);
      if (n == 0) {
        Fail(index, "closed_by_peer", now);
        return;
      }
    }
    if (n < 0) {
      if (errno != EAGAIN) Fail(index, ErrorKindOfErrno(errno), now);
      return;
    }
    now = MonotonicNanos();
    if (now >= measure_from_ && now < measure_until_) s.measured_bytes += static_cast<uint64_t>(n);
  }
}

void BulkRun::Fail(size_t index, const std::string& kind, int64_t now) {
  Stream& s = streams_[index];
  if (now >= measure_from_ && now < measure_until_) report_.errors.Add(kind);
  s.fd.Reset();
  s.connecting = false;
  s.retry_at = now + kRetryDelayNs;
}

}  // namespace

absl::StatusOr<RunReport> RunBulk(const ClientOptions& options) {
  if (absl::Status valid = ValidateClientOptions(options); !valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<EpollSet>> epoll = EpollSet::Create();
  if (!epoll.ok()) return epoll.status();
  BulkRun run(options, std::move(*epoll));
  return run.Run();
}

}  // namespace weft::loadgen
