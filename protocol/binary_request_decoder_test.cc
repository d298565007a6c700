#include "protocol/binary_request_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "protocol/little_endian.h"
#include "protocol/request_encoder.h"
#include "protocol/testing.h"

namespace podium::protocol {
namespace {

using testing::OwnedRequest;

std::string Frame(uint32_t request_id, Opcode opcode, std::vector<Argument> args) {
  std::string out;
  AppendBinaryRequest(request_id, opcode, args, &out);
  return out;
}

DecodeResult DecodeOnce(std::string_view input, Request* request,
                        size_t max = kRequestSizeBytesMax) {
  return BinaryRequestDecoder().Decode(input, max, request);
}

std::string ErrorOf(std::string_view input, size_t max = kRequestSizeBytesMax) {
  Request request;
  const DecodeResult result = DecodeOnce(input, &request, max);
  EXPECT_TRUE(result.error()) << "decoded instead: status " << static_cast<int>(result.status());
  return result.error_message();
}

// A frame with the given header fields and raw payload, the length computed.
std::string RawFrame(uint32_t request_id, uint16_t opcode, uint16_t flags, std::string payload) {
  std::string out;
  AppendU32(&out, static_cast<uint32_t>(8 + payload.size()));
  AppendU32(&out, request_id);
  AppendU16(&out, opcode);
  AppendU16(&out, flags);
  return out + payload;
}

TEST(BinaryRequestDecoderTest, EncodesTheDocumentedLayout) {
  const std::string frame = Frame(7, Opcode::kGet, {Argument::Bytes("k")});
  const std::string expected(
      "\x10\x00\x00\x00"        // length 16
      "\x07\x00\x00\x00"        // request id 7
      "\x10\x00"                // opcode 16 (GET)
      "\x00\x00"                // flags
      "\x01\x00"                // argc 1
      "\x00\x01\x00\x00\x00k",  // bytes "k"
      20);
  EXPECT_EQ(frame, expected);
}

TEST(BinaryRequestDecoderTest, RoundTripsEveryArgumentType) {
  const std::vector<Argument> args = {
      Argument::Bytes("board"),
      Argument::Bytes(""),
      Argument::Bytes(std::string_view("\0\r\n\xFF", 4)),
      Argument::Int64(0),
      Argument::Int64(INT64_MIN),
      Argument::Int64(INT64_MAX),
      Argument::Float64(1.5),
      Argument::Float64(-0.0),
      Argument::Float64(std::numeric_limits<double>::infinity()),
      Argument::Float64(std::nan("")),
  };
  const std::string frame = Frame(0xFFFFFFFF, Opcode::kZAdd, args);
  Request request;
  const DecodeResult result = DecodeOnce(frame, &request);
  ASSERT_TRUE(result.complete()) << result.error_message();
  EXPECT_EQ(result.consumed_bytes(), frame.size());
  EXPECT_EQ(request.request_id, 0xFFFFFFFF);
  EXPECT_EQ(request.opcode, Opcode::kZAdd);
  EXPECT_TRUE(request.name.empty());
  Request expected{0xFFFFFFFF, Opcode::kZAdd, {}, args};
  EXPECT_EQ(testing::Own(request), testing::Own(expected));
}

TEST(BinaryRequestDecoderTest, ZeroArgumentsAndUnknownOpcodesDecode) {
  Request request;
  ASSERT_TRUE(DecodeOnce(Frame(1, Opcode::kPing, {}), &request).complete());
  EXPECT_TRUE(request.args.empty());
  ASSERT_TRUE(DecodeOnce(Frame(2, static_cast<Opcode>(40000), {}), &request).complete());
  EXPECT_EQ(static_cast<uint16_t>(request.opcode), 40000);  // the server answers UNKNOWN_COMMAND
}

TEST(BinaryRequestDecoderTest, WaitsForTheWholeFrame) {
  const std::string frame = Frame(3, Opcode::kSet, {Argument::Bytes("k"), Argument::Bytes("v")});
  Request request;
  for (size_t size = 0; size < frame.size(); ++size) {
    const DecodeResult result = DecodeOnce(frame.substr(0, size), &request);
    EXPECT_TRUE(result.need_more()) << size;
    EXPECT_EQ(result.consumed_bytes(), 0u);
  }
}

TEST(BinaryRequestDecoderTest, ByteAtATimeEqualsWholeBufferAndPipelines) {
  std::string pipeline;
  std::vector<OwnedRequest> expected;
  std::vector<std::string> keys;
  for (uint32_t id = 1; id <= 20; ++id) keys.push_back("key" + std::to_string(id));
  for (uint32_t id = 1; id <= 20; ++id) {
    std::vector<Argument> args = {Argument::Bytes(keys[id - 1]), Argument::Int64(id),
                                  Argument::Float64(id / 4.0)};
    args.resize(id % 4);
    AppendBinaryRequest(id, Opcode::kZIncrBy, args, &pipeline);
    expected.push_back(testing::Own(Request{id, Opcode::kZIncrBy, {}, args}));
  }
  for (size_t chunk : {pipeline.size(), size_t{1}, size_t{7}, size_t{64}}) {
    BinaryRequestDecoder decoder;
    std::string error;
    const auto decoded = testing::DecodeInChunks<Request>(
        decoder, pipeline, chunk, kRequestSizeBytesMax, testing::Own, &error);
    EXPECT_EQ(error, "");
    EXPECT_EQ(decoded, expected) << "chunk " << chunk;
  }
}

TEST(BinaryRequestDecoderTest, HugeDeclaredLengthFailsAfterFourBytes) {
  EXPECT_EQ(ErrorOf(std::string("\xFF\xFF\xFF\xFF", 4)),
            "Protocol error: request of 4294967299 bytes exceeds the limit of 67108864 bytes");
  // The unauthenticated limit is the caller's parameter.
  std::string big = Frame(1, Opcode::kAuth, {Argument::Bytes(std::string(5000, 'p'))});
  EXPECT_EQ(ErrorOf(big.substr(0, 4), kUnauthenticatedRequestSizeBytesMax),
            "Protocol error: request of 5019 bytes exceeds the limit of 4096 bytes");
  Request request;
  EXPECT_TRUE(DecodeOnce(big, &request).complete());
}

TEST(BinaryRequestDecoderTest, MalformedFramesFail) {
  EXPECT_EQ(ErrorOf(std::string("\x09\x00\x00\x00", 4)),
            "Protocol error: request frame of 13 bytes is shorter than 14");
  EXPECT_EQ(ErrorOf(RawFrame(1, 1, 0x8000, std::string("\0\0", 2))),
            "Protocol error: reserved request flags 32768 set");
  EXPECT_EQ(ErrorOf(RawFrame(1, 1, 0, std::string("\x01\x00\x03", 3))),
            "Protocol error: argument count 1 does not fit in the frame");
  EXPECT_EQ(ErrorOf(RawFrame(1, 1, 0, std::string("\x01\x00\x03\0\0\0\0", 7))),
            "Protocol error: unknown argument type 3");
  EXPECT_EQ(ErrorOf(RawFrame(1, 1, 0, std::string("\x01\x00\x00\x06\0\0\0abcde", 12))),
            "Protocol error: argument cut off by the end of the frame");
  EXPECT_EQ(ErrorOf(RawFrame(1, 1, 0, std::string("\x01\x00\x01\0\0\0\0\0\0\0", 10))),
            "Protocol error: argument cut off by the end of the frame");
  EXPECT_EQ(ErrorOf(RawFrame(1, 1, 0, std::string("\x01\x00\x00\x01\0\0\0ab", 9))),
            "Protocol error: 1 bytes after the last argument");
  EXPECT_EQ(ErrorOf(RawFrame(1, 1, 0, std::string("\x01\x00\x00\x01\x00\x80\x00xxxx", 11))),
            "Protocol error: argument of 8388609 bytes exceeds the limit of 8388608 bytes");
}

TEST(BinaryRequestDecoderTest, AcceptsTheLargestArgumentAndArgumentCount) {
  Request request;
  const std::string largest =
      Frame(1, Opcode::kSet,
            {Argument::Bytes("k"), Argument::Bytes(std::string(kArgumentSizeBytesMax, 'v'))});
  ASSERT_TRUE(DecodeOnce(largest, &request).complete());
  EXPECT_EQ(request.args[1].bytes.size(), kArgumentSizeBytesMax);
  const std::vector<Argument> many(kArgumentsPerRequestMax, Argument::Int64(5));
  ASSERT_TRUE(DecodeOnce(Frame(2, Opcode::kDel, many), &request).complete());
  EXPECT_EQ(request.args.size(), kArgumentsPerRequestMax);
}

TEST(BinaryRequestDecoderTest, NumericArgumentsReadEitherWay) {
  EXPECT_EQ(ArgumentToInt64(Argument::Int64(-5)), -5);
  EXPECT_EQ(ArgumentToInt64(Argument::Bytes("-5")), -5);
  EXPECT_FALSE(ArgumentToInt64(Argument::Float64(5)).has_value());
  EXPECT_FALSE(ArgumentToInt64(Argument::Bytes("5.0")).has_value());
  EXPECT_EQ(ArgumentToDouble(Argument::Float64(2.5)), 2.5);
  EXPECT_EQ(ArgumentToDouble(Argument::Int64(3)), 3.0);
  EXPECT_EQ(ArgumentToDouble(Argument::Bytes("2.5")), 2.5);
  EXPECT_FALSE(ArgumentToDouble(Argument::Float64(std::nan(""))).has_value());
  EXPECT_FALSE(ArgumentToDouble(Argument::Bytes("x")).has_value());
}

}  // namespace
}  // namespace podium::protocol
