// The controller turns plans and discovered namespaces into enroll/unenroll calls.
#include "agent/enrollment/enrollment_controller.h"

#include <set>

#include "common/config/config_loader.h"
#include "gtest/gtest.h"

namespace weft::agent {
namespace {

class FakeNetns : public NetnsSource {
 public:
  absl::StatusOr<std::map<uint64_t, PodNetns>> Scan() override {
    if (!error.ok()) return error;
    return namespaces;
  }
  void Add(uint64_t inode, std::string address, bool outbound_listener = true) {
    PodNetns ns;
    ns.inode = inode;
    ns.cookie = inode * 1000;
    ns.addresses = {std::move(address)};
    if (outbound_listener) ns.loopback_listeners = {15001};
    namespaces[inode] = ns;
  }
  std::map<uint64_t, PodNetns> namespaces;
  absl::Status error;
};

class RecordingBackend : public EnrollmentBackend {
 public:
  absl::Status Enroll(const EnrolledPod& pod) override {
    if (fail_next) {
      fail_next = false;
      return absl::ResourceExhaustedError("map full");
    }
    enrolled[pod.netns_cookie] = pod.workload_id;
    events.push_back("+" + pod.workload.uid);
    return absl::OkStatus();
  }
  absl::Status Unenroll(const EnrolledPod& pod) override {
    enrolled.erase(pod.netns_cookie);
    events.push_back("-" + pod.workload.uid);
    return absl::OkStatus();
  }
  absl::StatusOr<std::set<uint64_t>> EnrolledInKernel() override {
    std::set<uint64_t> cookies;
    for (const auto& [cookie, id] : enrolled) cookies.insert(cookie);
    return cookies;
  }
  std::map<uint64_t, uint32_t> enrolled;  // cookie -> workload id
  std::vector<std::string> events;
  bool fail_next = false;
};

weft::config::v1::ClusterConfig Cluster(bool ambient, const std::string& extra_label = "") {
  std::string yaml = "namespaces: [{name: shop" +
                     std::string(ambient ? ", labels: {weft.dev/dataplane-mode: ambient}" : "") +
                     "}]\nworkloads:\n"
                     "  - {uid: a, name: a, namespace: shop, node: n1, addresses: [10.0.0.1]" +
                     extra_label +
                     "}\n"
                     "  - {uid: b, name: b, namespace: shop, node: n1, addresses: [10.0.0.2]}\n";
  config::LoadedConfig loaded = config::LoadClusterConfig(yaml);
  EXPECT_TRUE(loaded.ok()) << config::FormatErrors("test", loaded.errors);
  return loaded.config;
}

class EnrollmentControllerTest : public ::testing::Test {
 protected:
  EnrollmentControllerTest() {
    auto netns = std::make_unique<FakeNetns>();
    netns_ = netns.get();
    controller_ = std::make_unique<EnrollmentController>(EnrollmentOptions{.node = "n1"},
                                                         std::move(netns), &backend_, nullptr);
  }
  FakeNetns* netns_;
  RecordingBackend backend_;
  std::unique_ptr<EnrollmentController> controller_;
};

TEST_F(EnrollmentControllerTest, EnrollsPodsWhoseNetnsHasTheirAddress) {
  netns_->Add(1, "10.0.0.1");
  ReconcileResult r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled, 1);
  EXPECT_EQ(r.waiting, 1);  // b has no netns yet
  EXPECT_EQ(backend_.enrolled.count(1000), 1u);
  netns_->Add(2, "10.0.0.2");  // b's sandbox appears later, without a config change
  r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled, 1);
  EXPECT_EQ(r.waiting, 0);
  EXPECT_EQ(backend_.enrolled.size(), 2u);
  EXPECT_NE(backend_.enrolled[1000], backend_.enrolled[2000]) << "workload ids must differ";
  // Nothing changed: nothing is done again.
  r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled + r.unenrolled, 0);
}

