#include "bench/machine_facts.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>

namespace weft::bench {
namespace {

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    // x86 says "model name"; some arm64 kernels only give "CPU part", so no fallback parse.
    if (line.rfind("model name", 0) != 0) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown" : line.substr(start);
  }
  return "unknown";
}

double LoadAverage() {
  double load = 0;
  FILE* f = fopen("/proc/loadavg", "r");
  if (f == nullptr) return 0;
  if (fscanf(f, "%lf", &load) != 1) load = 0;
  fclose(f);
  return load;
}

std::string CongestionControl() {
  std::ifstream file("/proc/sys/net/ipv4/tcp_congestion_control");
  std::string name;
  if (!std::getline(file, name) || name.empty()) return "unknown";
  return name;
}

}  // namespace

MachineFacts CollectMachineFacts() {
  MachineFacts facts;
  facts.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  utsname u{};
  if (uname(&u) == 0) {
    facts.kernel = u.release;
    facts.kernel_version = u.version;
    facts.arch = u.machine;
  }
  facts.cpu_model = CpuModel();
  char date[32];
  time_t now = time(nullptr);
  tm utc{};
  gmtime_r(&now, &utc);
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &utc);
  facts.date_utc = date;
  facts.loadavg_1m = LoadAverage();
  facts.tcp_congestion_control = CongestionControl();
  return facts;
}

}  // namespace weft::bench
