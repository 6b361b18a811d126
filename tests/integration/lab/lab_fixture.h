// A gtest fixture that owns one lab for the duration of a test: a unique name, `lab up
// --detach` on the two-node topology, and `lab down` in TearDown whatever happened.
#pragma once

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/lab/lab_test_support.h"

namespace weft::lab::testing {

class LabTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!lab_.empty()) Weftctl({"lab", "down", "--name", lab_});
  }

  // Brings up deploy/lab/two-node.yaml as a lab named after `tag`; the test fails
  // (fatally) when `up` does. Without ztunnel, the agents capture a pod once something
  // listens on 15001 in it (tests of the kernel side bring their own listener).
  void StartTwoNodeLab(const std::string& tag, bool with_ztunnel = true) {
    lab_ = UniqueLabName(tag);
    Weftctl({"lab", "down", "--name", lab_});  // a leftover of an aborted earlier run
    std::vector<std::string> args = {"lab", "up", TwoNodeTopologyPath(), "--name", lab_,
                                     "--detach"};
    if (!with_ztunnel) args.push_back("--no-ztunnel");
    ProcessResult up = Weftctl(args);
    ASSERT_EQ(up.exit_code, 0) << "lab up failed: " << up.err << up.out;
    ASSERT_NE(up.out.find("lab " + lab_ + " ready"), std::string::npos) << up.out;
    state_ = ReadLabState(lab_);
    ASSERT_EQ(state_.nodes_size(), 2);
    ASSERT_EQ(state_.pods_size(), 4);
  }

  const weft::lab::state::v1::PodState& Pod(const std::string& name) const {
    for (const auto& pod : state_.pods()) {
      if (pod.name() == name) return pod;
    }
    ADD_FAILURE() << "no pod " << name;
    return state_.pods(0);
  }

  std::string lab_;
  weft::lab::state::v1::LabState state_;
};

}  // namespace weft::lab::testing
