// Reads a YAML or JSON document into a protobuf message through the protobuf JSON
// mapping, reporting every problem as a FieldError that names the field path
// (proto field names, e.g. "workloads[2].addresses[0]") and the line.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace weft::config {

struct FieldError {
  std::string path;     // "" for the document as a whole
  std::string message;  // what was expected (and what was found)
  int line = 0;         // 1-based; 0 when unknown
};

// "DOC: path: message (line N)" — the one format every tool prints.
std::string FormatFieldError(std::string_view document, const FieldError& error);

// Field path -> 1-based line where the document wrote it.
using LineIndex = std::map<std::string, int, std::less<>>;

struct ParsedDocument {
  std::vector<FieldError> errors;  // empty when `out` was filled
  LineIndex lines;
};

// Parses `text` (YAML 1.2 or JSON) into `out`. Unknown fields, wrong value types,
// unknown enum names and out-of-range numbers are errors; `out` is only meaningful
// when no error is returned.
ParsedDocument ParseDocument(std::string_view text, google::protobuf::Message* out);

// Line of `path` or of its nearest ancestor that the document wrote; 0 if none.
int LineOf(const LineIndex& lines, std::string_view path);

// Reads a whole file; the error names the path and errno.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace weft::config
