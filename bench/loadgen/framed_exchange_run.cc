#include "bench/loadgen/framed_exchange_run.h"

#include <errno.h>
#include <sys/socket.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "bench/loadgen/epoll_set.h"
#include "bench/loadgen/monotonic_clock.h"
#include "bench/loadgen/tcp_socket.h"
#include "bench/loadgen/wire_framing.h"

namespace weft::loadgen {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// A failed slot waits this long before reconnecting, so a refused port costs ~100
// attempts per second per slot instead of a busy loop.
constexpr int64_t kRetryDelayNs = 10 * kNanosPerMilli;

enum class SlotState { kDisconnected, kConnecting, kIdle, kSending, kReceiving };

struct Slot {
  event::ScopedFd fd;
  SlotState state = SlotState::kDisconnected;
  uint32_t interest = 0;
  uint64_t next_sequence = 0;  // open loop: this slot's next index in the global schedule
  int64_t retry_at = 0;
  int64_t connect_started = 0;
  int64_t intended = 0;  // due time of the request in flight (cycle start for connrate)
  int64_t sent = 0;      // when its first byte went out
  size_t send_offset = 0;
  uint64_t receive_remaining = 0;
};

class FramedExchangeRun {
 public:
  FramedExchangeRun(const ClientOptions& options, std::unique_ptr<EpollSet> epoll)
      : options_(options),
        epoll_(std::move(epoll)),
        slots_(static_cast<size_t>(options.connections)),
        request_(kFrameHeaderSize + options.size, 0),
        scratch_(64 * 1024) {
    EncodeFrameHeader({options.size, options.size}, request_.data());
    report_.options = options;
  }

  absl::StatusOr<RunReport> Run();

 private:
  bool connection_per_request() const { return options_.scenario == Scenario::kConnectionRate; }
  bool open_loop() const { return !connection_per_request() && !options_.closed_loop; }
  int64_t DueTime(uint64_t sequence) const {
    return start_ + static_cast<int64_t>(static_cast<long double>(sequence) * kNanosPerSecond /
                                         options_.rate);
  }
  bool InFlight(const Slot& s) const {
    return s.state == SlotState::kSending || s.state == SlotState::kReceiving ||
           (connection_per_request() && s.state == SlotState::kConnecting);
  }

  int64_t Advance(size_t index, int64_t now);
  void CountUnsentRequests();
  void Connect(size_t index, int64_t now);
  void StartRequest(size_t index, int64_t intended, int64_t now);
  void ContinueSend(size_t index, int64_t now);
  void Receive(size_t index, int64_t now);
  void OnEvent(size_t index, uint32_t events, int64_t now);
  void Complete(size_t index, int64_t now);
  void Fail(size_t index, const std::string& kind, int64_t now);
  void SetInterest(size_t index, uint32_t events);

