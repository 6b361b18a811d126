// Structured logging: one line per event, as text ("ts level component msg k=v ...")
// or as JSON lines, written to stderr with a single write(2) so that lines from
// different threads never interleave.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weft::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

absl::StatusOr<Level> ParseLevel(std::string_view text);
absl::StatusOr<Format> ParseFormat(std::string_view text);

// One key/value pair of a log line.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, absl::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, const absl::Status& s) : key(k), value(s.ToString()) {}

  std::string_view key;
  std::variant<std::string, int64_t, bool, double> value;
};

using Fields = std::initializer_list<Field>;

// Process-wide settings; call once at startup, before other threads start.
void Configure(Level min_level, Format format, std::string_view component);

bool Enabled(Level level);
void Write(Level level, std::string_view message, Fields fields = {});

// Renders a line without writing it (used by Write and by tests).
std::string Render(Level level, std::string_view message, Fields fields, Format format,
                   std::string_view component, int64_t unix_micros);

inline void Debug(std::string_view m, Fields f = {}) { if (Enabled(Level::kDebug)) Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, Fields f = {}) { if (Enabled(Level::kInfo)) Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, Fields f = {}) { if (Enabled(Level::kWarn)) Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, Fields f = {}) { Write(Level::kError, m, f); }

}  // namespace weft::log
