// SIGINT/SIGTERM ask the benchmark to stop: the handler only sets a flag, loops check
// it between (and inside) measurements, and the normal destructors remove the netns,
// cgroups and pins. Forked pod children inherit the handler, so a terminal's Ctrl-C
// ends their loops early too instead of killing them half-way.
#pragma once

namespace weft::bench {

void InstallStopHandlers();
bool StopRequested();

}  // namespace weft::bench
