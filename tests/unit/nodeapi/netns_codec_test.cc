// The packet codec on a SOCK_SEQPACKET socketpair: fds travel intact, every malformed packet
// is refused with a message naming what was wrong, and no received fd outlives its packet.
#include "common/nodeapi/netns_codec.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "common/event/scoped_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/nodeapi/fd_test_support.h"

namespace weft::nodeapi {
namespace {

using testing::CountOpenFds;
using ::testing::HasSubstr;
using testing::InodeOf;
using testing::OpenOwnNetns;

struct Pair {
  event::ScopedFd a;
  event::ScopedFd b;
};

Pair SeqPacketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  return Pair{event::ScopedFd(fds[0]), event::ScopedFd(fds[1])};
}

PodNetnsMessage Message(uint64_t sequence, PodNetnsMessage::Kind kind, const std::string& uid) {
  PodNetnsMessage m;
  m.set_sequence(sequence);
  m.set_kind(kind);
  m.set_workload_uid(uid);
  return m;
}

// Writes a packet without the sender-side checks, as a buggy or hostile peer would.
void SendRaw(int socket_fd, const std::string& bytes, int fd) {
  ASSERT_TRUE(SendSeqPacket(socket_fd, bytes, fd, 0).ok());
}

TEST(NetnsCodecTest, AddCarriesTheNetnsFdAndAddresses) {
  Pair p = SeqPacketPair();
  event::ScopedFd netns = OpenOwnNetns();
  ASSERT_TRUE(netns.valid());
  PodNetnsMessage m = Message(7, PodNetnsMessage::ADD, "pod-a");
  m.add_addresses("10.0.0.7");
  m.add_addresses("fd00::7");
  ASSERT_TRUE(SendNetnsMessage(p.a.get(), m, netns.get(), 0).ok());

  absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->message.sequence(), 7u);
  EXPECT_EQ(got->message.kind(), PodNetnsMessage::ADD);
  EXPECT_EQ(got->message.workload_uid(), "pod-a");
  EXPECT_THAT(got->message.addresses(), ::testing::ElementsAre("10.0.0.7", "fd00::7"));
  ASSERT_TRUE(got->netns_fd.valid());
  EXPECT_NE(got->netns_fd.get(), netns.get());
  EXPECT_EQ(InodeOf(got->netns_fd.get()), InodeOf(netns.get()));
  EXPECT_TRUE(fcntl(got->netns_fd.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(NetnsCodecTest, RemoveAndSnapshotDoneCarryNoFd) {
  Pair p = SeqPacketPair();
  ASSERT_TRUE(
      SendNetnsMessage(p.a.get(), Message(8, PodNetnsMessage::REMOVE, "pod-a"), -1, 0).ok());
  ASSERT_TRUE(
      SendNetnsMessage(p.a.get(), Message(9, PodNetnsMessage::SNAPSHOT_DONE, ""), -1, 0).ok());
  absl::StatusOr<ReceivedNetnsMessage> remove = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(remove.ok()) << remove.status();
  EXPECT_EQ(remove->message.kind(), PodNetnsMessage::REMOVE);
  EXPECT_EQ(remove->message.workload_uid(), "pod-a");
  EXPECT_FALSE(remove->netns_fd.valid());
  absl::StatusOr<ReceivedNetnsMessage> done = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->message.kind(), PodNetnsMessage::SNAPSHOT_DONE);
  EXPECT_EQ(done->message.sequence(), 9u);
}

TEST(NetnsCodecTest, SenderRefusesAddWithoutFdAndFdOnRemove) {
  Pair p = SeqPacketPair();
  event::ScopedFd netns = OpenOwnNetns();
  absl::Status no_fd = SendNetnsMessage(p.a.get(), Message(1, PodNetnsMessage::ADD, "x"), -1, 0);
  EXPECT_TRUE(absl::IsInvalidArgument(no_fd));
  EXPECT_THAT(std::string(no_fd.message()), HasSubstr("exactly one netns fd"));
  absl::Status fd_on_remove =
      SendNetnsMessage(p.a.get(), Message(2, PodNetnsMessage::REMOVE, "x"), netns.get(), 0);
  EXPECT_TRUE(absl::IsInvalidArgument(fd_on_remove));
  EXPECT_THAT(std::string(fd_on_remove.message()), HasSubstr("REMOVE must not carry fds"));
}

TEST(NetnsCodecTest, ReceiverRejectsAddWithoutFdButKnowsItsSequence) {
  Pair p = SeqPacketPair();
  SendRaw(p.a.get(), Message(11, PodNetnsMessage::ADD, "pod-b").SerializeAsString(), -1);
  std::optional<uint64_t> sequence;
  absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0, &sequence);
  ASSERT_TRUE(absl::IsInvalidArgument(got.status())) << got.status();
  EXPECT_THAT(std::string(got.status().message()),
              HasSubstr("ADD must carry exactly one netns fd"));
  EXPECT_EQ(sequence, 11u);
}

TEST(NetnsCodecTest, ReceiverRejectsFdOnRemoveAndClosesIt) {
  Pair p = SeqPacketPair();
  const size_t before = CountOpenFds();
  {
    event::ScopedFd netns = OpenOwnNetns();
    SendRaw(p.a.get(), Message(12, PodNetnsMessage::REMOVE, "pod-b").SerializeAsString(),
            netns.get());
  }
  absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(absl::IsInvalidArgument(got.status())) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("REMOVE must not carry fds, got 1"));
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(NetnsCodecTest, ReceiverRejectsAnFdThatIsNotANetns) {
  Pair p = SeqPacketPair();
  event::ScopedFd not_netns(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  SendRaw(p.a.get(), Message(13, PodNetnsMessage::ADD, "pod-c").SerializeAsString(),
          not_netns.get());
  absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(absl::IsInvalidArgument(got.status())) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("ADD of pod-c"));
}

TEST(NetnsCodecTest, GarbageIsUnparsableAndTheNextPacketStillDecodes) {
  Pair p = SeqPacketPair();
  SendRaw(p.a.get(), std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01garbage", 18), -1);
  ASSERT_TRUE(
      SendNetnsMessage(p.a.get(), Message(14, PodNetnsMessage::REMOVE, "pod-d"), -1, 0).ok());
  std::optional<uint64_t> sequence = 99;
  absl::StatusOr<ReceivedNetnsMessage> bad = ReceiveNetnsMessage(p.b.get(), 0, &sequence);
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("is not a PodNetnsMessage"));
  EXPECT_FALSE(sequence.has_value());
  absl::StatusOr<ReceivedNetnsMessage> good = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->message.sequence(), 14u);
}

