// Shared state of one validation run: the error list, line lookup, and indexes of
// what the config declares (namespaces, workloads, services) for reference checks.
#pragma once

#include <map>
#include <set>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config/document_parser.h"
#include "weft/config/v1/config.pb.h"

namespace weft::config {

class ValidationContext {
 public:
  ValidationContext(const weft::config::v1::ClusterConfig& config, const LineIndex& lines);

  void Error(const std::string& path, std::string message) {
    errors_.push_back({path, std::move(message), LineOf(lines_, path)});
  }
  // Reports `problem` (from value_checks.h) when it is not empty.
  void Check(const std::string& path, const std::string& problem) {
    if (!problem.empty()) Error(path, problem);
  }
  // name + namespace present and well-formed, namespace declared, (ns,name) unique
  // within `kind`.
  void CheckObjectName(const std::string& path, const std::string& kind, const std::string& ns,
                       const std::string& name);
  void CheckLabels(const std::string& path, const google::protobuf::Map<std::string, std::string>& labels);
  // A selector must pick at least one workload of `ns`.
  void CheckSelectorMatches(const std::string& path, const std::string& ns,
                            const google::protobuf::Map<std::string, std::string>& match);

  bool NamespaceDeclared(const std::string& ns) const { return namespaces_.count(ns) > 0; }
  bool WorkloadExists(const std::string& uid) const { return workload_uids_.count(uid) > 0; }
  const weft::config::v1::Service* FindService(const std::string& ns,
                                               const std::string& name) const;

  std::vector<FieldError> TakeErrors() { return std::move(errors_); }

 private:
  const weft::config::v1::ClusterConfig& config_;
  const LineIndex& lines_;
  std::vector<FieldError> errors_;
  std::set<std::string> namespaces_;
  std::set<std::string> workload_uids_;
  std::map<std::pair<std::string, std::string>, const weft::config::v1::Service*> services_;
  std::set<std::tuple<std::string, std::string, std::string>> object_names_;
};

// Per-kind checks; each appends to the context.
void ValidateMesh(ValidationContext& ctx, const weft::config::v1::ClusterConfig& config);
void ValidateNamespaces(ValidationContext& ctx, const weft::config::v1::ClusterConfig& config);
void ValidateWorkloads(ValidationContext& ctx, const weft::config::v1::ClusterConfig& config);
void ValidateServices(ValidationContext& ctx, const weft::config::v1::ClusterConfig& config);
void ValidateAuthorizationPolicies(ValidationContext& ctx,
                                   const weft::config::v1::ClusterConfig& config);
void ValidatePeerAuthentications(ValidationContext& ctx,
                                 const weft::config::v1::ClusterConfig& config);
void ValidateHttpRoutes(ValidationContext& ctx, const weft::config::v1::ClusterConfig& config);
void ValidateTrafficPolicies(ValidationContext& ctx,
                             const weft::config::v1::ClusterConfig& config);

inline std::string Item(const std::string& list, int index) {
  return absl::StrCat(list, "[", index, "]");
}

}  // namespace weft::config
