#include "bench/suite/process_usage.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace weft::bench {
namespace {

std::string ProcPath(pid_t pid, const char* file) { return absl::StrCat("/proc/", pid, "/", file); }

}  // namespace

absl::StatusOr<CpuSeconds> ReadCpuSeconds(pid_t pid) {
  std::ifstream in(ProcPath(pid, "stat"));
  std::string line;
  if (!std::getline(in, line)) {
    return absl::NotFoundError(absl::StrCat("process ", pid, " is gone (no /proc/", pid, "/stat)"));
  }
  // The command name (field 2) may hold spaces; fields after its closing ')' are fixed.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return absl::InternalError("unparsable /proc/<pid>/stat");
  std::vector<std::string> fields = absl::StrSplit(line.substr(close + 2), ' ');
  // After ')': state is field 3, so utime (14) and stime (15) sit at indexes 11 and 12.
  uint64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat("unparsable /proc/", pid, "/stat"));
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return CpuSeconds{utime / ticks, stime / ticks};
}

absl::Status ResetPeakRss(pid_t pid) {
  std::ofstream out(ProcPath(pid, "clear_refs"));
  out << "5";
  out.flush();
  if (!out) return absl::UnavailableError(absl::StrCat("reset peak RSS of process ", pid));
  return absl::OkStatus();
}

absl::StatusOr<double> ReadPeakRssBytes(pid_t pid) {
  std::ifstream in(ProcPath(pid, "status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    double kib = 0;
    if (fields >> kib) return kib * 1024;
  }
  return absl::NotFoundError(absl::StrCat("no VmHWM for process ", pid));
}

}  // namespace weft::bench
