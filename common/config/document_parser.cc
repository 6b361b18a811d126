#include "common/config/document_parser.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json/json_string.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace weft::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using json::AppendJsonString;

std::string KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return absl::StrCat("\"", node.Scalar(), "\"");
    case YAML::NodeType::Null: return "null";
    default: return "nothing";
  }
}

std::string Quote(const std::string& s) { return absl::StrCat("\"", s, "\""); }

// Protobuf strings must be UTF-8; a document that carries other bytes is refused here,
// where the field is still known, rather than by protobuf's parser without a path.
bool IsUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra;
    uint32_t cp;
    if ((c >> 5) == 0x6) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c >> 4) == 0xe) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c >> 3) == 0x1e) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// Walks a YAML tree alongside a message descriptor: checks every key and value
// against the schema (collecting errors with paths and lines) and emits the JSON
// text that protobuf's JSON parser then turns into the message.
class SchemaWalker {
 public:
  explicit SchemaWalker(ParsedDocument& doc) : doc_(doc) {}

  void Message(const YAML::Node& node, const Descriptor* desc, const std::string& path,
               std::string& json) {
    if (desc->full_name() == "google.protobuf.Duration") {
      Duration(node, path, json);
      return;
    }
    if (!node.IsMap()) {
      Error(node, path, absl::StrCat("expected a mapping (", desc->name(), "), got ",
                                     KindName(node)));
      json += "{}";
      return;
    }
    json.push_back('{');
    bool first = true;
    std::set<const FieldDescriptor*> seen;
    for (const auto& kv : node) {
      const YAML::Node& key = kv.first;
      const YAML::Node& value = kv.second;
      if (!key.IsScalar()) {
        Error(key, path, "expected a field name, got " + KindName(key));
        continue;
      }
      const std::string& name = key.Scalar();
      if (!IsUtf8(name)) {
        Error(key, path, "expected a field name in UTF-8 text");
        continue;
      }
      const FieldDescriptor* field = desc->FindFieldByName(name);
      if (field == nullptr) field = desc->FindFieldByCamelcaseName(name);
      if (field == nullptr) {
        for (int i = 0; i < desc->field_count() && field == nullptr; ++i) {
          if (desc->field(i)->json_name() == name) field = desc->field(i);
        }
      }
      std::string field_path = Join(path, field ? field->name() : name);
      if (field == nullptr) {
        Error(key, field_path, absl::StrCat("unknown field of ", desc->name()));
        continue;
      }
      Record(key, field_path);
      if (!seen.insert(field).second) {
        Error(key, field_path, "field given more than once");
        continue;
      }
      if (value.IsNull() || !value.IsDefined()) continue;  // null means unset
      if (const auto* oneof = field->containing_oneof()) {
        bool clash = false;
        for (const FieldDescriptor* other : seen) {
          if (other != field && other->containing_oneof() == oneof) clash = true;
        }
        if (clash) {
          Error(key, field_path,
                absl::StrCat("only one of the ", oneof->name(), " fields may be set"));
          continue;
        }
      }
      if (!first) json.push_back(',');
      first = false;
      AppendJsonString(json, field->name());
      json.push_back(':');
      Field(value, field, field_path, json);
    }
    json.push_back('}');
  }

 private:
  static std::string Join(const std::string& path, const std::string& name) {
    return path.empty() ? name : absl::StrCat(path, ".", name);
  }

  void Record(const YAML::Node& node, const std::string& path) {
    if (node.Mark().line >= 0) doc_.lines.emplace(path, node.Mark().line + 1);
  }

  void Error(const YAML::Node& node, const std::string& path, std::string message) {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    doc_.errors.push_back({path, std::move(message), line});
  }

  void Field(const YAML::Node& value, const FieldDescriptor* field, const std::string& path,
             std::string& json) {
    if (field->is_map()) {
      Map(value, field, path, json);
    } else if (field->is_repeated()) {
      if (!value.IsSequence()) {
        Error(value, path, "expected a list, got " + KindName(value));
        json += "[]";
        return;
      }
      json.push_back('[');
      for (size_t i = 0; i < value.size(); ++i) {
        std::string item_path = absl::StrCat(path, "[", i, "]");
        Record(value[i], item_path);
        if (i > 0) json.push_back(',');
        Single(value[i], field, item_path, json);
      }
      json.push_back(']');
    } else {
      Single(value, field, path, json);
    }
  }