  ClientOptions options_;
  std::unique_ptr<EpollSet> epoll_;
  std::vector<Slot> slots_;
  std::vector<uint8_t> request_;  // header + zero payload, the same for every request
  std::vector<uint8_t> scratch_;  // responses are read here and dropped
  RunReport report_;
  int64_t start_ = 0;
  int64_t measure_from_ = 0;
  int64_t issue_until_ = 0;
};

absl::StatusOr<RunReport> FramedExchangeRun::Run() {
  start_ = MonotonicNanos();
  measure_from_ = start_ + options_.warmup_ns;
  issue_until_ = measure_from_ + options_.duration_ns;
  const int64_t hard_limit = start_ + HardRunLimitNanos(options_);
  for (size_t k = 0; k < slots_.size(); ++k) slots_[k].next_sequence = k;

  while (true) {
    int64_t now = MonotonicNanos();
    if (now >= hard_limit) break;
    // Wake at the end of the window at the latest: that is when an idle run is over.
    int64_t wake = now < issue_until_ ? issue_until_ : hard_limit;
    bool any_in_flight = false;
    for (size_t k = 0; k < slots_.size(); ++k) {
      wake = std::min(wake, Advance(k, now));
      any_in_flight = any_in_flight || InFlight(slots_[k]);
    }
    if (now >= issue_until_ && !any_in_flight) break;
    absl::StatusOr<int> ready = epoll_->WaitUntil(wake);
    if (!ready.ok()) return ready.status();
    now = MonotonicNanos();
    for (int i = 0; i < *ready; ++i) OnEvent(epoll_->tag(i), epoll_->events(i), now);
  }
  // Whatever is still in flight at the hard limit never got an answer.
  for (size_t k = 0; k < slots_.size(); ++k) {
    if (InFlight(slots_[k]) && slots_[k].intended >= measure_from_) {
      report_.errors.Add("timeout");
    }
  }
  CountUnsentRequests();
  report_.duration_s = static_cast<double>(options_.duration_ns) / 1e9;
  report_.count = report_.latency.Count();
  report_.rate = static_cast<double>(report_.count) / report_.duration_s;
  report_.throughput_mib_s = static_cast<double>(report_.count) * 2.0 * options_.size /
                             report_.duration_s / (1024.0 * 1024.0);
  return std::move(report_);
}

// Open loop: requests due inside the window that were never sent (their slot was down,
// e.g. the server refused connections) are reported, so a dead server cannot pass for an
// idle one.
void FramedExchangeRun::CountUnsentRequests() {
  if (!open_loop()) return;
  uint64_t unsent = 0;
  for (const Slot& s : slots_) {
    const uint64_t first = s.next_sequence + (InFlight(s) ? slots_.size() : 0);
    for (uint64_t sequence = first; DueTime(sequence) < issue_until_; sequence += slots_.size()) {
      if (DueTime(sequence) >= measure_from_) ++unsent;
    }
  }
  if (unsent > 0) report_.errors.Add("not_sent", unsent);
}

// Time-driven transitions of one slot; returns when it next needs attention without I/O.
int64_t FramedExchangeRun::Advance(size_t index, int64_t now) {
  Slot& s = slots_[index];
  if (s.state == SlotState::kDisconnected) {
    if (now >= issue_until_) return kNever;
    if (now < s.retry_at) return s.retry_at;
    Connect(index, now);
    if (s.state == SlotState::kDisconnected) return s.retry_at;
  }
  if (s.state == SlotState::kConnecting) {
    const int64_t deadline = s.connect_started + options_.request_timeout_ns;
    if (now < deadline) return deadline;
    Fail(index, "connect_timeout", now);
    return s.retry_at;
  }
  if (s.state == SlotState::kIdle) {
    const int64_t due = open_loop() ? DueTime(s.next_sequence) : now;
    if (due >= issue_until_) {
      s.fd.Reset();  // this slot's share of the schedule is done
      s.state = SlotState::kDisconnected;
      return kNever;
    }
    if (due > now) return due;
    StartRequest(index, due, now);
    if (s.state == SlotState::kDisconnected) return s.retry_at;
  }
  if (s.state == SlotState::kSending || s.state == SlotState::kReceiving) {
    const int64_t deadline = s.sent + options_.request_timeout_ns;
    if (now < deadline) return deadline;
    Fail(index, "timeout", now);
    return s.retry_at;
  }
  return kNever;
}

void FramedExchangeRun::Connect(size_t index, int64_t now) {
  Slot& s = slots_[index];
  ConnectStart start = StartConnect(options_.target);
  s.connect_started = now;
  if (connection_per_request()) s.intended = now;  // a connrate cycle starts at connect()
  if (start.error != 0) {
    Fail(index, ErrorKindOfErrno(start.error), now);
    return;
  }
  s.fd = std::move(start.fd);
  s.interest = start.pending ? EPOLLOUT : EPOLLIN;
  if (!epoll_->Add(s.fd.get(), s.interest, index).ok()) {
    Fail(index, "epoll_add", now);
    return;
  }
  s.state = start.pending ? SlotState::kConnecting : SlotState::kIdle;
  if (s.state == SlotState::kIdle && connection_per_request()) StartRequest(index, s.intended, now);
}

void FramedExchangeRun::StartRequest(size_t index, int64_t intended, int64_t now) {
  Slot& s = slots_[index];
  s.intended = intended;
  s.sent = now;
  s.send_offset = 0;
  s.receive_remaining = options_.size;
  s.state = SlotState::kSending;
  ContinueSend(index, now);
}

void FramedExchangeRun::ContinueSend(size_t index, int64_t now) {
  Slot& s = slots_[index];
  while (s.send_offset < request_.size()) {
    const ssize_t n = send(s.fd.get(), request_.data() + s.send_offset,
                           request_.size() - s.send_offset, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) {
        SetInterest(index, EPOLLIN | EPOLLOUT);
        return;
      }
      Fail(index, ErrorKindOfErrno(errno), now);
      return;
    }
    s.send_offset += static_cast<size_t>(n);
  }
  s.state = SlotState::kReceiving;
  SetInterest(index, EPOLLIN);
  if (s.receive_remaining == 0) Complete(index, now);
}

