#include "agent/kernel_enrollment.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"

namespace weft::agent {
namespace {

weft::bpf::InboundMode ToSteeringMode(InboundMode mode) {
  return mode == InboundMode::kStrict ? weft::bpf::InboundMode::kStrict : weft::bpf::InboundMode::kPermissive;
}

absl::Status IgnoreNotFound(absl::Status s) { return absl::IsNotFound(s) ? absl::OkStatus() : s; }

}  // namespace

absl::Status KernelEnrollment::EnrollInbound(const EnrolledPod& pod) {
  if (!pod.netns_fd) {
    return absl::FailedPreconditionError(
        absl::StrCat("workload ", pod.workload.uid, ": no netns fd to attach sk_lookup to"));
  }
  absl::StatusOr<uint64_t> cookie = inbound_->Attach(*pod.netns_fd, ToSteeringMode(pod.workload.mode));
  if (!cookie.ok()) return cookie.status();
  for (const std::string& text : pod.workload.addresses) {
    absl::StatusOr<weft::bpf::PodAddress> address = weft::bpf::PodAddress::Parse(text);
    if (!address.ok()) return address.status();
    if (absl::Status s = inbound_->AddPodAddress(*cookie, *address); !s.ok()) return s;
  }
  if (absl::Status s = UpdateInboundListeners(pod); !s.ok()) return s;
  return short_circuit_->Enroll(*cookie);
}

absl::Status KernelEnrollment::UpdateInboundListeners(const EnrolledPod& pod) {
  for (const nodeapi::InboundListenerFd& listener : pod.inbound_listeners) {
    if (absl::Status s = inbound_->RegisterListener(pod.netns_cookie, listener.fd->get()); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status KernelEnrollment::Enroll(const EnrolledPod& pod) {
  if (pod.workload_id >= CAPTURE_MAX_WORKLOADS) {
    return absl::ResourceExhaustedError(absl::StrCat("workload ", pod.workload.uid,
                                                     ": more than ", CAPTURE_MAX_WORKLOADS,
                                                     " workloads enrolled on this node"));
  }
  // Inbound first: by the time connects are captured the pod is fully in the mesh.
  if (absl::Status s = EnrollInbound(pod); !s.ok()) {
    (void)Unenroll(pod);  // leave nothing half-done; the controller retries
    return s;
  }
  weft::bpf::capture::CaptureWorkload workload;
  workload.workload_id = pod.workload_id;
  // The pod's own addresses are never captured (a pod talking to itself).
  for (const std::string& address : pod.workload.addresses) {
    in_addr v4;
    in6_addr v6;
    if (!workload.pod_ipv4 && inet_pton(AF_INET, address.c_str(), &v4) == 1) {
      workload.pod_ipv4 = v4;
    } else if (!workload.pod_ipv6 && inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
      workload.pod_ipv6 = v6;
    }
  }
  return capture_->Enroll(pod.netns_cookie, workload);
}

absl::Status KernelEnrollment::Unenroll(const EnrolledPod& pod) {
  // Outbound first, mirroring Enroll; every step runs even if an earlier one failed.
  absl::Status status = IgnoreNotFound(capture_->Unenroll(pod.netns_cookie));
  for (const std::string& text : pod.workload.addresses) {
    if (absl::StatusOr<weft::bpf::PodAddress> address = weft::bpf::PodAddress::Parse(text); address.ok()) {
      status.Update(IgnoreNotFound(inbound_->RemovePodAddress(*address)));
    }
  }
  status.Update(IgnoreNotFound(inbound_->Detach(pod.netns_cookie)));
  status.Update(IgnoreNotFound(short_circuit_->Unenroll(pod.netns_cookie)));
  return status;
}

absl::StatusOr<std::set<uint64_t>> KernelEnrollment::EnrolledInKernel() {
  absl::StatusOr<std::vector<weft::bpf::capture::EnrolledNetnsEntry>> captured =
      capture_->ListEnrolled();
  if (!captured.ok()) return captured.status();
  std::set<uint64_t> cookies;
  for (const auto& entry : *captured) cookies.insert(entry.netns_cookie);
  for (uint64_t cookie : inbound_->AttachedNetns()) cookies.insert(cookie);
  return cookies;
}

absl::Status KernelEnrollment::ApplyExclusions(const weft::config::v1::MeshSettings& mesh) {
  std::vector<uint16_t> ports(mesh.excluded_ports().begin(), mesh.excluded_ports().end());
  std::vector<std::string> cidrs(mesh.excluded_cidrs().begin(), mesh.excluded_cidrs().end());
  return capture_->SetExclusions(ports, cidrs);
}

}  // namespace weft::agent