  void Map(const YAML::Node& value, const FieldDescriptor* field, const std::string& path,
           std::string& json) {
    if (!value.IsMap()) {
      Error(value, path, "expected a mapping of keys to values, got " + KindName(value));
      json += "{}";
      return;
    }
    const FieldDescriptor* value_field = field->message_type()->map_value();
    json.push_back('{');
    bool first = true;
    std::set<std::string> keys;
    for (const auto& kv : value) {
      if (!kv.first.IsScalar()) {
        Error(kv.first, path, "expected a scalar key, got " + KindName(kv.first));
        continue;
      }
      if (!IsUtf8(kv.first.Scalar())) {
        Error(kv.first, path, "expected keys in UTF-8 text");
        continue;
      }
      std::string entry_path = absl::StrCat(path, "[", kv.first.Scalar(), "]");
      Record(kv.first, entry_path);
      if (!keys.insert(kv.first.Scalar()).second) {
        Error(kv.first, entry_path, "key given more than once");
        continue;
      }
      if (!first) json.push_back(',');
      first = false;
      AppendJsonString(json, kv.first.Scalar());
      json.push_back(':');
      if (kv.second.IsNull()) {
        // "key:" with no value is an empty string, as Kubernetes label maps allow.
        json += "\"\"";
        continue;
      }
      Single(kv.second, value_field, entry_path, json);
    }
    json.push_back('}');
  }

  void Single(const YAML::Node& value, const FieldDescriptor* field, const std::string& path,
              std::string& json) {
    if (field->type() == FieldDescriptor::TYPE_MESSAGE ||
        field->type() == FieldDescriptor::TYPE_GROUP) {
      Message(value, field->message_type(), path, json);
      return;
    }
    if (!value.IsScalar()) {
      Error(value, path, absl::StrCat("expected ", Expected(field), ", got ", KindName(value)));
      json += "null";
      return;
    }
    const std::string& s = value.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (field->type() == FieldDescriptor::TYPE_STRING && !IsUtf8(s)) {
          Error(value, path, "expected UTF-8 text");
          json += "\"\"";
          return;
        }
        AppendJsonString(json, s);
        return;
      case FieldDescriptor::CPPTYPE_BOOL: {
        std::string lower = absl::AsciiStrToLower(s);
        if (lower != "true" && lower != "false") {
          Error(value, path, absl::StrCat("expected true or false, got ", Quote(s)));
          json += "false";
          return;
        }
        json += lower;
        return;
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        Enum(value, field->enum_type(), path, json);
        return;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double d = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) {
          Error(value, path, absl::StrCat("expected a number, got ", Quote(s)));
          json += "0";
          return;
        }
        // Re-printed canonically: YAML accepts spellings (".5", "1.") JSON does not.
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", d);
        json += buf;
        return;
      }
      default:
        Integer(value, field, path, json);
    }
  }

  void Integer(const YAML::Node& value, const FieldDescriptor* field, const std::string& path,
               std::string& json) {
    const std::string& s = value.Scalar();
    int64_t lo = 0;
    uint64_t hi = 0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        lo = std::numeric_limits<int32_t>::min();
        hi = std::numeric_limits<int32_t>::max();
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        hi = std::numeric_limits<uint32_t>::max();
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        lo = std::numeric_limits<int64_t>::min();
        hi = std::numeric_limits<int64_t>::max();
        break;
      default:
        hi = std::numeric_limits<uint64_t>::max();
    }
    bool negative = !s.empty() && s[0] == '-';
    bool ok = false;
    std::string canonical;  // leading zeros dropped: "0080" is 80, and JSON wants "80"
    if (negative) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      ok = ec == std::errc() && end == s.data() + s.size() && v >= lo;
      canonical = std::to_string(v);
    } else {
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      ok = ec == std::errc() && end == s.data() + s.size() && v <= hi;
      canonical = std::to_string(v);
    }
    if (!ok) {
      Error(value, path, absl::StrCat("expected ", Expected(field), ", got ", Quote(s)));
      json += "0";
      return;
    }
    // 64-bit integers travel as strings in the JSON mapping.
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT64 ||
        field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
      AppendJsonString(json, canonical);
    } else {
      json += canonical;
    }
  }

  void Enum(const YAML::Node& value, const EnumDescriptor* type, const std::string& path,
            std::string& json) {
    const std::string& s = value.Scalar();
    const auto* v = type->FindValueByName(s);
    // The zero value means "unset"; a document names a real choice or nothing.
    if (v == nullptr || v->number() == 0) {
      std::string choices;
      for (int i = 1; i < type->value_count(); ++i) {
        absl::StrAppend(&choices, i > 1 ? (i + 1 == type->value_count() ? " or " : ", ") : "",
                        type->value(i)->name());
      }
      Error(value, path, absl::StrCat("expected one of ", choices, ", got ", Quote(s)));
      json += "0";
      return;
    }
    AppendJsonString(json, s);
  }

  // "<seconds>[.<1-9 digits>]s", seconds at most 315576000000 (the protobuf limit).
  static bool IsDuration(const std::string& s) {
    if (s.size() < 2 || s.back() != 's') return false;
    std::string_view number(s.data(), s.size() - 1);
    size_t dot = number.find('.');
    std::string_view whole = number.substr(0, dot);
    if (whole.empty() || whole.size() > 12) return false;
    for (char c : whole) {
      if (c < '0' || c > '9') return false;
    }
    if (std::stoull(std::string(whole)) > 315576000000ULL) return false;
    if (dot == std::string_view::npos) return true;
    std::string_view fraction = number.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 9) return false;
    for (char c : fraction) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  void Duration(const YAML::Node& value, const std::string& path, std::string& json) {
    std::string s = value.IsScalar() ? value.Scalar() : "";
    if (!IsDuration(s)) {
      Error(value, path,
            absl::StrCat("expected a duration in seconds such as \"1.5s\", got ",
                         value.IsScalar() ? Quote(s) : KindName(value)));
      json += "\"0s\"";
      return;
    }
    AppendJsonString(json, s);
  }

  static std::string Expected(const FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: return "an integer";
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: return "a non-negative integer";
      case FieldDescriptor::CPPTYPE_STRING: return "a string";
      case FieldDescriptor::CPPTYPE_BOOL: return "true or false";
      case FieldDescriptor::CPPTYPE_ENUM: return "an enum name";
      default: return "a number";
    }
  }

  ParsedDocument& doc_;
};

}  // namespace

