// Reads a ClusterConfig document (YAML or JSON) and validates it: the one path
// by which outside config enters weft (weftctl validate, the agent's file source,
// the lab).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/document_parser.h"
#include "weft/config/v1/config.pb.h"

namespace weft::config {

struct LoadedConfig {
  weft::config::v1::ClusterConfig config;
  std::vector<FieldError> errors;  // syntax/schema errors, then semantic ones
  LineIndex lines;
  bool ok() const { return errors.empty(); }
};

LoadedConfig LoadClusterConfig(std::string_view text);

// Reads and loads a file; a read failure is reported as a document-level error.
LoadedConfig LoadClusterConfigFile(const std::string& path);

// Each error as "DOC: path: message (line N)", one per line.
std::string FormatErrors(std::string_view document, const std::vector<FieldError>& errors);

}  // namespace weft::config
