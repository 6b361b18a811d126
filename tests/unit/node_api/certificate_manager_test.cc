// CertificateManager against a fake clock and a fake issuer.
#include "ztunnel/identity/certificate_manager.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/unit/node_api/node_api_test_support.h"

namespace weft::ztunnel {
namespace {

using nodeapi_testing::WaitUntil;

constexpr char kCart[] = "spiffe://cluster.local/ns/shop/sa/cart";
constexpr char kPay[] = "spiffe://cluster.local/ns/shop/sa/pay";

class FakeClock {
 public:
  absl::Time Now() const {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Set(absl::Time t) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) { Set(Now() + d); }

 private:
  mutable std::mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1'750'000'000);
};

// Grants `lifetime` from the fake clock's now; can be told to fail or to hold every call until
// released.
class FakeIssuer {
 public:
  explicit FakeIssuer(FakeClock* clock) : clock_(clock) {}

  absl::StatusOr<IssuedCert> Issue(const std::string& identity, const std::string& csr_pem) {
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back(clock_->Now());
    csrs_.push_back(csr_pem);
    ++in_flight_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !holding_; });
    --in_flight_;
    if (failing_) return absl::UnavailableError("agent unreachable");
    const absl::Time now = clock_->Now();
    return IssuedCert{absl::StrCat("chain for ", identity, " #", calls_.size()), "bundle", now,
                      now + lifetime_};
  }

  void SetFailing(bool failing) {
    std::lock_guard<std::mutex> lock(mu_);
    failing_ = failing;
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    holding_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      holding_ = false;
    }
    changed_.notify_all();
  }
  bool WaitInFlight() {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight_ > 0; });
  }
  std::vector<absl::Time> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<std::string> csrs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return csrs_;
  }
  absl::Duration lifetime() const { return lifetime_; }

 private:
  FakeClock* const clock_;
  const absl::Duration lifetime_ = absl::Hours(10);
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<absl::Time> calls_;
  std::vector<std::string> csrs_;
  int in_flight_ = 0;
  bool failing_ = false;
  bool holding_ = false;
};

class CertificateManagerTest : public ::testing::Test {
 protected:
  std::unique_ptr<CertificateManager> Start(std::function<double()> uniform01 = nullptr) {
    CertificateManager::Options options;
    options.issuer = [this](const std::string& identity, const std::string& csr, absl::Duration) {
      return issuer_.Issue(identity, csr);
    };
    options.key_generator = [this](const std::string&) -> absl::StatusOr<KeyAndCsr> {
      const int n = ++keys_made_;
      return KeyAndCsr{absl::StrCat("key ", n), absl::StrCat("csr ", n)};
    };
    options.clock = [this] { return clock_.Now(); };
    options.max_idle_wait = absl::Milliseconds(1);
    options.uniform01 = std::move(uniform01);
    auto manager = CertificateManager::Create(std::move(options));
    EXPECT_TRUE(manager.ok()) << manager.status();
    return *std::move(manager);
  }

  // Moves the fake clock to the identity's next attempt and waits until that attempt is done.
  void RunNextAttempt(CertificateManager& manager, const std::string& identity) {
    const size_t calls = issuer_.calls().size();
    clock_.Set(manager.State(identity)->next_attempt);
    ASSERT_TRUE(WaitUntil([&] {
      auto state = manager.State(identity);
      return issuer_.calls().size() > calls && state->next_attempt > clock_.Now();
    }));
  }

  FakeClock clock_;
  FakeIssuer issuer_{&clock_};
  std::atomic<int> keys_made_{0};
};