namespace {

// Errors quote what the document said, which may hold newlines or other control
// bytes; an error line must stay one line whatever the input.
std::string OneLine(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

std::string FormatFieldError(std::string_view document, const FieldError& error) {
  std::string out = absl::StrCat(OneLine(document), ": ",
                                 error.path.empty() ? "(document)" : OneLine(error.path), ": ",
                                 OneLine(error.message));
  if (error.line > 0) absl::StrAppend(&out, " (line ", error.line, ")");
  return out;
}

ParsedDocument ParseDocument(std::string_view text, google::protobuf::Message* out) {
  ParsedDocument doc;
  out->Clear();
  std::vector<YAML::Node> roots;
  try {
    roots = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports syntax errors by exception; this is the only place we catch.
    doc.errors.push_back({"", absl::StrCat("not valid YAML or JSON: ", e.msg),
                          e.mark.line >= 0 ? e.mark.line + 1 : 0});
    return doc;
  }
  if (roots.size() > 1) {
    doc.errors.push_back({"", "expected one document, found several (---)", 0});
    return doc;
  }
  if (roots.empty() || roots[0].IsNull()) return doc;  // an empty document is an empty config
  std::string json;
  SchemaWalker(doc).Message(roots[0], out->GetDescriptor(), "", json);
  if (!doc.errors.empty()) return doc;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, out, options);
  if (!status.ok()) {
    // The walker accepts only what the JSON mapping accepts; reaching this is a bug
    // worth reporting plainly rather than hiding.
    doc.errors.push_back({"", absl::StrCat("protobuf JSON mapping rejected the document: ",
                                           std::string(status.message())),
                          0});
  }
  return doc;
}

int LineOf(const LineIndex& lines, std::string_view path) {
  std::string p(path);
  while (true) {
    auto it = lines.find(p);
    if (it != lines.end()) return it->second;
    size_t cut = p.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) return 0;
    p.resize(cut);
  }
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ": read failed: ", std::strerror(errno)));
  }
  return ss.str();
}

}  // namespace weft::config
