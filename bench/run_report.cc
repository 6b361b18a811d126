#include "bench/run_report.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bench/stop_signal.h"

namespace weft::bench {
namespace {

// mkdir -p of the directory part of `path`.
void MakeParentDirs(const std::string& path) {
  for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    mkdir(path.substr(0, pos).c_str(), 0755);
  }
}

bool WriteFile(const std::string& path, const std::string& text) {
  MakeParentDirs(path);
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
  return fclose(f) == 0 && ok;
}

}  // namespace

int ReportRun(const std::string& benchmark, bool quick, const MachineFacts& machine,
              const ResultTable& table,
              const std::vector<std::pair<std::string, double>>& config, double wall_seconds,
              const std::string& out_path) {
  const bool interrupted = StopRequested();
  printf("%s  %s  %d cores  kernel %s  %s  tcp %s  (%s, %.1f s)\n", benchmark.c_str(),
         machine.date_utc.c_str(), machine.cores, machine.kernel.c_str(),
         machine.cpu_model.c_str(), machine.tcp_congestion_control.c_str(),
         quick ? "quick" : "default", wall_seconds);
  printf("%s", table.FormatText().c_str());
  if (!WriteFile(out_path,
                 table.FormatJson(benchmark, machine, config, wall_seconds, interrupted))) {
    fprintf(stderr, "%s: writing %s: %s\n", benchmark.c_str(), out_path.c_str(),
            strerror(errno));
    return 2;
  }
  printf("results: %s\n", out_path.c_str());
  if (interrupted) return 130;
  return table.AnyFailed() ? 1 : 0;
}

}  // namespace weft::bench
