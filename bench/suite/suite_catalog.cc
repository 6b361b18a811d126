#include "bench/suite/suite_catalog.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weft::bench {
namespace {

ScenarioSpec Rr(int size, const std::string& size_name, int connections, int rate) {
  return {absl::StrCat("rr_", size_name, "_c", connections),
          ScenarioKind::kRequestResponse,
          size,
          connections,
          rate,
          absl::StrCat(size_name, " request, ", size_name, " response on ", connections,
                       connections == 1 ? " connection" : " connections",
                       ": latency open-loop at ", rate,
                       " req/s (from the intended send time), rate closed-loop")};
}

template <typename Spec>
absl::StatusOr<std::vector<Spec>> Select(const std::vector<Spec>& all,
                                         const std::vector<std::string>& names,
                                         const std::string& what) {
  if (names.empty()) return all;
  for (const std::string& name : names) {
    bool known = std::any_of(all.begin(), all.end(),
                             [&](const Spec& spec) { return spec.name == name; });
    if (!known) {
      std::vector<std::string> valid;
      for (const Spec& spec : all) valid.push_back(spec.name);
      return absl::InvalidArgumentError(absl::StrCat("unknown ", what, " \"", name,
                                                     "\"; valid: ", absl::StrJoin(valid, ", ")));
    }
  }
  std::vector<Spec> chosen;
  for (const Spec& spec : all) {
    if (std::find(names.begin(), names.end(), spec.name) != names.end()) chosen.push_back(spec);
  }
  return chosen;
}

}  // namespace

const std::vector<ScenarioSpec>& AllScenarios() {
  static const std::vector<ScenarioSpec> scenarios = {
      Rr(1, "1B", 1, 1000),
      Rr(1024, "1KiB", 1, 1000),
      Rr(1, "1B", 16, 4000),
      Rr(1024, "1KiB", 16, 4000),
      {"connrate_1KiB", ScenarioKind::kConnectionRate, 1024, 4, 0,
       "connect, 1 KiB request, 1 KiB response, close; 4 workers, closed-loop"},
      {"bulk_c1", ScenarioKind::kBulk, 0, 1, 0, "upload on 1 connection, closed-loop"},
      {"bulk_c8", ScenarioKind::kBulk, 0, 8, 0, "upload on 8 connections, closed-loop"},
  };
  return scenarios;
}

const std::vector<ModeSpec>& AllModes() {
  static const std::vector<ModeSpec> modes = {
      {"direct",
       "no mesh: plain/client (node-a) to plain/server (node-b) over the pod veths and the "
       "node fabric; no capture, no ztunnel"},
      {"mesh",
       "weft: eBPF connect4 capture in mesh/client, loopback sk_msg short-circuit on, node-a "
       "ztunnel, pooled mTLS HBONE (HTTP/2 CONNECT) to node-b ztunnel, which connects to "
       "mesh/server"},
      {"mesh-nosockmap",
       "as mesh, with the sk_msg short-circuit off: app to ztunnel over loopback TCP"},
      {"iptables",
       "the same ztunnels and HBONE path, capture by an iptables nat REDIRECT to 15001 in "
       "mesh/client-ipt instead of eBPF (client outside the pod cgroup)"},
      {"stunnel",
       "a stunnel4 pair, mutual TLS 1.3: client side in plain/client (127.0.0.1), server "
       "side in plain/server connecting to the app; the app dials stunnel explicitly"},
      {"splice-relay",
       "the floor under any two-proxy path: a splice(2) relay in plain/client (127.0.0.1) "
       "and one in plain/server connecting to the app; no TLS, no framing, no user-space "
       "copy; the app dials the relay explicitly"},
  };
  return modes;
}

RunDurations DurationsFor(bool quick) {
  if (quick) {
    // The warm-up is the full run's: a shorter one let connection set-up (stunnel's 16 TLS
    // handshakes in rr_1B_c16) fill a whole measured window once in CI.
    return {.open_loop_s = 0.3, .closed_s = 0.2, .warmup_s = 0.25, .hop_trace_s = 0.5,
            .repetitions = 1, .warmup_rounds = 0};
  }
  return {.open_loop_s = 1.5, .closed_s = 1.0, .warmup_s = 0.25, .hop_trace_s = 3,
          .repetitions = 5, .warmup_rounds = 1};
}

absl::StatusOr<std::vector<ScenarioSpec>> SelectScenarios(const std::vector<std::string>& names) {
  return Select(AllScenarios(), names, "scenario");
}

absl::StatusOr<std::vector<ModeSpec>> SelectModes(const std::vector<std::string>& names) {
  return Select(AllModes(), names, "mode");
}

std::string KindName(ScenarioKind kind) {
  switch (kind) {
    case ScenarioKind::kRequestResponse:
      return "rr";
    case ScenarioKind::kConnectionRate:
      return "connrate";
    case ScenarioKind::kBulk:
      return "bulk";
  }
  return "unknown";
}

}  // namespace weft::bench