TEST_F(CertificateManagerTest, NewIdentityIsFetchedAtOnce) {
  auto manager = Start();
  EXPECT_EQ(manager->Current(kCart), nullptr);
  manager->SetIdentities({kCart});
  ASSERT_TRUE(manager->WaitFor(kCart, absl::Seconds(5)).ok());
  auto credentials = manager->Current(kCart);
  ASSERT_NE(credentials, nullptr);
  EXPECT_EQ(credentials->identity, kCart);
  EXPECT_EQ(credentials->private_key_pem, "key 1");
  EXPECT_EQ(credentials->trust_bundle_pem, "bundle");
  EXPECT_EQ(issuer_.csrs(), std::vector<std::string>{"csr 1"});
  EXPECT_EQ(manager->issued(), 1u);
  EXPECT_EQ(manager->WaitFor(kPay, absl::Milliseconds(10)).code(), absl::StatusCode::kNotFound);
}

TEST_F(CertificateManagerTest, RotatesAtHalfLifeWithinTheJitterAndWithAFreshKey) {
  const absl::Time start = clock_.Now();
  auto manager = Start();  // real jitter
  manager->SetIdentities({kCart});
  ASSERT_TRUE(manager->WaitFor(kCart, absl::Seconds(5)).ok());
  const absl::Duration lifetime = issuer_.lifetime();
  const absl::Time renew_at = manager->State(kCart)->next_attempt;
  EXPECT_GE(renew_at, start + lifetime / 2 * 0.8);
  EXPECT_LE(renew_at, start + lifetime / 2 * 1.2);

  // Nothing happens just before the renewal time...
  clock_.Set(renew_at - absl::Seconds(1));
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(issuer_.calls().size(), 1u);
  // ...and the renewal happens at it, with a new key.
  ASSERT_NO_FATAL_FAILURE(RunNextAttempt(*manager, kCart));
  EXPECT_EQ(issuer_.calls().back(), renew_at);
  EXPECT_TRUE(WaitUntil([&] { return manager->Current(kCart)->private_key_pem == "key 2"; }));
  EXPECT_EQ(issuer_.csrs().back(), "csr 2");
}

TEST_F(CertificateManagerTest, RenewalTimesAreSpreadByJitter) {
  RotationSchedule schedule({}, [] {
    static std::mt19937_64 engine(7);
    return std::uniform_real_distribution<double>(0, 1)(engine);
  });
  const absl::Time nb = absl::FromUnixSeconds(0);
  std::set<absl::Time> seen;
  for (int i = 0; i < 50; ++i) {
    absl::Time at = schedule.RenewAt(nb, nb + absl::Hours(10));
    EXPECT_GE(at, nb + absl::Hours(4));
    EXPECT_LE(at, nb + absl::Hours(6));
    seen.insert(at);
  }
  EXPECT_GT(seen.size(), 40u) << "renewals are not jittered";
}

TEST_F(CertificateManagerTest, FailuresAreRetriedWithGrowingBackoff) {
  issuer_.SetFailing(true);
  auto manager = Start([] { return 0.5; });  // jitter factor exactly 1
  manager->SetIdentities({kCart});
  ASSERT_TRUE(WaitUntil([&] { return manager->State(kCart)->consecutive_failures == 1; }));
  std::vector<absl::Duration> delays;
  for (int i = 0; i < 10; ++i) {
    delays.push_back(manager->State(kCart)->next_attempt - issuer_.calls().back());
    ASSERT_NO_FATAL_FAILURE(RunNextAttempt(*manager, kCart));
  }
  EXPECT_EQ(delays[0], absl::Milliseconds(200));
  EXPECT_EQ(delays[1], absl::Milliseconds(400));
  EXPECT_EQ(delays[2], absl::Milliseconds(800));
  EXPECT_EQ(delays[8], absl::Seconds(30));  // 200 ms * 2^8 = 51.2 s, capped
  EXPECT_EQ(delays[9], absl::Seconds(30));
  EXPECT_GE(manager->failed(), 11u);
  EXPECT_EQ(manager->Current(kCart), nullptr);
  EXPECT_EQ(manager->WaitFor(kCart, absl::Milliseconds(20)).code(),
            absl::StatusCode::kDeadlineExceeded);

  // The first success ends the backoff.
  issuer_.SetFailing(false);
  ASSERT_NO_FATAL_FAILURE(RunNextAttempt(*manager, kCart));
  EXPECT_NE(manager->Current(kCart), nullptr);
  EXPECT_EQ(manager->State(kCart)->consecutive_failures, 0);
}

