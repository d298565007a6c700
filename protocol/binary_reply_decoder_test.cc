#include "protocol/binary_reply_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "protocol/binary_reply_writer.h"
#include "protocol/little_endian.h"
#include "protocol/testing.h"

namespace podium::protocol {
namespace {

std::string RawReply(uint32_t request_id, uint16_t status, uint16_t flags, std::string value) {
  std::string out;
  AppendU32(&out, static_cast<uint32_t>(8 + value.size()));
  AppendU32(&out, request_id);
  AppendU16(&out, status);
  AppendU16(&out, flags);
  return out + value;
}

std::string ErrorOf(std::string_view input, size_t max = kReplySizeBytesMax) {
  BinaryReply reply;
  const DecodeResult result = BinaryReplyDecoder().Decode(input, max, &reply);
  EXPECT_TRUE(result.error()) << "decoded instead: " << reply.value.ToString();
  return result.error_message();
}

TEST(BinaryReplyDecoderTest, DecodesTheDocumentedLayout) {
  const std::string frame = RawReply(9, 0, 0, std::string("\x01\x2A\0\0\0\0\0\0\0", 9));
  BinaryReply reply;
  const DecodeResult result = BinaryReplyDecoder().Decode(frame, kReplySizeBytesMax, &reply);
  ASSERT_TRUE(result.complete()) << result.error_message();
  EXPECT_EQ(result.consumed_bytes(), frame.size());
  EXPECT_EQ(reply.request_id, 9u);
  EXPECT_EQ(reply.status, StatusCode::kOk);
  EXPECT_EQ(reply.value, ReplyValue::Int64(42));
}

TEST(BinaryReplyDecoderTest, ErrorRepliesCarryTheirStatus) {
  const std::string frame = RawReply(3, 5, 0,
                                     std::string("\x06\x01\0\0\0"
                                                 "3",
                                                 6));
  BinaryReply reply;
  ASSERT_TRUE(BinaryReplyDecoder().Decode(frame, kReplySizeBytesMax, &reply).complete());
  EXPECT_EQ(reply.status, StatusCode::kSoldOut);
  EXPECT_EQ(reply.value, ReplyValue::Error(StatusCode::kSoldOut, "3"));
  // A status this version does not know is still an error reply.
  const std::string future = RawReply(3, 500, 0, std::string("\x06\0\0\0\0", 5));
  ASSERT_TRUE(BinaryReplyDecoder().Decode(future, kReplySizeBytesMax, &reply).complete());
  EXPECT_EQ(static_cast<uint16_t>(reply.status), 500);
}

TEST(BinaryReplyDecoderTest, HugeDeclaredLengthFailsAfterFourBytes) {
  EXPECT_EQ(ErrorOf(std::string("\xFF\xFF\xFF\xFF", 4)),
            "Protocol error: reply of 4294967299 bytes exceeds the limit of 268435456 bytes");
  EXPECT_EQ(ErrorOf(std::string("\x10\x00\x00\x00", 4), 16),
            "Protocol error: reply of 20 bytes exceeds the limit of 16 bytes");
}

TEST(BinaryReplyDecoderTest, MalformedFramesFail) {
  EXPECT_EQ(ErrorOf(std::string("\x08\0\0\0", 4)),
            "Protocol error: reply frame of 12 bytes is shorter than 13");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 1, std::string("\0", 1))),
            "Protocol error: reserved reply flags 1 set");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, "\x07")), "Protocol error: unknown value type 7");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, std::string("\x01\0\0", 3))),
            "Protocol error: value cut off by the end of the frame");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, std::string("\x03\x05\0\0\0abc", 8))),
            "Protocol error: value cut off by the end of the frame");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, std::string("\x04\xFF\xFF\xFF\xFF\0", 6))),
            "Protocol error: array of 4294967295 values does not fit in the frame");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, std::string("\x04\x02\0\0\0\0", 6))),
            "Protocol error: array of 2 values does not fit in the frame");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, std::string("\x04\x01\0\0\0\x01\0", 7))),
            "Protocol error: value cut off by the end of the frame");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, std::string("\0\0", 2))),
            "Protocol error: 1 bytes after the reply value");
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, std::string("\x06\0\0\0\0", 5))),
            "Protocol error: status 0 with an error value");
  EXPECT_EQ(ErrorOf(RawReply(1, 2, 0, std::string("\0", 1))),
            "Protocol error: status 2 with a non-error value");
}

