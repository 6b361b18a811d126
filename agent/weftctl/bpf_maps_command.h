// `weftctl bpf maps`: every BPF map a node agent pinned (path, type, sizes, entry
// count) with a decoded dump of its entries, read straight from bpffs, so it works
// while the agent is down or wedged.
#pragma once

#include <string>
#include <vector>

namespace weft::weftctl {

int RunBpfMaps(const std::vector<std::string>& args);

}  // namespace weft::weftctl
