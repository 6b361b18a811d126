// Length-prefixed gRPC messages: reassembly from arbitrary DATA chunks and the frames a client
// must refuse.
#include "common/grpcwire/message_framing.h"

#include <gtest/gtest.h>

namespace weft::grpcwire {
namespace {

std::vector<std::string> DrainAll(MessageDeframer& deframer) {
  std::vector<std::string> out;
  while (true) {
    auto next = deframer.Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) return out;
    out.push_back(**next);
  }
}

TEST(MessageFramingTest, PrefixIsFlagZeroAndBigEndianLength) {
  const std::string framed = FrameMessage(std::string(258, 'x'));
  ASSERT_EQ(framed.size(), 5u + 258u);
  EXPECT_EQ(framed.substr(0, 5), std::string("\0\0\0\x01\x02", 5));
}

TEST(MessageFramingTest, MessagesSplitAcrossChunksAndSeveralInOneChunk) {
  const std::string stream = FrameMessage("first") + FrameMessage("") + FrameMessage("third!");
  // One byte at a time: every split point inside prefixes and bodies.
  MessageDeframer bytewise;
  std::vector<std::string> got;
  for (char c : stream) {
    bytewise.Append(std::string_view(&c, 1));
    for (auto& m : DrainAll(bytewise)) got.push_back(m);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"first", "", "third!"}));
  EXPECT_FALSE(bytewise.HasPartialMessage());

  MessageDeframer whole;
  whole.Append(stream);
  EXPECT_EQ(DrainAll(whole), (std::vector<std::string>{"first", "", "third!"}));
}

TEST(MessageFramingTest, IncompleteMessageIsReportedAsPartial) {
  MessageDeframer deframer;
  deframer.Append(FrameMessage("hello").substr(0, 7));
  EXPECT_TRUE(DrainAll(deframer).empty());
  EXPECT_TRUE(deframer.HasPartialMessage());
}

TEST(MessageFramingTest, CompressedMessageIsRefused) {
  MessageDeframer deframer;
  std::string framed = FrameMessage("zipped");
  framed[0] = 1;
  deframer.Append(framed);
  auto next = deframer.Next();
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(next.status().message().find("compressed"), absl::string_view::npos);
}

TEST(MessageFramingTest, UnknownFlagIsMalformed) {
  MessageDeframer deframer;
  deframer.Append(std::string("\x07\0\0\0\0", 5));
  EXPECT_EQ(deframer.Next().status().code(), absl::StatusCode::kInternal);
}

TEST(MessageFramingTest, OversizeMessageIsRefusedBeforeItArrives) {
  MessageDeframer deframer(/*max_message_bytes=*/16);
  deframer.Append(FrameMessage(std::string(17, 'x')).substr(0, 5));  // only the prefix
  EXPECT_EQ(deframer.Next().status().code(), absl::StatusCode::kResourceExhausted);

  MessageDeframer default_limit;
  default_limit.Append(std::string("\0\x7f\xff\xff\xff", 5));  // claims 2 GiB
  EXPECT_EQ(default_limit.Next().status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace weft::grpcwire
