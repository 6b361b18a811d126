#include "agent/weftctl/validate_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/cli/flag_set.h"
#include "common/config/config_loader.h"
#include "common/json/json_string.h"

namespace weft::weftctl {
using json::AppendJsonString;

int RunValidate(const std::vector<std::string>& args) {
  std::string output;
  cli::FlagSet flags("weftctl validate [--output table|json] FILE...",
                     "Checks weft config documents (YAML or JSON) and prints every error.");
  flags.String("output", &output, "table", "table or json");
  auto files = flags.Parse(args);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (!files.ok()) {
    std::cerr << "weftctl validate: " << files.status().message() << "\n";
    return 1;
  }
  if (output != "table" && output != "json") {
    std::cerr << "weftctl validate: --output \"" << output << "\": expected table or json\n";
    return 1;
  }
  if (files->empty()) {
    std::cerr << "weftctl validate: expected at least one FILE (see --help)\n";
    return 1;
  }
  int invalid = 0;
  std::string json = "{\"documents\":[";
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& file = (*files)[i];
    config::LoadedConfig loaded = config::LoadClusterConfigFile(file);
    if (!loaded.ok()) ++invalid;
    if (output == "table") {
      if (loaded.ok()) {
        std::cout << file << ": valid\n";
      } else {
        std::cout << config::FormatErrors(file, loaded.errors);
      }
      continue;
    }
    if (i > 0) json.push_back(',');
    json += "{\"file\":";
    AppendJsonString(json, file);
    absl::StrAppend(&json, ",\"valid\":", loaded.ok() ? "true" : "false", ",\"errors\":[");
    for (size_t j = 0; j < loaded.errors.size(); ++j) {
      const config::FieldError& e = loaded.errors[j];
      if (j > 0) json.push_back(',');
      json += "{\"path\":";
      AppendJsonString(json, e.path);
      json += ",\"message\":";
      AppendJsonString(json, e.message);
      absl::StrAppend(&json, ",\"line\":", e.line, "}");
    }
    json += "]}";
  }
  if (output == "json") {
    absl::StrAppend(&json, "],\"invalid\":", invalid, "}");
    std::cout << json << "\n";
  } else if (invalid > 0) {
    std::cerr << "weftctl validate: " << invalid << " of " << files->size()
              << " documents invalid\n";
  }
  return invalid == 0 ? 0 : 1;
}

}  // namespace weft::weftctl