TEST_F(CertificateManagerTest, OldCertificateServesUntilItExpiresThenNothing) {
  auto manager = Start([] { return 0.5; });
  manager->SetIdentities({kCart});
  ASSERT_TRUE(manager->WaitFor(kCart, absl::Seconds(5)).ok());
  const absl::Time not_after = manager->Current(kCart)->not_after;
  issuer_.SetFailing(true);

  // Renewal at half-life fails; the first certificate stays in use meanwhile.
  ASSERT_NO_FATAL_FAILURE(RunNextAttempt(*manager, kCart));
  EXPECT_EQ(manager->State(kCart)->consecutive_failures, 1);
  ASSERT_NE(manager->Current(kCart), nullptr);
  clock_.Set(not_after - absl::Seconds(1));
  EXPECT_NE(manager->Current(kCart), nullptr);
  // Never past its not_after, however renewal is going.
  clock_.Set(not_after);
  EXPECT_EQ(manager->Current(kCart), nullptr);
}

TEST_F(CertificateManagerTest, ReadersAreNotBlockedByAnIssuanceInFlight) {
  auto manager = Start([] { return 0.5; });
  manager->SetIdentities({kCart});
  ASSERT_TRUE(manager->WaitFor(kCart, absl::Seconds(5)).ok());

  issuer_.Hold();
  clock_.Set(manager->State(kCart)->next_attempt);
  ASSERT_TRUE(issuer_.WaitInFlight());
  const absl::Time start = absl::Now();
  auto credentials = manager->Current(kCart);
  auto state = manager->State(kCart);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(50));
  ASSERT_NE(credentials, nullptr);
  EXPECT_EQ(credentials->private_key_pem, "key 1");  // the old one, until the new one arrives
  issuer_.Release();
  EXPECT_TRUE(WaitUntil([&] { return manager->Current(kCart)->private_key_pem == "key 2"; }));
}

TEST_F(CertificateManagerTest, RemovedIdentitiesAreForgotten) {
  std::vector<std::string> changes;
  std::mutex changes_mu;
  auto manager = Start();
  manager->SetIdentities({kCart, kPay});
  ASSERT_TRUE(manager->WaitFor(kCart, absl::Seconds(5)).ok());
  ASSERT_TRUE(manager->WaitFor(kPay, absl::Seconds(5)).ok());
  manager->SetIdentities({kPay});
  EXPECT_EQ(manager->Current(kCart), nullptr);
  EXPECT_FALSE(manager->State(kCart).has_value());
  EXPECT_NE(manager->Current(kPay), nullptr);
}

TEST_F(CertificateManagerTest, OnChangeSeesEveryIssuance) {
  std::mutex mu;
  std::vector<std::string> keys;
  CertificateManager::Options options;
  options.issuer = [this](const std::string& identity, const std::string& csr, absl::Duration) {
    return issuer_.Issue(identity, csr);
  };
  int n = 0;
  options.key_generator = [&n](const std::string&) -> absl::StatusOr<KeyAndCsr> {
    ++n;
    return KeyAndCsr{absl::StrCat("key ", n), "csr"};
  };
  options.clock = [this] { return clock_.Now(); };
  options.max_idle_wait = absl::Milliseconds(1);
  options.on_change = [&](std::shared_ptr<const IdentityCredentials> c) {
    std::lock_guard<std::mutex> lock(mu);
    keys.push_back(c->private_key_pem);
  };
  auto manager = CertificateManager::Create(std::move(options));
  ASSERT_TRUE(manager.ok());
  (*manager)->SetIdentities({kCart});
  ASSERT_TRUE((*manager)->WaitFor(kCart, absl::Seconds(5)).ok());
  ASSERT_NO_FATAL_FAILURE(RunNextAttempt(**manager, kCart));
  (*manager)->Stop();
  EXPECT_EQ(keys, (std::vector<std::string>{"key 1", "key 2"}));
}

}  // namespace
}  // namespace weft::ztunnel
