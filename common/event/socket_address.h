// An IPv4 or IPv6 socket address that can be parsed from and printed as "ip:port"
// ("127.0.0.1:15020", "[::1]:15020"), and handed to bind/connect as a sockaddr.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace weft::event {

class SocketAddress {
 public:
  SocketAddress() = default;

  // Accepts "a.b.c.d:port" and "[v6]:port"; port 0 is allowed (bind picks one).
  static absl::StatusOr<SocketAddress> Parse(std::string_view text);
  // The address a socket is bound to (getsockname) or connected to (getpeername).
  static absl::StatusOr<SocketAddress> LocalOf(int fd);
  static absl::StatusOr<SocketAddress> PeerOf(int fd);
  // An AF_INET / AF_INET6 sockaddr as returned by the kernel.
  static absl::StatusOr<SocketAddress> FromSockaddr(const sockaddr* address, socklen_t length);
  // A bare IPv4 or IPv6 address ("10.0.0.1", "fd00::1") and a port.
  static absl::StatusOr<SocketAddress> FromIp(std::string_view ip, uint16_t port);

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  std::string ToString() const;
  // The address without the port, unbracketed ("10.0.0.1", "fd00::1").
  std::string IpString() const;

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace weft::event
