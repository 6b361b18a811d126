#include "ztunnel/outbound_connection.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log/logger.h"
#include "ztunnel/original_destination.h"
#include "ztunnel/socket_leg.h"
#include "ztunnel/stream_leg.h"
#include "ztunnel/upstream_connect.h"

namespace weft::ztunnel {
namespace {

constexpr uint16_t kHbonePort = 15008;

// Where the connection goes after service resolution.
struct Target {
  const WorkloadInfo* workload = nullptr;  // nullptr: outside anything we know
  const ServiceInfo* service = nullptr;
  event::SocketAddress address;
};

std::unique_ptr<event::ConnectionHandler> Refuse(SharedState& shared, ConnectionRecord record,
                                                 const std::string& reason,
                                                 const absl::Status& detail) {
  if (shared.telemetry() != nullptr) {
    shared.telemetry()->Failed(record, reason, std::string(detail.message()));
  }
  return nullptr;
}

std::string ForwardedFor(const std::string& ip) {
  // RFC 7239: an IPv6 node is bracketed and quoted.
  if (ip.find(':') != std::string::npos) return absl::StrCat("for=\"[", ip, "]\"");
  return absl::StrCat("for=", ip);
}

std::string PodAddressOfFamily(const PodContext& pod, int family) {
  for (const std::string& a : pod.addresses) {
    const bool v6 = a.find(':') != std::string::npos;
    if (v6 == (family == AF_INET6)) return a;
  }
  return pod.addresses.empty() ? std::string() : pod.addresses.front();
}

}  // namespace

std::string NewTraceparent() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  uint64_t hi = random(), lo = random(), span = random();
  if (hi == 0 && lo == 0) lo = 1;  // all-zero ids are invalid
  if (span == 0) span = 1;
  return absl::StrFormat("00-%016x%016x-%016x-01", hi, lo, span);
}

std::unique_ptr<event::ConnectionHandler> AcceptOutbound(Worker& worker,
                                                         const std::shared_ptr<const PodContext>& pod,
                                                         event::ConnectionId id) {
  SharedState& shared = worker.shared();
  event::EventLoop& loop = worker.loop();
  ConnectionRecord record;
  record.direction = "outbound";
  record.reporter = "source";
  std::shared_ptr<const MeshView> view = shared.view();
  const WorkloadInfo* source = view ? view->WorkloadByUid(pod->uid) : nullptr;
  if (source != nullptr) {
    record.source_workload = source->proto->name();
    record.source_namespace = source->proto->namespace_();
    record.source_principal = source->identity;
  }
  absl::StatusOr<event::SocketAddress> original = OriginalDestination(loop.NativeFd(id));
  if (!original.ok()) return Refuse(shared, record, "no_original_destination", original.status());
  record.destination_address = original->ToString();
  if (source == nullptr) {
    return Refuse(shared, record, "unknown_source",
                  absl::FailedPreconditionError(absl::StrCat("pod ", pod->uid, " is not in config")));
  }
  const std::string source_ip = PodAddressOfFamily(*pod, original->family());
  record.source_address = source_ip;

  // Service VIP -> endpoint; else a workload address; else outside the mesh.
  Target target{nullptr, nullptr, *original};
  const std::string dst_ip = original->IpString();
  if (const ServiceInfo* service = view->ServiceByVip(dst_ip, original->port())) {
    target.service = service;
    record.destination_service = service->key;
    std::vector<ServiceEndpoint> endpoints =
        view->Endpoints(*service, original->port(), original->family());
    const ServiceEndpoint* chosen = worker.balancer().Pick(*service, endpoints);
    if (chosen == nullptr) {
      return Refuse(shared, record, "no_healthy_endpoint",
                    absl::UnavailableError(absl::StrCat("service ", service->key,
                                                        " has no healthy endpoint")));
    }
    target.workload = chosen->workload;
    absl::StatusOr<event::SocketAddress> address =
        event::SocketAddress::FromIp(chosen->address, chosen->port);
    if (!address.ok()) return Refuse(shared, record, "bad_endpoint", address.status());
    target.address = *address;
  } else {
    target.workload = view->WorkloadByAddress(dst_ip);
  }
  if (target.workload != nullptr) {
    record.destination_workload = target.workload->proto->name();
    record.destination_namespace = target.workload->proto->namespace_();
  }
  record.destination_address = target.address.ToString();

  const bool mesh = target.workload != nullptr && target.workload->in_mesh;
  std::string endpoint_key = target.address.ToString();
  Relay::Hooks hooks;
  if (target.service != nullptr) {
    worker.balancer().Started(endpoint_key);
    hooks.on_finished = [balancer = &worker.balancer(), endpoint_key] {
      balancer->Finished(endpoint_key);
    };
  }
  if (mesh) {
    record.security_policy = "mutual_tls";
    record.destination_principal = target.workload->identity;
  }
  auto relay = std::make_shared<Relay>(shared.telemetry(), record, std::move(hooks));
  auto downstream = std::make_unique<SocketLeg>(relay, Relay::kDownstream, /*connecting=*/false);
  downstream->Bind(&loop, id);
  relay->Attach(Relay::kDownstream, downstream.get());

  if (mesh) {
    IdentityTls tls = shared.TlsFor(source->identity);
    if (tls.client == nullptr) {
      relay->Fail("no_certificate", absl::UnavailableError(absl::StrCat(
                                        "no valid certificate for ", source->identity)));
      return nullptr;
    }
    absl::StatusOr<event::SocketAddress> hbone =
        event::SocketAddress::FromIp(target.address.IpString(), kHbonePort);
    if (!hbone.ok()) {
      relay->Fail("bad_endpoint", hbone.status());
      return nullptr;
    }
    hbone::ConnectRequest request;
    request.authority = target.address.ToString();
    request.forwarded = ForwardedFor(source_ip);
    request.traceparent = NewTraceparent();
    auto leg = std::make_unique<StreamLeg>(relay, Relay::kUpstream);
    absl::StatusOr<int32_t> stream = worker.pool().OpenStream(
        PoolKey{source->identity, target.workload->identity, hbone->ToString()},
        HboneConnectionPool::Dial{pod->netns->get(), tls.client, *hbone}, request,
        std::move(leg));
    if (!stream.ok()) {
      relay->Fail("hbone_connect", stream.status());
      return nullptr;
    }
  } else if (!ConnectUpstream(worker, *pod, target.address, relay, "connect").ok()) {
    return nullptr;
  }
  worker.Track(pod->uid, relay);
  return downstream;
}

}  // namespace weft::ztunnel
