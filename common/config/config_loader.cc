#include "common/config/config_loader.h"

#include "common/config/validator.h"

namespace weft::config {

LoadedConfig LoadClusterConfig(std::string_view text) {
  LoadedConfig loaded;
  ParsedDocument parsed = ParseDocument(text, &loaded.config);
  loaded.lines = std::move(parsed.lines);
  loaded.errors = std::move(parsed.errors);
  // Semantic checks only make sense on a document that parsed.
  if (loaded.errors.empty()) loaded.errors = ValidateClusterConfig(loaded.config, loaded.lines);
  return loaded;
}

LoadedConfig LoadClusterConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    LoadedConfig failed;
    failed.errors.push_back({"", std::string(text.status().message()), 0});
    return failed;
  }
  return LoadClusterConfig(*text);
}

std::string FormatErrors(std::string_view document, const std::vector<FieldError>& errors) {
  std::string out;
  for (const FieldError& e : errors) {
    out += FormatFieldError(document, e);
    out.push_back('\n');
  }
  return out;
}

}  // namespace weft::config
