// The agent lab fixture (a unique two-node lab, brought down in TearDown, nothing left behind)
// plus what the ztunnel tests read from a node's weft-ztunnel: its admin port, its access log
// (its stdout, ztunnel-<node>.log), its memory, and whether a pod is ready to carry traffic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/integration/agent/agent_lab_fixture.h"

namespace weft::ztunnel::testing {

using weft::agent::testing::PodPlacement;
using weft::agent::testing::PodProcess;

class ZtunnelLabTest : public weft::agent::testing::AgentLabTest {
 protected:
  // The two-node lab with a weft-ztunnel on each node.
  void StartMeshLab(const std::string& tag);

  // GET `path` from node `node`'s ztunnel admin port; "" on failure or a non-200 status.
  std::string ZtunnelGet(const std::string& node, const std::string& path);

  // The JSON access-log lines (one per connection) node `node`'s ztunnel has written so far.
  std::vector<std::string> AccessLines(const std::string& node);

  // The last `count` lines of node `node`'s ztunnel log that are not access lines: what to
  // print when a test fails.
  std::string DiagnosticTail(const std::string& node, size_t count);

  // VmRSS of node `node`'s ztunnel in KiB (its pid as state.json has it now); -1 if unknown.
  int64_t ZtunnelRssKib(const std::string& node);

  // Waits (fatally, up to 15 s) until each pod is ready on its node: the agent lists it as
  // enrolled, and that node's ztunnel is ready and holds the pod's netns.
  void WaitForMesh(const std::vector<std::string>& pods);
};

// The sum of every sample of `metric` whose labels include each of `labels` (`key="value"`);
// 0 when there is none.
double MetricSum(const std::string& exposition, const std::string& metric,
                 const std::vector<std::string>& labels = {});

// How many of `lines` contain every one of `fragments`.
int CountLinesWith(const std::vector<std::string>& lines,
                   const std::vector<std::string>& fragments);

}  // namespace weft::ztunnel::testing
