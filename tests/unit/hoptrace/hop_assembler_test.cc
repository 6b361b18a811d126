#include "bench/hoptrace/hop_assembler.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace weft::hoptrace {
namespace {

constexpr uint32_t kClient = 0;
constexpr uint32_t kClientZt = 1;
constexpr uint32_t kServerZt = 2;
constexpr uint32_t kServer = 3;
constexpr Direction kSend = Direction::kSend;
constexpr Direction kRecv = Direction::kRecv;

std::unique_ptr<HopAssembler> NewAssembler() {
  absl::StatusOr<std::unique_ptr<HopAssembler>> a = HopAssembler::Create(
      {"client app", "client ztunnel", "server ztunnel", "server app"}, kClient);
  EXPECT_TRUE(a.ok()) << a.status();
  return *std::move(a);
}

struct Step {
  uint32_t participant;
  Direction direction;
  int64_t delay_ns;  // after the previous event
};

// Feeds `steps` starting at `*now`, advancing it.
void Feed(HopAssembler& a, const std::vector<Step>& steps, int64_t* now) {
  for (const Step& s : steps) {
    *now += s.delay_ns;
    a.Add({*now, s.participant, s.direction, 100, 7, 0});
  }
}

// The 4-stage direct path: 10 µs to the server, 5 µs in it, 20 µs back.
std::vector<Step> DirectTrip() {
  return {{kClient, kSend, 1000},
          {kServer, kRecv, 10000},
          {kServer, kSend, 5000},
          {kClient, kRecv, 20000}};
}

TEST(HopAssemblerTest, CanonicalPathNamesHopsInOrderWithTheirLatency) {
  auto a = NewAssembler();
  int64_t now = 0;
  for (int i = 0; i < 10; ++i) Feed(*a, DirectTrip(), &now);
  const HopReport r = a->Report();
  EXPECT_EQ(r.round_trips, 10u);
  EXPECT_EQ(r.irregular, 0u);
  EXPECT_EQ(r.overlapping, 0u);
  ASSERT_EQ(r.path.size(), 4u);
  EXPECT_EQ(r.path[0], "client app send");
  EXPECT_EQ(r.path[3], "client app recv");
  ASSERT_EQ(r.hops.size(), 3u);
  EXPECT_EQ(r.hops[0].name, "client app send → server app recv");
  EXPECT_EQ(r.hops[1].name, "server app recv → server app send");
  EXPECT_EQ(r.hops[2].name, "server app send → client app recv");
  EXPECT_EQ(r.hops[0].count, 10u);
  EXPECT_NEAR(r.hops[0].p50_us, 10.0, 0.1);
  EXPECT_NEAR(r.hops[1].p50_us, 5.0, 0.05);
  EXPECT_NEAR(r.hops[2].p99_us, 20.0, 0.2);
  EXPECT_NEAR(r.total.mean_us, 35.0, 0.01);
  EXPECT_EQ(r.total.count, 10u);
}

TEST(HopAssemblerTest, ConsecutiveEventsOfOneStageCollapseIntoTheFirst) {
  auto a = NewAssembler();
  int64_t now = 0;
  // The server reads the request in three pieces and the client the answer in two:
  // the hop ends at the first piece, later pieces add nothing.
  Feed(*a,
       {{kClient, kSend, 1000},
        {kClient, kSend, 500},
        {kServer, kRecv, 10000},
        {kServer, kRecv, 3000},
        {kServer, kRecv, 3000},
        {kServer, kSend, 4000},
        {kClient, kRecv, 20000},
        {kClient, kRecv, 1000}},
       &now);
  const HopReport r = a->Report();
  EXPECT_EQ(r.round_trips, 1u);
  ASSERT_EQ(r.hops.size(), 3u);
  EXPECT_NEAR(r.hops[0].p50_us, 10.5, 0.1);  // from the first send
  EXPECT_NEAR(r.hops[1].p50_us, 10.0, 0.1);  // from the first recv
  EXPECT_NEAR(r.total.p50_us, 40.5, 0.4);
}

TEST(HopAssemblerTest, TheMostCommonPathWinsAndOthersAreIrregular) {
  auto a = NewAssembler();
  int64_t now = 0;
  const std::vector<Step> mesh = {
      {kClient, kSend, 1000},   {kClientZt, kRecv, 2000}, {kClientZt, kSend, 1000},
      {kServerZt, kRecv, 3000}, {kServerZt, kSend, 1000}, {kServer, kRecv, 2000},
      {kServer, kSend, 1000},   {kServerZt, kRecv, 2000}, {kServerZt, kSend, 1000},
      {kClientZt, kRecv, 3000}, {kClientZt, kSend, 1000}, {kClient, kRecv, 2000}};
  // A window update from the server's ztunnel in the middle: a 13-stage detour.
  std::vector<Step> detour = mesh;
  detour.insert(detour.begin() + 4, {kServerZt, kSend, 500});
  detour[5].delay_ns = 500;
  detour.insert(detour.begin() + 5, {kClientZt, kRecv, 500});
  for (int i = 0; i < 5; ++i) Feed(*a, mesh, &now);
  for (int i = 0; i < 2; ++i) Feed(*a, detour, &now);
  for (int i = 0; i < 5; ++i) Feed(*a, DirectTrip(), &now);
  Feed(*a, mesh, &now);
  const HopReport r = a->Report();
  EXPECT_EQ(r.round_trips, 6u);
  EXPECT_EQ(r.irregular, 7u);
  ASSERT_EQ(r.path.size(), 12u);
  ASSERT_EQ(r.hops.size(), 11u);
  EXPECT_EQ(r.hops[0].name, "client app send → client ztunnel recv");
  EXPECT_EQ(r.hops[2].name, "client ztunnel send → server ztunnel recv");
  EXPECT_EQ(r.hops[10].name, "client ztunnel send → client app recv");
  EXPECT_NEAR(r.hops[2].p50_us, 3.0, 0.03);
  EXPECT_NEAR(r.total.p50_us, 19.0, 0.2);
  for (const HopStats& hop : r.hops) EXPECT_EQ(hop.count, 6u) << hop.name;
}

TEST(HopAssemblerTest, ANewClientSendBeforeTheAnswerDiscardsTheRoundTrip) {
  auto a = NewAssembler();
  int64_t now = 0;
  Feed(*a, {{kClient, kSend, 1000}, {kServer, kRecv, 10000}, {kClient, kSend, 1000}}, &now);
  // The second request's trip completes on its own; it is measured from its own send.
  Feed(*a, {{kServer, kRecv, 7000}, {kServer, kSend, 1000}, {kClient, kRecv, 2000}}, &now);
  const HopReport r = a->Report();
  EXPECT_EQ(r.overlapping, 1u);
  EXPECT_EQ(r.round_trips, 1u);
  ASSERT_EQ(r.hops.size(), 3u);
  EXPECT_NEAR(r.hops[0].p50_us, 7.0, 0.07);
}

TEST(HopAssemblerTest, EventsOutsideARoundTripAreIgnored) {
  auto a = NewAssembler();
  int64_t now = 0;
  // Before the first client send, and trailing after the answer.
  Feed(*a, {{kServer, kSend, 1000}, {kClient, kRecv, 1000}}, &now);
  Feed(*a, DirectTrip(), &now);
  Feed(*a, {{kServerZt, kSend, 1000}, {kClient, kRecv, 1000}}, &now);
  Feed(*a, DirectTrip(), &now);
  const HopReport r = a->Report();
  EXPECT_EQ(r.round_trips, 2u);
  EXPECT_EQ(r.irregular, 0u);
  EXPECT_EQ(r.hops.size(), 3u);
}

TEST(HopAssemblerTest, PercentilesFollowTheLatencyHistogramRule) {
  auto a = NewAssembler();
  int64_t now = 0;
  // Server time 1..1000 µs, one each: p50 = 500, p90 = 900, p99 = 990, p99.9 = 999 µs.
  for (int i = 1; i <= 1000; ++i) {
    Feed(*a,
         {{kClient, kSend, 1000},
          {kServer, kRecv, 1000},
          {kServer, kSend, int64_t{i} * 1000},
          {kClient, kRecv, 1000}},
         &now);
  }
  const HopReport r = a->Report();
  ASSERT_EQ(r.hops.size(), 3u);
  const HopStats& server = r.hops[1];
  EXPECT_EQ(server.count, 1000u);
  // Bucket upper bounds are within 1/128 above the true sample.
  EXPECT_NEAR(server.p50_us, 500.0, 500.0 / 128);
  EXPECT_GE(server.p50_us, 500.0);
  EXPECT_NEAR(server.p90_us, 900.0, 900.0 / 128);
  EXPECT_NEAR(server.p99_us, 990.0, 990.0 / 128);
  EXPECT_NEAR(server.p999_us, 999.0, 999.0 / 128);
  EXPECT_NEAR(server.mean_us, 500.5, 0.01);
  EXPECT_NEAR(r.hops[0].p99_us, 1.0, 0.01);
}

TEST(HopAssemblerTest, SrttIsReportedPerParticipant) {
  auto a = NewAssembler();
  a->Add({1000, kClientZt, kSend, 10, 1, 250});
  a->Add({2000, kClientZt, kRecv, 10, 1, 250});
  a->Add({3000, kServer, kRecv, 10, 2, 0});  // unknown RTT: not a sample
  const HopReport r = a->Report();
  ASSERT_EQ(r.srtt.size(), 1u);
  EXPECT_EQ(r.srtt[0].participant, "client ztunnel");
  EXPECT_EQ(r.srtt[0].samples, 2u);
  EXPECT_NEAR(r.srtt[0].p50_us, 250.0, 2.0);
}

TEST(HopAssemblerTest, CreateRejectsBadParticipantLists) {
  EXPECT_FALSE(HopAssembler::Create({}, 0).ok());
  EXPECT_FALSE(HopAssembler::Create({"a", "b"}, 2).ok());
  EXPECT_FALSE(HopAssembler::Create({"1", "2", "3", "4", "5", "6", "7", "8", "9"}, 0).ok());
  EXPECT_TRUE(HopAssembler::Create({"a", "b"}, 1).ok());
}

TEST(HopReportTest, TableAndJsonCarryEveryHop) {
  auto a = NewAssembler();
  int64_t now = 0;
  Feed(*a, DirectTrip(), &now);
  const HopReport r = a->Report();
  const std::string table = FormatHopTable(r);
  EXPECT_NE(table.find("client app send → server app recv"), std::string::npos);
  EXPECT_NE(table.find("total"), std::string::npos);
  const std::string json = HopReportJson(r);
  EXPECT_NE(json.find("\"name\":\"server app send → client app recv\""), std::string::npos);
  EXPECT_NE(json.find("\"round_trips\":1"), std::string::npos);
}

}  // namespace
}  // namespace weft::hoptrace
