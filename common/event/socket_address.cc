#include "common/event/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace weft::event {
namespace {

absl::StatusOr<uint16_t> ParsePort(absl::string_view text, absl::string_view whole) {
  uint32_t port = 0;
  if (text.empty() || !absl::SimpleAtoi(text, &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", whole, "\": port must be a number in 0..65535"));
  }
  return static_cast<uint16_t>(port);
}

absl::StatusOr<SocketAddress> FromSockName(int fd, bool peer) {
  sockaddr_storage storage{};
  socklen_t len = sizeof(storage);
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &len)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len);
  if (rc != 0) {
    return absl::ErrnoToStatus(errno, peer ? "getpeername" : "getsockname");
  }
  char text[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
    return SocketAddress::Parse(absl::StrCat(text, ":", port));
  }
  if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    port = ntohs(in6->sin6_port);
    return SocketAddress::Parse(absl::StrCat("[", text, "]:", port));
  }
  return absl::InvalidArgumentError(absl::StrCat("socket fd ", fd, " has address family ",
                                                 storage.ss_family,
                                                 ", expected AF_INET or AF_INET6"));
}

}  // namespace

absl::StatusOr<SocketAddress> SocketAddress::Parse(std::string_view input) {
  // This absl build has its own string_view type; StrCat and SimpleAtoi want that one.
  const absl::string_view text(input.data(), input.size());
  SocketAddress out;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("address \"", text, "\": expected [ipv6]:port"));
    }
    std::string host(text.substr(1, close - 1));
    absl::StatusOr<uint16_t> port = ParsePort(text.substr(close + 2), text);
    if (!port.ok()) return port.status();
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage_);
    if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("address \"", text, "\": \"", host, "\" is not an IPv6 address"));
    }
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(*port);
    out.length_ = sizeof(sockaddr_in6);
    return out;
  }
  size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", text, "\": expected ip:port"));
  }
  std::string host(text.substr(0, colon));
  absl::StatusOr<uint16_t> port = ParsePort(text.substr(colon + 1), text);
  if (!port.ok()) return port.status();
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage_);
  if (::inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", text, "\": \"", host, "\" is not an IPv4 address"));
  }
  in->sin_family = AF_INET;
  in->sin_port = htons(*port);
  out.length_ = sizeof(sockaddr_in);
  return out;
}

absl::StatusOr<SocketAddress> SocketAddress::FromSockaddr(const sockaddr* address,
                                                         socklen_t length) {
  SocketAddress out;
  if ((address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) ||
      (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6))) {
    const socklen_t used = address->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    std::memcpy(&out.storage_, address, used);
    out.length_ = used;
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("socket address of family ", address->sa_family, " and length ", length,
                   " is neither IPv4 nor IPv6"));
}

absl::StatusOr<SocketAddress> SocketAddress::FromIp(std::string_view ip, uint16_t port) {
  if (ip.find(':') != std::string_view::npos) {
    return Parse(absl::StrCat("[", std::string(ip), "]:", port));
  }
  return Parse(absl::StrCat(std::string(ip), ":", port));
}

std::string SocketAddress::IpString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage_.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text,
                sizeof(text));
  } else if (storage_.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
                sizeof(text));
  }
  return text;
}

absl::StatusOr<SocketAddress> SocketAddress::LocalOf(int fd) { return FromSockName(fd, false); }
absl::StatusOr<SocketAddress> SocketAddress::PeerOf(int fd) { return FromSockName(fd, true); }

uint16_t SocketAddress::port() const {
  if (storage_.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (storage_.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

std::string SocketAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage_.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    return absl::StrCat(text, ":", port());
  }
  if (storage_.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    return absl::StrCat("[", text, "]:", port());
  }
  return "<unset>";
}

}  // namespace weft::event
