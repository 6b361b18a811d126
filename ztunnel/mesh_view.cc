#include "ztunnel/mesh_view.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"

namespace weft::ztunnel {

using weft::config::v1::ClusterConfig;
using weft::config::v1::Service;
using weft::config::v1::Workload;

std::string WorkloadIdentity(const std::string& trust_domain, const Workload& workload) {
  return absl::StrCat("spiffe://", trust_domain, "/ns/", workload.namespace_(), "/sa/",
                      workload.service_account().empty() ? "default" : workload.service_account());
}

std::string NamespaceOfIdentity(const std::string& identity) {
  // spiffe://td/ns/<ns>/sa/<sa>
  const std::string_view id(identity);
  if (!id.starts_with("spiffe://")) return "";
  size_t ns = id.find("/ns/", 9);
  if (ns == std::string_view::npos) return "";
  size_t end = id.find("/sa/", ns + 4);
  if (end == std::string_view::npos) return "";
  return std::string(id.substr(ns + 4, end - ns - 4));
}

namespace {

int FamilyOf(const std::string& address) {
  in6_addr buf;
  if (inet_pton(AF_INET, address.c_str(), &buf) == 1) return AF_INET;
  if (inet_pton(AF_INET6, address.c_str(), &buf) == 1) return AF_INET6;
  return 0;
}

std::string VipKey(const std::string& address, uint16_t port) {
  return absl::StrCat(address, "|", port);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const MeshView>> MeshView::Create(ClusterConfig config,
                                                                 uint64_t version,
                                                                 const std::string& node) {
  std::shared_ptr<MeshView> view(new MeshView());
  view->config_ = std::move(config);
  view->version_ = version;
  view->node_ = node;
  view->trust_domain_ = view->config_.mesh().trust_domain().empty()
                            ? "cluster.local"
                            : view->config_.mesh().trust_domain();
  absl::StatusOr<std::unique_ptr<const authz::AuthorizationEvaluator>> authorizer =
      authz::AuthorizationEvaluator::Create(view->config_);
  if (!authorizer.ok()) return authorizer.status();
  view->authorizer_ = *std::move(authorizer);

  const std::set<std::string> ambient = config::AmbientNamespaces(view->config_);
  const ClusterConfig& c = view->config_;
  view->workloads_.reserve(c.workloads_size());
  for (const Workload& w : c.workloads()) {
    WorkloadInfo info;
    info.proto = &w;
    info.identity = WorkloadIdentity(view->trust_domain_, w);
    info.in_mesh = config::WorkloadInMesh(ambient, w);
    info.healthy = w.health() != Workload::UNHEALTHY;
    info.inbound_mode = config::InboundModeFor(c, w);
    info.authz_destination.namespace_ = w.namespace_();
    info.authz_destination.labels.insert(w.labels().begin(), w.labels().end());
    const size_t index = view->workloads_.size();
    view->workloads_.push_back(std::move(info));
    view->workload_by_uid_.emplace(w.uid(), index);
    for (const std::string& address : w.addresses()) {
      view->workload_by_address_.emplace(address, index);
    }
  }
  for (const Service& s : c.services()) {
    const size_t index = view->services_.size();
    ServiceInfo info{&s, absl::StrCat(s.namespace_(), "/", s.name()), {}};
    std::set<size_t> seen;
    for (const auto& endpoint : s.endpoints()) {
      auto it = view->workload_by_uid_.find(endpoint.workload_uid());
      if (it != view->workload_by_uid_.end() && seen.insert(it->second).second) {
        info.members.emplace_back(it->second, endpoint.port());
      }
    }
    if (!s.selector().empty()) {
      for (size_t i = 0; i < view->workloads_.size(); ++i) {
        const Workload& w = *view->workloads_[i].proto;
        if (w.namespace_() != s.namespace_() || seen.count(i)) continue;
        bool match = true;
        for (const auto& [key, value] : s.selector()) {
          auto label = w.labels().find(key);
          if (label == w.labels().end() || label->second != value) match = false;
        }
        if (match) info.members.emplace_back(i, 0);
      }
    }
    view->services_.push_back(std::move(info));
    for (const std::string& vip : s.vips()) {
      for (const auto& port : s.ports()) {
        view->service_by_vip_.emplace(VipKey(vip, static_cast<uint16_t>(port.port())), index);
      }
    }
  }
  return std::shared_ptr<const MeshView>(std::move(view));
}

const WorkloadInfo* MeshView::WorkloadByUid(const std::string& uid) const {
  auto it = workload_by_uid_.find(uid);
  return it == workload_by_uid_.end() ? nullptr : &workloads_[it->second];
}

const WorkloadInfo* MeshView::WorkloadByAddress(const std::string& address) const {
  auto it = workload_by_address_.find(address);
  return it == workload_by_address_.end() ? nullptr : &workloads_[it->second];
}

const ServiceInfo* MeshView::ServiceByVip(const std::string& address, uint16_t port) const {
  auto it = service_by_vip_.find(VipKey(address, port));
  return it == service_by_vip_.end() ? nullptr : &services_[it->second];
}

std::vector<ServiceEndpoint> MeshView::Endpoints(const ServiceInfo& service, uint16_t port,
                                                 int family) const {
  uint16_t target_port = port;
  for (const auto& p : service.proto->ports()) {
    if (p.port() == port && p.target_port() != 0) target_port = static_cast<uint16_t>(p.target_port());
  }
  std::vector<ServiceEndpoint> out;
  for (const auto& [index, port_override] : service.members) {
    const WorkloadInfo* w = &workloads_[index];
    if (!w->healthy) continue;
    for (const std::string& address : w->proto->addresses()) {
      if (FamilyOf(address) != family) continue;
      out.push_back(ServiceEndpoint{
          w, address, port_override != 0 ? static_cast<uint16_t>(port_override) : target_port});
      break;
    }
  }
  return out;
}

std::set<std::string> MeshView::LocalIdentities() const {
  std::set<std::string> out;
  for (const WorkloadInfo& w : workloads_) {
    if (w.in_mesh && w.proto->node() == node_) out.insert(w.identity);
  }
  return out;
}

}  // namespace weft::ztunnel