void FramedExchangeRun::Receive(size_t index, int64_t now) {
  Slot& s = slots_[index];
  while (true) {
    const ssize_t n = recv(s.fd.get(), scratch_.data(), scratch_.size(), 0);
    if (n == 0) {
      Fail(index, "closed_by_peer", now);
      return;
    }
    if (n < 0) {
      if (errno != EAGAIN) Fail(index, ErrorKindOfErrno(errno), now);
      return;
    }
    if (static_cast<uint64_t>(n) > s.receive_remaining || s.state != SlotState::kReceiving) {
      Fail(index, "unexpected_data", now);  // more than was asked for: the stream is out of sync
      return;
    }
    s.receive_remaining -= static_cast<uint64_t>(n);
    if (s.receive_remaining == 0) {
      Complete(index, MonotonicNanos());
      return;
    }
  }
}

void FramedExchangeRun::OnEvent(size_t index, uint32_t events, int64_t now) {
  if (index >= slots_.size()) return;
  Slot& s = slots_[index];
  switch (s.state) {
    case SlotState::kConnecting: {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      const int error = PendingConnectError(s.fd.get());
      if (error != 0) {
        Fail(index, ErrorKindOfErrno(error), now);
        return;
      }
      s.state = SlotState::kIdle;
      SetInterest(index, EPOLLIN);
      if (connection_per_request()) StartRequest(index, s.intended, now);
      return;
    }
    case SlotState::kSending:
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ContinueSend(index, now);
      if (s.state == SlotState::kSending && (events & EPOLLIN)) Fail(index, "unexpected_data", now);
      return;
    case SlotState::kReceiving:
    case SlotState::kIdle:  // data or EOF on an idle connection: Receive() reports it
      Receive(index, now);
      return;
    case SlotState::kDisconnected:
      return;
  }
}

void FramedExchangeRun::Complete(size_t index, int64_t now) {
  Slot& s = slots_[index];
  if (s.intended >= measure_from_) {
    report_.latency.Record(now - s.intended);
    report_.service_time.Record(now - s.sent);
  }
  s.next_sequence += slots_.size();
  if (connection_per_request()) {
    s.fd.Reset();
    s.state = SlotState::kDisconnected;
    s.retry_at = now;  // next cycle at once: connrate is closed loop
    return;
  }
  s.state = SlotState::kIdle;
}

void FramedExchangeRun::Fail(size_t index, const std::string& kind, int64_t now) {
  Slot& s = slots_[index];
  // Failures count inside the measured window only, like successes.
  if (now >= measure_from_ && now < issue_until_ + options_.request_timeout_ns) {
    report_.errors.Add(kind);
  }
  // The request in flight is dropped: an open-loop slot moves on to its next due request.
  if (InFlight(s)) s.next_sequence += slots_.size();
  s.fd.Reset();
  s.state = SlotState::kDisconnected;
  s.retry_at = now + kRetryDelayNs;
}

void FramedExchangeRun::SetInterest(size_t index, uint32_t events) {
  Slot& s = slots_[index];
  if (s.interest == events) return;
  if (epoll_->Modify(s.fd.get(), events, index).ok()) s.interest = events;
}

}  // namespace

absl::StatusOr<RunReport> RunFramedExchange(const ClientOptions& options) {
  if (absl::Status valid = ValidateClientOptions(options); !valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<EpollSet>> epoll = EpollSet::Create();
  if (!epoll.ok()) return epoll.status();
  FramedExchangeRun run(options, std::move(*epoll));
  return run.Run();
}

}  // namespace weft::loadgen
