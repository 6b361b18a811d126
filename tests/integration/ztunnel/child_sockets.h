// Plain blocking socket calls shared by the child processes the ztunnel lab tests place in
// pods (and by the test process itself): they run after fork(), so they stay small and use
// nothing but syscalls and std::string.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>

namespace weft::ztunnel::testing {

sockaddr_in Ipv4Address(const std::string& ip, uint16_t port);
std::string FormatAddress(const sockaddr_in& address);

// A listening TCP socket on 0.0.0.0:`port` (SO_REUSEADDR); -1 on failure.
int ListenTcp(uint16_t port, int backlog = 1024);

// A connected blocking TCP socket, waiting at most `timeout_ms`; -1 with *error (an errno
// number or "timeout") on failure.
int ConnectTcp(const std::string& ip, uint16_t port, int timeout_ms, std::string* error);

bool WriteAll(int fd, const void* data, size_t size);
inline bool WriteAll(int fd, const std::string& data) {
  return WriteAll(fd, data.data(), data.size());
}

// One line (without '\n') read byte by byte, waiting at most `timeout_ms` in all; nullopt on
// timeout, EOF or error (*error says which when given).
std::optional<std::string> ReadLineFrom(int fd, int timeout_ms, std::string* error = nullptr);

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
uint64_t RaiseFileLimit();

}  // namespace weft::ztunnel::testing