TEST(BinaryReplyDecoderTest, NestingDepthIsBounded) {
  auto nested = [](size_t depth) {
    std::string value;
    for (size_t i = 0; i < depth; ++i) value += std::string("\x04\x01\0\0\0", 5);
    return RawReply(1, 0, 0, value + std::string("\0", 1));
  };
  BinaryReply reply;
  EXPECT_TRUE(BinaryReplyDecoder()
                  .Decode(nested(kReplyNestingDepthMax), kReplySizeBytesMax, &reply)
                  .complete());
  EXPECT_EQ(ErrorOf(nested(kReplyNestingDepthMax + 1)),
            "Protocol error: arrays nested deeper than 16");
}

// A binary nil is one byte and costs the client a whole ReplyValue: a reply may hold
// kReplyValuesMax values in its arrays, and one whose arrays declare more fails before any is
// built.
TEST(BinaryReplyDecoderTest, DeclaredValuesAreBounded) {
  auto array_of_nils = [](size_t count) {
    std::string value("\x04", 1);
    AppendU32(&value, static_cast<uint32_t>(count));
    return value + std::string(count, '\0');
  };
  const std::string message =
      "Protocol error: reply holds more than " + std::to_string(kReplyValuesMax) + " values";
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, array_of_nils(kReplyValuesMax + 1))), message);
  // The bound counts the values of every array: an array of the bound's size whose first
  // element is an array of one (the frame padded so that the outer count fits its bytes).
  std::string nested("\x04", 1);
  AppendU32(&nested, static_cast<uint32_t>(kReplyValuesMax));
  nested += std::string("\x04\x01\0\0\0", 5) + std::string(kReplyValuesMax, '\0');
  EXPECT_EQ(ErrorOf(RawReply(1, 0, 0, nested)), message);
}

TEST(BinaryReplyDecoderTest, ByteAtATimeEqualsWholeBufferAndPipelines) {
  std::string pipeline;
  BinaryReplyWriter writer(&pipeline);
  std::vector<BinaryReply> expected;
  for (uint32_t id = 1; id <= 10; ++id) {
    writer.BeginReply(id);
    if (id % 3 == 0) {
      writer.Error(StatusCode::kWrongType, "Operation against a key");
      expected.push_back({id, StatusCode::kWrongType,
                          ReplyValue::Error(StatusCode::kWrongType, "Operation against a key")});
    } else {
      writer.ArrayHeader(2);
      writer.Bytes("member" + std::to_string(id));
      writer.Double(id * 1.5);
      expected.push_back({id, StatusCode::kOk,
                          ReplyValue::Array({ReplyValue::Bytes("member" + std::to_string(id)),
                                             ReplyValue::Float64(id * 1.5)})});
    }
    writer.EndReply();
  }
  const auto own = [](const BinaryReply& reply) {
    return std::make_tuple(reply.request_id, reply.status, reply.value);
  };
  for (size_t chunk : {pipeline.size(), size_t{1}, size_t{5}}) {
    BinaryReplyDecoder decoder;
    std::string error;
    const auto decoded = testing::DecodeInChunks<BinaryReply>(decoder, pipeline, chunk,
                                                              kReplySizeBytesMax, own, &error);
    EXPECT_EQ(error, "");
    ASSERT_EQ(decoded.size(), expected.size()) << "chunk " << chunk;
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(decoded[i], own(expected[i]));
  }
}

}  // namespace
}  // namespace podium::protocol
