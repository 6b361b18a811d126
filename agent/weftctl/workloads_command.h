// `weftctl workloads`: the pods a node agent has enrolled (netns cookie, identity,
// inbound mode), read from the agent's admin port (/debug/workloads). With
// --lab NAME it asks every node agent of a local lab.
#pragma once

#include <string>
#include <vector>

namespace weft::weftctl {

int RunWorkloads(const std::vector<std::string>& args);

}  // namespace weft::weftctl