TEST_F(EnrollmentControllerTest, WaitsForTheOutboundListenerThenStaysEnrolled) {
  netns_->Add(1, "10.0.0.1", /*outbound_listener=*/false);
  ReconcileResult r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled, 0);
  EXPECT_EQ(r.waiting, 2);
  EXPECT_TRUE(backend_.enrolled.empty()) << "captured into a port nobody listens on";
  netns_->namespaces[1].loopback_listeners = {15001};
  r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled, 1);
  // ztunnel restarting (listener briefly gone) must not release the pod (fail closed).
  netns_->namespaces[1].loopback_listeners.clear();
  r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.unenrolled, 0);
  EXPECT_EQ(backend_.enrolled.size(), 1u);
}

TEST_F(EnrollmentControllerTest, AfterARestartAdoptsWhatTheKernelHoldsAndReleasesTheRest) {
  // The previous agent enrolled pod a (cookie 1000) and a pod since deleted (9000).
  backend_.enrolled = {{1000, 0}, {9000, 1}};
  netns_->Add(1, "10.0.0.1", /*outbound_listener=*/false);  // ztunnel restarting too
  ReconcileResult r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled, 1) << "an inherited pod must not wait for the listener";
  EXPECT_EQ(r.unenrolled, 1);
  EXPECT_EQ(backend_.enrolled.count(1000), 1u);
  EXPECT_EQ(backend_.enrolled.count(9000), 0u) << "stale kernel state kept";
  ASSERT_EQ(controller_->Enrolled().size(), 1u);
  // Adoption happens once: a later unplanned pod still waits for its listener.
  netns_->Add(2, "10.0.0.2", /*outbound_listener=*/false);
  r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled, 0);
}

TEST_F(EnrollmentControllerTest, UnenrollsOnLabelRemovalAndOptOut) {
  netns_->Add(1, "10.0.0.1");
  netns_->Add(2, "10.0.0.2");
  controller_->Reconcile(Cluster(true));
  ASSERT_EQ(backend_.enrolled.size(), 2u);
  ReconcileResult r =
      controller_->Reconcile(Cluster(true, ", labels: {weft.dev/dataplane-mode: none}"));
  EXPECT_EQ(r.unenrolled, 1);
  EXPECT_EQ(backend_.enrolled.count(1000), 0u);
  r = controller_->Reconcile(Cluster(false));
  EXPECT_EQ(r.unenrolled, 1);
  EXPECT_TRUE(backend_.enrolled.empty());
  EXPECT_TRUE(controller_->Enrolled().empty());
}

TEST_F(EnrollmentControllerTest, PodWhoseNetnsWentAwayIsUnenrolledAndIdReused) {
  netns_->Add(1, "10.0.0.1");
  controller_->Reconcile(Cluster(true));
  uint32_t id = backend_.enrolled[1000];
  netns_->namespaces.clear();
  controller_->Reconcile(Cluster(true));
  EXPECT_TRUE(backend_.enrolled.empty());
  netns_->Add(3, "10.0.0.1");  // the pod's new sandbox
  controller_->Reconcile(Cluster(true));
  EXPECT_EQ(backend_.enrolled.count(3000), 1u);
  EXPECT_EQ(backend_.enrolled[3000], id);
}

TEST_F(EnrollmentControllerTest, FailuresAreRetriedAndDiscoveryErrorsChangeNothing) {
  netns_->Add(1, "10.0.0.1");
  backend_.fail_next = true;
  ReconcileResult r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.failed, 1);
  EXPECT_TRUE(backend_.enrolled.empty());
  r = controller_->Reconcile(Cluster(true));
  EXPECT_EQ(r.enrolled, 1);
  netns_->error = absl::InternalError("cgroup gone");
  r = controller_->Reconcile(Cluster(false));
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(backend_.enrolled.size(), 1u) << "a failed scan must not unenroll anything";
}

}  // namespace
}  // namespace weft::agent