TEST(NetnsCodecTest, UnknownKindIsRejected) {
  Pair p = SeqPacketPair();
  SendRaw(p.a.get(), Message(15, PodNetnsMessage::KIND_UNSPECIFIED, "pod-e").SerializeAsString(),
          -1);
  absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(absl::IsInvalidArgument(got.status()));
  EXPECT_THAT(std::string(got.status().message()),
              HasSubstr("expected ADD, REMOVE, SNAPSHOT_DONE or SUPERSEDED"));
}

TEST(NetnsCodecTest, OversizedPacketsAreRefusedAndTruncationIsReported) {
  Pair p = SeqPacketPair();
  const std::string big(kMaxNetnsPacketBytes + 1, 'x');
  EXPECT_TRUE(absl::IsInvalidArgument(SendSeqPacket(p.a.get(), big, -1, 0)));
  // A peer not using our sender can still write one; the receiver sees MSG_TRUNC.
  int sndbuf = 4 * kMaxNetnsPacketBytes;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
  ASSERT_EQ(::send(p.a.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
  absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0);
  ASSERT_TRUE(absl::IsDataLoss(got.status())) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("truncated"));
}

TEST(NetnsCodecTest, PeerCloseIsUnavailable) {
  Pair p = SeqPacketPair();
  p.a.Reset();
  absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0);
  EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
}

