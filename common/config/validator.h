// Semantic validation of a ClusterConfig: everything the schema cannot express —
// formats (addresses, CIDRs, ports, names, SPIFFE IDs), uniqueness, references
// between objects (a route backend or a selector that names nothing), and sums
// (route weights). Run at the edge, before a config is applied; inside, a
// validated snapshot is trusted.
#pragma once

#include <vector>

#include "common/config/document_parser.h"
#include "weft/config/v1/config.pb.h"

namespace weft::config {

// Errors name proto field paths ("services[1].ports[0].port"); `lines` (from
// ParseDocument) adds line numbers where the document wrote the field.
std::vector<FieldError> ValidateClusterConfig(const weft::config::v1::ClusterConfig& config,
                                              const LineIndex& lines = {});

}  // namespace weft::config
