// MetricsRegistry validation (no exceptions escape prometheus-cpp) and text exposition,
// including the event loop counters collector.
#include "common/admin/metrics_registry.h"

#include "common/admin/event_loop_collector.h"
#include "gtest/gtest.h"

namespace weft::admin {
namespace {

TEST(MetricsRegistryTest, CountersAppearInTheTextExposition) {
  MetricsRegistry registry;
  absl::StatusOr<prometheus::Counter*> c =
      registry.Counter("weft_test_requests_total", "Test requests.", {{"route", "a"}});
  ASSERT_TRUE(c.ok()) << c.status();
  (*c)->Increment(3);
  // Same name, type and labels: the same series.
  absl::StatusOr<prometheus::Counter*> again =
      registry.Counter("weft_test_requests_total", "Test requests.", {{"route", "a"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *c);
  absl::StatusOr<prometheus::Histogram*> h =
      registry.Histogram("weft_test_latency_seconds", "Latency.", {0.001, 0.01, 0.1});
  ASSERT_TRUE(h.ok()) << h.status();
  (*h)->Observe(0.005);

  const std::string text = registry.SerializeText();
  EXPECT_NE(text.find("# TYPE weft_test_requests_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("weft_test_requests_total{route=\"a\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("weft_test_latency_seconds_bucket{le=\"0.01\"} 1"), std::string::npos)
      << text;
}

TEST(MetricsRegistryTest, BadRegistrationsAreStatusesNotExceptions) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.Counter("1bad name", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Counter("weft_ok_total", "x", {{"bad-label", "v"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry.Gauge("weft_thing", "x").ok());
  EXPECT_EQ(registry.Counter("weft_thing", "x").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Histogram("weft_h", "x", {1.0, 0.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MetricsRegistryTest, EventLoopCountersAreExported) {
  absl::StatusOr<std::unique_ptr<event::EventLoop>> loop =
      event::EventLoop::Create({.name = "metrics-loop"});
  ASSERT_TRUE(loop.ok()) << loop.status();
  (*loop)->AddTimer(std::chrono::milliseconds(1), [&] { (*loop)->Stop(); });
  ASSERT_TRUE((*loop)->Run().ok());

  MetricsRegistry registry;
  auto collector =
      std::make_shared<EventLoopCollector>(std::vector<const event::EventLoop*>{loop->get()});
  registry.AddCollectable(collector);
  std::string text = registry.SerializeText();
  EXPECT_NE(text.find("weft_event_loop_timers_fired_total{loop=\"metrics-loop\"} 1"),
            std::string::npos)
      << text;
  collector.reset();  // dropped by its owner: gone from the next scrape
  text = registry.SerializeText();
  EXPECT_EQ(text.find("weft_event_loop_timers_fired_total"), std::string::npos);
}

}  // namespace
}  // namespace weft::admin