TEST(NetnsCodecTest, AckRoundTripAndAckWithStrayFdIsRejected) {
  Pair p = SeqPacketPair();
  PodNetnsAck ack;
  ack.set_sequence(21);
  ack.set_error("bind 10.0.0.7:15008: address in use");
  ASSERT_TRUE(SendNetnsAck(p.b.get(), ack, {}, 0).ok());
  absl::StatusOr<SeqPacket> packet = ReceiveSeqPacket(p.a.get(), 0);
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<ReceivedNetnsAck> got = DecodeNetnsAck(*std::move(packet));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->ack.sequence(), 21u);
  EXPECT_EQ(got->ack.error(), ack.error());

  event::ScopedFd netns = OpenOwnNetns();
  SendRaw(p.b.get(), ack.SerializeAsString(), netns.get());
  packet = ReceiveSeqPacket(p.a.get(), 0);
  ASSERT_TRUE(packet.ok());
  got = DecodeNetnsAck(*std::move(packet));
  EXPECT_TRUE(absl::IsInvalidArgument(got.status()));
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("carries 1 fds"));
}

TEST(NetnsCodecTest, AckCarriesListeningSocketsAndRefusesOtherFds) {
  Pair p = SeqPacketPair();
  event::ScopedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 8), 0);
  PodNetnsAck ack;
  ack.set_sequence(22);
  ack.add_listener_families(AF_INET);
  const int fds[] = {listener.get()};
  ASSERT_TRUE(SendNetnsAck(p.b.get(), ack, fds, 0).ok());
  absl::StatusOr<SeqPacket> packet = ReceiveSeqPacket(p.a.get(), 0);
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<ReceivedNetnsAck> got = DecodeNetnsAck(*std::move(packet));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->listeners.size(), 1u);
  EXPECT_EQ(got->listeners[0].family, AF_INET);
  int accepting = 0;
  socklen_t len = sizeof(accepting);
  ASSERT_EQ(::getsockopt(got->listeners[0].fd->get(), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len),
            0);
  EXPECT_EQ(accepting, 1);

  // A netns fd where a listener is promised, and a listener announced as IPv6.
  event::ScopedFd netns = OpenOwnNetns();
  const int wrong[] = {netns.get()};
  ASSERT_TRUE(SendNetnsAck(p.b.get(), ack, wrong, 0).ok());
  packet = ReceiveSeqPacket(p.a.get(), 0);
  ASSERT_TRUE(packet.ok());
  got = DecodeNetnsAck(*std::move(packet));
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("attached fd is not a socket"));
  ack.set_listener_families(0, AF_INET6);
  ASSERT_TRUE(SendNetnsAck(p.b.get(), ack, fds, 0).ok());
  packet = ReceiveSeqPacket(p.a.get(), 0);
  ASSERT_TRUE(packet.ok());
  got = DecodeNetnsAck(*std::move(packet));
  EXPECT_TRUE(absl::IsInvalidArgument(got.status()));
}

TEST(NetnsCodecTest, ThousandMessagesWithGoodAndBadPacketsLeakNoFd) {
  Pair p = SeqPacketPair();
  event::ScopedFd netns = OpenOwnNetns();
  const size_t before = CountOpenFds();
  for (uint64_t i = 1; i <= 1000; ++i) {
    switch (i % 3) {
      case 0:
        ASSERT_TRUE(
            SendNetnsMessage(p.a.get(), Message(i, PodNetnsMessage::ADD, "p"), netns.get(), 0)
                .ok());
        break;
      case 1:  // fd on a REMOVE: refused, fd must be closed by the receiver
        SendRaw(p.a.get(), Message(i, PodNetnsMessage::REMOVE, "p").SerializeAsString(),
                netns.get());
        break;
      default:  // garbage with an fd
        SendRaw(p.a.get(), "\xff\xff\xff", netns.get());
        break;
    }
    absl::StatusOr<ReceivedNetnsMessage> got = ReceiveNetnsMessage(p.b.get(), 0);
    EXPECT_EQ(got.ok(), i % 3 == 0) << i << ": " << got.status();
  }
  EXPECT_EQ(CountOpenFds(), before);
}

}  // namespace
}  // namespace weft::nodeapi
