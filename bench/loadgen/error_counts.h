// Failures of a run, counted by kind ("connect_refused", "reset", "timeout", ...), so a
// result says what went wrong without a log line per failure: a load generator that logged
// every refused connect would measure its own logging.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace weft::loadgen {

// The kind an errno becomes in the report: ECONNREFUSED -> "connect_refused",
// ECONNRESET/EPIPE -> "reset", ETIMEDOUT -> "timeout", EADDRNOTAVAIL -> "no_local_port",
// ENETUNREACH/EHOSTUNREACH -> "unreachable", EPERM/EACCES -> "denied" (what a policy-denied
// connect() returns), anything else "errno_<name>".
std::string ErrorKindOfErrno(int err);

class ErrorCounts {
 public:
  void Add(const std::string& kind, uint64_t n = 1) { counts_[kind] += n; }
  void AddErrno(int err) { Add(ErrorKindOfErrno(err)); }
  void Merge(const ErrorCounts& other);

  uint64_t Total() const;
  uint64_t Of(const std::string& kind) const;
  // Sorted by kind, so JSON output is stable.
  const std::map<std::string, uint64_t>& by_kind() const { return counts_; }

 private:
  std::map<std::string, uint64_t> counts_;
};

}  // namespace weft::loadgen
