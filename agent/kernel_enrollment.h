// The kernel half of enrollment. For an enrolled pod:
//  - outbound: its netns cookie and addresses go into the capture program's maps, so
//    its next TCP connect() is sent to ztunnel's outbound port;
//  - inbound: the sk_lookup program is attached to its netns with the pod's
//    addresses and mode (PERMISSIVE steers plaintext to ztunnel's 15006 listener,
//    STRICT refuses it);
//  - the loopback short-circuit (when on) tracks its loopback sockets.
// Unenrolling undoes all three; established connections are left alone.
#pragma once

#include "agent/bpf/capture/capture_program.h"
#include "agent/bpf/inbound/inbound_steering.h"
#include "agent/bpf/inbound/loopback_short_circuit.h"
#include "agent/enrollment/enrollment_controller.h"
#include "weft/config/v1/config.pb.h"

namespace weft::agent {

class KernelEnrollment : public EnrollmentBackend {
 public:
  KernelEnrollment(weft::bpf::capture::CaptureProgram* capture, weft::bpf::InboundSteering* inbound,
                   weft::bpf::LoopbackShortCircuit* short_circuit)
      : capture_(capture), inbound_(inbound), short_circuit_(short_circuit) {}

  absl::Status Enroll(const EnrolledPod& pod) override;
  absl::Status Unenroll(const EnrolledPod& pod) override;
  absl::StatusOr<std::set<uint64_t>> EnrolledInKernel() override;
  absl::Status UpdateInboundListeners(const EnrolledPod& pod) override;

  // mesh.excluded_ports / excluded_cidrs of a snapshot (outbound capture).
  absl::Status ApplyExclusions(const weft::config::v1::MeshSettings& mesh);

 private:
  absl::Status EnrollInbound(const EnrolledPod& pod);

  weft::bpf::capture::CaptureProgram* const capture_;
  weft::bpf::InboundSteering* const inbound_;
  weft::bpf::LoopbackShortCircuit* const short_circuit_;
};

}  // namespace weft::agent
