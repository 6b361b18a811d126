// Reads a lab topology file (YAML or JSON) and checks everything the lab relies on
// before it creates anything: unique names, pods on known nodes, /24 pod networks that
// do not overlap, names that stay unique once turned into netns and cgroup names.
// Errors name the document, the field and the line.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/document_parser.h"
#include "weft/lab/v1/topology.pb.h"

namespace weft::lab {

struct LoadedTopology {
  std::string path;
  weft::lab::v1::Topology topology;  // defaults applied
  weft::config::LineIndex lines;
};

// Parses, applies defaults and validates. The error lists every problem, one
// FormatFieldError() each, joined with "; ".
absl::StatusOr<LoadedTopology> LoadTopology(const std::string& path);

// The structural checks alone, on a topology with defaults applied.
std::vector<weft::config::FieldError> ValidateTopology(const weft::lab::v1::Topology& topology,
                                                       const weft::config::LineIndex& lines);

// Joins FormatFieldError(document, e) for every error with "; ".
std::string JoinFieldErrors(const std::string& document,
                            const std::vector<weft::config::FieldError>& errors);

}  // namespace weft::lab
