// The file source applies each valid change as a new snapshot and keeps the last
// good one when a change is invalid or the file disappears.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/config/file_config_source.h"
#include "gtest/gtest.h"

namespace weft::config {
namespace {

using Kind = ReloadOutcome::Kind;

constexpr char kGood1[] = "namespaces: [{name: demo}]\n";
constexpr char kGood2[] =
    "namespaces: [{name: demo, labels: {weft.dev/dataplane-mode: ambient}}]\n";
constexpr char kBad[] = "namespaces: [{name: demo, labels: {weft.dev/dataplane-mode: ambient}}]\n"
                        "workloads: [{uid: a, name: a, namespace: nowhere}]\n";

class FileConfigSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("weft-reload-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "cluster.yaml").string();
  }
  void TearDown() override {
    if (source_) source_->Stop();
    std::filesystem::remove_all(dir_);
  }

  void WriteInPlace(const std::string& text) {
    std::ofstream out(path_, std::ios::trunc);
    out << text;
  }
  // How editors and the lab replace files: write aside, then rename over.
  void WriteByRename(const std::string& text) {
    std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(tmp, path_);
  }

  void StartSource() {
    auto source = FileConfigSource::Create({.path = path_}, &store_, [this](const ReloadOutcome& o) {
      std::lock_guard<std::mutex> lock(mu_);
      outcomes_.push_back(o);
      cv_.notify_all();
    });
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = std::move(*source);
    ASSERT_TRUE(source_->Start().ok());
  }

  // Waits (bounded) for an outcome of `kind` after the first `skip` outcomes.
  bool WaitFor(Kind kind, size_t skip, ReloadOutcome* got) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] {
      for (size_t i = skip; i < outcomes_.size(); ++i) {
        if (outcomes_[i].kind == kind) {
          *got = outcomes_[i];
          return true;
        }
      }
      return false;
    });
  }
  size_t Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return outcomes_.size();
  }

  std::filesystem::path dir_;
  std::string path_;
  SnapshotStore store_;
  std::unique_ptr<FileConfigSource> source_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ReloadOutcome> outcomes_;
};

TEST_F(FileConfigSourceTest, AppliesValidChangesAndKeepsLastGoodOnInvalid) {
  WriteInPlace(kGood1);
  StartSource();
  ReloadOutcome o;
  ASSERT_TRUE(WaitFor(Kind::kApplied, 0, &o));
  EXPECT_EQ(o.version, 1u);
  ASSERT_NE(store_.Current(), nullptr);
  EXPECT_TRUE(store_.Current()->config.namespaces(0).labels().empty());

  size_t before = Seen();
  WriteInPlace(kGood2);
  ASSERT_TRUE(WaitFor(Kind::kApplied, before, &o)) << "valid in-place change not applied";
  EXPECT_EQ(o.version, 2u);
  auto good = store_.Current();
  EXPECT_EQ(good->config.namespaces(0).labels().at("weft.dev/dataplane-mode"), "ambient");

  before = Seen();
  WriteByRename(kBad);
  ASSERT_TRUE(WaitFor(Kind::kRejected, before, &o)) << "invalid change not reported";
  EXPECT_EQ(o.version, 2u);
  ASSERT_FALSE(o.errors.empty());
  EXPECT_NE(o.errors[0].find(path_ + ": workloads[0].namespace: "), std::string::npos)
      << o.errors[0];
  EXPECT_EQ(store_.Current(), good) << "an invalid change replaced the snapshot";

  before = Seen();
  std::filesystem::remove(path_);
  ASSERT_TRUE(WaitFor(Kind::kReadError, before, &o));
  EXPECT_EQ(store_.Current(), good);

  before = Seen();
  WriteByRename(kGood1);
  ASSERT_TRUE(WaitFor(Kind::kApplied, before, &o)) << "recovery after a bad change";
  EXPECT_EQ(o.version, 3u);
  EXPECT_TRUE(store_.Current()->config.namespaces(0).labels().empty());
}

TEST_F(FileConfigSourceTest, InvalidAtStartPublishesNothingUntilFixed) {
  WriteInPlace(kBad);
  StartSource();
  ReloadOutcome o;
  ASSERT_TRUE(WaitFor(Kind::kRejected, 0, &o));
  EXPECT_EQ(o.version, 0u);
  EXPECT_EQ(store_.Current(), nullptr);
  size_t before = Seen();
  WriteByRename(kGood2);
  ASSERT_TRUE(WaitFor(Kind::kApplied, before, &o));
  EXPECT_EQ(o.version, 1u);
}

TEST_F(FileConfigSourceTest, SameContentPublishesNothing) {
  WriteInPlace(kGood1);
  StartSource();
  ReloadOutcome o;
  ASSERT_TRUE(WaitFor(Kind::kApplied, 0, &o));
  size_t before = Seen();
  WriteByRename(kGood1);
  ASSERT_TRUE(WaitFor(Kind::kUnchanged, before, &o));
  EXPECT_EQ(store_.Current()->version, 1u);
}

TEST_F(FileConfigSourceTest, SubscribersSeeEverySnapshotInOrder) {
  std::vector<uint64_t> seen;
  store_.Subscribe([&](std::shared_ptr<const ConfigSnapshot> s) { seen.push_back(s->version); });
  WriteInPlace(kGood1);
  StartSource();
  ReloadOutcome o;
  ASSERT_TRUE(WaitFor(Kind::kApplied, 0, &o));
  size_t before = Seen();
  WriteInPlace(kGood2);
  ASSERT_TRUE(WaitFor(Kind::kApplied, before, &o));
  source_->Stop();
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace weft::config
