#include "common/config/dataplane_mode.h"

namespace weft::config {
namespace {

bool LabelIs(const google::protobuf::Map<std::string, std::string>& labels, const char* key,
             const char* value) {
  auto it = labels.find(key);
  return it != labels.end() && it->second == value;
}

}  // namespace

bool NamespaceIsAmbient(const weft::config::v1::Namespace& ns) {
  return LabelIs(ns.labels(), kDataplaneModeLabel, kDataplaneModeAmbient);
}

bool WorkloadOptedOut(const weft::config::v1::Workload& workload) {
  return LabelIs(workload.labels(), kDataplaneModeLabel, kDataplaneModeNone);
}

}  // namespace weft::config
