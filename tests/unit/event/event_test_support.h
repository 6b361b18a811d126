// Shared by the event loop tests: a thread running a loop, an echo handler, and plain
// blocking-socket client helpers that do not touch the EventLoop under test.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "common/event/event_loop.h"
#include "common/event/scoped_fd.h"
#include "gtest/gtest.h"

namespace weft::event::testing {

// Runs loop.Run() on its own thread for the lifetime of the object.
class LoopThread {
 public:
  explicit LoopThread(EventLoop& loop) : loop_(loop), thread_([this] { result_ = loop_.Run(); }) {}
  ~LoopThread() { (void)Stop(); }

  absl::Status Stop() {
    if (thread_.joinable()) {
      loop_.Stop();
      thread_.join();
    }
    return result_;
  }

  // Runs `fn` on the loop thread and waits for it (bounded).
  void RunOnLoop(std::function<void()> fn) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    loop_.Post([fn = std::move(fn), done] {
      fn();
      done->set_value();
    });
    ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  }

 private:
  EventLoop& loop_;
  absl::Status result_;
  std::thread thread_;
};

// Sends back whatever arrives; on the peer's EOF, flushes and closes (the default).
class EchoHandler : public ConnectionHandler {
 public:
  void OnData(EventLoop& loop, ConnectionId id, std::string_view data) override {
    ASSERT_TRUE(loop.Send(id, std::string(data)).ok());
  }
  void OnClosed(EventLoop&, ConnectionId, const absl::Status&) override {}
};

inline void RaiseFdLimit(rlim_t wanted) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur >= wanted) return;
  if (lim.rlim_max < wanted) lim.rlim_max = wanted;  // root may raise the hard limit
  lim.rlim_cur = wanted;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0) << std::strerror(errno);
}

inline sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A blocking client socket with 5 s send/receive timeouts so a broken server fails the test
// instead of hanging it.
inline ScopedFd ConnectBlocking(uint16_t port) {
  ScopedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  timeval tv{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr = Loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) fd.Reset();
  return fd;
}

inline bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads exactly `n` bytes or returns what it got before EOF/error/timeout.
inline std::string ReadExactly(int fd, size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    ssize_t got = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

// Polls `pred` until true or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

}  // namespace weft::event::testing
