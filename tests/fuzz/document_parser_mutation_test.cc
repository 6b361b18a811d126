// Mutation testing of the config edge: tens of thousands of corrupted documents —
// bytes flipped, lines dropped or duplicated, values swapped for other types — go
// through parsing and validation. None may crash, hang or throw, and every rejection
// must come with errors that name a field path or the document and render in the
// one format. (Seeded, so a failure reproduces; set WEFT_FUZZ_SEED to explore.)
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/config/config_loader.h"
#include "common/config/document_parser.h"
#include "gtest/gtest.h"

namespace weft::config {
namespace {

std::string ReadTestData() {
  absl::StatusOr<std::string> text = ReadFileToString(
      std::string(WEFT_SOURCE_DIR) + "/tests/unit/config/testdata/cluster.yaml");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// One random corruption of `doc`.
std::string Mutate(const std::string& doc, std::mt19937_64& rng) {
  static const char* kReplacements[] = {"-1", "70000", "null", "[]", "{}", "true", "\"\"",
                                        "1e400", "\"\\u0000\"", "*", "- x", ": :", "&a *a",
                                        "!!binary AAAA", "\"spiffe://x\"", "0x10", "1.5s",
                                        "'", "\t"};
  std::uniform_int_distribution<int> kind(0, 5);
  std::string out = doc;
  switch (kind(rng)) {
    case 0: {  // flip bytes
      int n = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < n && !out.empty(); ++i) out[rng() % out.size()] ^= 1 << (rng() % 8);
      break;
    }
    case 1: {  // drop a line
      auto lines = Lines(out);
      if (!lines.empty()) lines.erase(lines.begin() + static_cast<long>(rng() % lines.size()));
      out = Join(lines);
      break;
    }
    case 2: {  // duplicate a line
      auto lines = Lines(out);
      if (!lines.empty()) {
        size_t i = rng() % lines.size();
        lines.insert(lines.begin() + static_cast<long>(i), lines[i]);
      }
      out = Join(lines);
      break;
    }
    case 3: {  // replace a value after a colon
      auto lines = Lines(out);
      if (!lines.empty()) {
        std::string& line = lines[rng() % lines.size()];
        size_t colon = line.find(": ");
        if (colon != std::string::npos) {
          line = line.substr(0, colon + 2) +
                 kReplacements[rng() % (sizeof(kReplacements) / sizeof(kReplacements[0]))];
        }
      }
      out = Join(lines);
      break;
    }
    case 4:  // truncate
      out.resize(rng() % (out.size() + 1));
      break;
    default: {  // splice two halves at random points
      size_t a = rng() % (out.size() + 1), b = rng() % (out.size() + 1);
      out = out.substr(0, a) + out.substr(b);
      break;
    }
  }
  return out;
}

TEST(DocumentParserMutation, CorruptedDocumentsNeverCrashAndErrorsAreWellFormed) {
  const std::string base = ReadTestData();
  ASSERT_FALSE(base.empty());
  uint64_t seed = 20261127;
  if (const char* env = std::getenv("WEFT_FUZZ_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::mt19937_64 rng(seed);
  int rejected = 0, accepted = 0;
  constexpr int kCases = 20000;
  for (int i = 0; i < kCases; ++i) {
    std::string doc = base;
    int rounds = 1 + static_cast<int>(rng() % 3);
    for (int r = 0; r < rounds; ++r) doc = Mutate(doc, rng);
    LoadedConfig loaded = LoadClusterConfig(doc);
    if (loaded.ok()) {
      ++accepted;
      continue;
    }
    ++rejected;
    for (const FieldError& e : loaded.errors) {
      ASSERT_FALSE(e.message.empty()) << "seed " << seed << " case " << i << ":\n" << doc;
      ASSERT_GE(e.line, 0);
      std::string rendered = FormatFieldError("doc.yaml", e);
      ASSERT_EQ(rendered.rfind("doc.yaml: ", 0), 0u) << rendered;
      ASSERT_EQ(rendered.find('\n'), std::string::npos)
          << "an error must stay on one line: " << rendered;
      // The schema walker must catch everything protobuf's JSON parser would refuse,
      // because only the walker can name the field.
      ASSERT_EQ(e.message.find("protobuf JSON mapping rejected"), std::string::npos)
          << "seed " << seed << " case " << i << ": " << rendered;
    }
  }
  // The mutations must actually exercise the rejection paths.
  EXPECT_GT(rejected, kCases / 2) << "seed " << seed;
  RecordProperty("accepted", accepted);
  RecordProperty("rejected", rejected);
}

}  // namespace
}  // namespace weft::config
