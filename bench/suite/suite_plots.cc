#include "bench/suite/suite_plots.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/result_table.h"

namespace weft::bench {
namespace {

// Median of (scenario, mode, metric), or "?" (gnuplot's missing value).
std::string MedianOrMissing(const SuiteResults& results, const std::string& scenario,
                            const std::string& mode, const std::string& metric) {
  for (const SuiteRow& row : results.rows()) {
    if (row.scenario != scenario || row.mode != mode || row.metric != metric ||
        !row.process.empty() || !row.hop.empty() || row.by_round.empty()) {
      continue;
    }
    std::vector<double> samples;
    for (const auto& [round, value] : row.by_round) samples.push_back(value);
    return absl::StrFormat("%.6g", Summarize(samples).median);
  }
  return "?";
}

// One clustered bar chart: rows of `clusters` (x axis), one bar per mode.
std::string ClusteredPlot(const std::string& data_file, const std::string& title,
                          const std::vector<ModeSpec>& modes) {
  std::string plot = absl::StrCat("set title \"", title, "\" noenhanced\nplot ");
  for (size_t i = 0; i < modes.size(); ++i) {
    absl::StrAppend(&plot, i ? ", '' " : absl::StrCat("\"", data_file, "\" "), "using ", i + 2,
                    i == 0 ? ":xtic(1)" : "", " title \"", modes[i].name, "\" noenhanced");
  }
  return plot + "\n";
}

absl::Status RunGnuplot(const std::string& out_dir, const std::string& script) {
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    if (::chdir(out_dir.c_str()) != 0) ::_exit(126);
    ::execlp("gnuplot", "gnuplot", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return absl::FailedPreconditionError(
        "gnuplot not found (scripts/bootstrap installs gnuplot-nox); no plots drawn");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("gnuplot ", out_dir, "/", script, " failed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> DrawPlots(const SuiteResults& results,
                                                   const SuiteRun& run,
                                                   const std::string& out_dir) {
  const std::string header = absl::StrCat(
      "set terminal pngcairo noenhanced size 1400,900 font \"sans,10\"\n"
      "set style data histogram\nset style histogram cluster gap 1\n"
      "set style fill solid 0.85 border -1\nset datafile missing \"?\"\n"
      "set grid ytics\nset key top left\n");
  const std::string subtitle = absl::StrCat(run.machine.cores, " cores, ", run.machine.cpu_model,
                                            ", kernel ", run.machine.kernel, ", ",
                                            run.machine.date_utc);
  std::vector<std::string> drawn;

  std::vector<const ScenarioSpec*> rr;
  std::vector<const ScenarioSpec*> bulk;
  for (const ScenarioSpec& s : run.scenarios) {
    if (s.kind == ScenarioKind::kRequestResponse) rr.push_back(&s);
    if (s.kind == ScenarioKind::kBulk) bulk.push_back(&s);
  }
  auto has_data = [&](const std::vector<const ScenarioSpec*>& scenarios, const char* metric) {
    for (const ScenarioSpec* s : scenarios) {
      for (const ModeSpec& m : run.modes) {
        if (MedianOrMissing(results, s->name, m.name, metric) != "?") return true;
      }
    }
    return false;
  };
  // A plot with nothing to draw is skipped (gnuplot refuses an empty range); the
  // tables say why those rows have no numbers.
  if (!has_data(rr, "latency_p50")) rr.clear();
  if (!has_data(bulk, "throughput")) bulk.clear();
  if (!rr.empty()) {
    const int columns = rr.size() > 1 ? 2 : 1;
    const int rows = static_cast<int>((rr.size() + 1) / 2);
    std::string script = absl::StrCat(header, "set output \"latency.png\"\nset logscale y\nset yrange [10:*]\n",
                                      "set ylabel \"latency, µs (log)\"\n",
                                      "set multiplot layout ", rows, ",", columns,
                                      " title \"weft bench: request/response latency, open "
                                      "loop (median of rounds) — ", subtitle, "\" noenhanced\n");
    for (const ScenarioSpec* s : rr) {
      std::string data = "# percentile";
      for (const ModeSpec& m : run.modes) absl::StrAppend(&data, " ", m.name);
      data += "\n";
      for (auto [label, metric] : {std::pair{"p50", "latency_p50"}, {"p90", "latency_p90"},
                                   {"p99", "latency_p99"}, {"p99.9", "latency_p999"}}) {
        data += label;
        for (const ModeSpec& m : run.modes) {
          absl::StrAppend(&data, " ", MedianOrMissing(results, s->name, m.name, metric));
        }
        data += "\n";
      }
      const std::string file = absl::StrCat("latency_", s->name, ".dat");
      if (absl::Status st = WriteTextFile(out_dir + "/" + file, data); !st.ok()) return st;
      script += ClusteredPlot(file, absl::StrCat(s->name, " (", s->open_loop_rate, " req/s)"),
                              run.modes);
    }
    script += "unset multiplot\n";
    if (absl::Status st = WriteTextFile(out_dir + "/latency.gp", script); !st.ok()) return st;
    if (absl::Status st = RunGnuplot(out_dir, "latency.gp"); !st.ok()) return st;
    drawn.push_back("latency.png");
  }
  if (!bulk.empty()) {
    std::string data = "# scenario";
    for (const ModeSpec& m : run.modes) absl::StrAppend(&data, " ", m.name);
    data += "\n";
    for (const ScenarioSpec* s : bulk) {
      data += s->name;
      for (const ModeSpec& m : run.modes) {
        absl::StrAppend(&data, " ", MedianOrMissing(results, s->name, m.name, "throughput"));
      }
      data += "\n";
    }
    if (absl::Status st = WriteTextFile(out_dir + "/throughput.dat", data); !st.ok()) return st;
    std::string script = absl::StrCat(header, "set output \"throughput.png\"\nset size 1,1\n",
                                      "set terminal pngcairo noenhanced size 1000,600 font \"sans,10\"\n",
                                      "set ylabel \"MiB/s\"\nset yrange [0:*]\n",
                                      ClusteredPlot("throughput.dat",
                                                    absl::StrCat("weft bench: bulk upload "
                                                                 "throughput (median) — ",
                                                                 subtitle),
                                                    run.modes));
    if (absl::Status st = WriteTextFile(out_dir + "/throughput.gp", script); !st.ok()) return st;
    if (absl::Status st = RunGnuplot(out_dir, "throughput.gp"); !st.ok()) return st;
    drawn.push_back("throughput.png");
  }
  return drawn;
}

}  // namespace weft::bench
