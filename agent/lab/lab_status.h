// How a lab is shown to people: the summary `lab up` prints once ready, and the
// `lab status` report (live checks of supervisor, agents and /healthz) as a table or JSON.
#pragma once

#include <string>
#include <vector>

#include "agent/lab/lab_state.pb.h"

namespace weft::lab {

// Left-aligned columns separated by two spaces.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// Nodes (addresses, agent pid, admin address) and pods (node, IP, netns).
std::string RenderLabSummary(const weft::lab::state::v1::LabState& state);

// Looks at the running system: supervisor and agents alive, /healthz answers.
weft::lab::state::v1::LabStatus CollectStatus(const weft::lab::state::v1::LabState& state);

std::string RenderStatusTable(const weft::lab::state::v1::LabStatus& status);

}  // namespace weft::lab
