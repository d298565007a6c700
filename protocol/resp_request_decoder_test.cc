#include "protocol/resp_request_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/request_encoder.h"
#include "protocol/testing.h"

namespace podium::protocol {
namespace {

using testing::OwnedRequest;
using testing::Words;

std::vector<OwnedRequest> DecodeAll(std::string_view input, size_t chunk_bytes, std::string* error,
                                    size_t max = kRequestSizeBytesMax) {
  RespRequestDecoder decoder;
  return testing::DecodeInChunks<Request>(decoder, input, chunk_bytes, max, testing::Own, error);
}

// The error `input` gets when it arrives whole, with no request decoded before it.
std::string ErrorOf(std::string_view input, size_t max = kRequestSizeBytesMax) {
  std::string error;
  const auto decoded = DecodeAll(input, input.size(), &error, max);
  EXPECT_TRUE(decoded.empty());
  return error;
}

TEST(RespRequestDecoderTest, MultibulkRequests) {
  std::string error;
  const auto decoded =
      DecodeAll("*4\r\n$7\r\nzincrby\r\n$5\r\nboard\r\n$1\r\n1\r\n$2\r\n42\r\n", 1000, &error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0], Words(Opcode::kZIncrBy, {"zincrby", "board", "1", "42"}));
}

TEST(RespRequestDecoderTest, BulkStringsAreBinarySafe) {
  std::string input;
  const std::string_view words[] = {"SET", std::string_view("k\r\n\0", 4), "*3\r\n$"};
  AppendRespRequest(words, &input);
  std::string error;
  const auto decoded = DecodeAll(input, input.size(), &error);
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0], Words(Opcode::kSet, {"SET", std::string("k\r\n\0", 4), "*3\r\n$"}));
}

TEST(RespRequestDecoderTest, UnknownCommandsKeepTheirName) {
  std::string error;
  const auto decoded = DecodeAll("*2\r\n$3\r\nFOO\r\n$1\r\na\r\n", 100, &error);
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0], Words(Opcode::kNone, {"FOO", "a"}));
}

TEST(RespRequestDecoderTest, InlineCommands) {
  std::string error;
  const auto decoded =
      DecodeAll("PING\r\nget  key\nSET k \"a b\\x41\"\r\n  \t ZCARD\t board  \r\n", 1000, &error);
  EXPECT_EQ(error, "");
  const std::vector<OwnedRequest> expected = {
      Words(Opcode::kPing, {"PING"}),
      Words(Opcode::kGet, {"get", "key"}),
      Words(Opcode::kSet, {"SET", "k", "a bA"}),
      Words(Opcode::kZCard, {"ZCARD", "board"}),
  };
  EXPECT_EQ(decoded, expected);
}

TEST(RespRequestDecoderTest, EmptyCommandsAreSkipped) {
  RespRequestDecoder decoder;
  Request request;
  const std::string input = "*0\r\n*-1\r\n\r\n   \n*1\r\n$4\r\nPING\r\n";
  const DecodeResult result = decoder.Decode(input, kRequestSizeBytesMax, &request);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed_bytes(), input.size());
  EXPECT_EQ(request.opcode, Opcode::kPing);
  // Skipped bytes before a partial request are consumed too.
  const DecodeResult partial =
      decoder.Decode("*0\r\n*1\r\n$4\r\nPI", kRequestSizeBytesMax, &request);
  EXPECT_TRUE(partial.need_more());
  EXPECT_EQ(partial.consumed_bytes(), 4u);
}

TEST(RespRequestDecoderTest, ByteAtATimeEqualsWholeBufferAndPipelines) {
  std::string pipeline;
  std::vector<OwnedRequest> expected;
  for (int i = 0; i < 30; ++i) {
    const std::string key = "key" + std::to_string(i);
    if (i % 3 == 0) {
      pipeline += "INCRBY " + key + " " + std::to_string(i) + "\r\n";
      expected.push_back(Words(Opcode::kIncrBy, {"INCRBY", key, std::to_string(i)}));
    } else {
      const std::string value(static_cast<size_t>(i * 7), 'v');
      const std::string_view words[] = {"SET", key, value};
      AppendRespRequest(words, &pipeline);
      expected.push_back(Words(Opcode::kSet, {"SET", key, value}));
    }
    if (i % 5 == 0) pipeline += "*0\r\n\r\n";
  }
  for (size_t chunk : {pipeline.size(), size_t{1}, size_t{2}, size_t{3}, size_t{17}}) {
    std::string error;
    EXPECT_EQ(DecodeAll(pipeline, chunk, &error), expected) << "chunk " << chunk;
    EXPECT_EQ(error, "");
  }
}

TEST(RespRequestDecoderTest, HugeDeclaredCountsAndLengthsFailAtOnce) {
  EXPECT_EQ(ErrorOf("*2000000000\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*65537\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$8388609\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$99999999999999999999\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$-10\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
  // The caller's limit (unauthenticated clients) bounds counts and lengths before their bytes.
  EXPECT_EQ(ErrorOf("*1000\r\n", kUnauthenticatedRequestSizeBytesMax),
            "Protocol error: request exceeds the limit of 4096 bytes");
  EXPECT_EQ(ErrorOf("*2\r\n$4\r\nAUTH\r\n$5000\r\n", kUnauthenticatedRequestSizeBytesMax),
            "Protocol error: request exceeds the limit of 4096 bytes");
  EXPECT_EQ(ErrorOf(std::string(5000, 'A'), kUnauthenticatedRequestSizeBytesMax),
            "Protocol error: too big inline request");
}

TEST(RespRequestDecoderTest, LargestCountWaitsForItsArguments) {
  RespRequestDecoder decoder;
  Request request;
  const DecodeResult result =
      decoder.Decode("*65536\r\n$1\r\na\r\n", kRequestSizeBytesMax, &request);
  EXPECT_TRUE(result.need_more());
}

TEST(RespRequestDecoderTest, MalformedInputGetsRedisErrors) {
  EXPECT_EQ(ErrorOf("*abc\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*+1\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*01\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*1\rX"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("*1\r\nx\r\n"), "Protocol error: expected '$', got 'x'");
  EXPECT_EQ(ErrorOf("*1\r\n:1\r\n"), "Protocol error: expected '$', got ':'");
  EXPECT_EQ(ErrorOf("*1\r\n$04\r\nPING\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$4\rPING\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*1\r\n$3\r\nfooXX"), "Protocol error: expected CRLF after bulk string");
  EXPECT_EQ(ErrorOf("*1\r\n$3\r\nfoo\n\n"), "Protocol error: expected CRLF after bulk string");
  EXPECT_EQ(ErrorOf("*" + std::string(40, '1')), "Protocol error: too big mbulk count string");
  EXPECT_EQ(ErrorOf("*1\r\n$" + std::string(40, '1')), "Protocol error: too big bulk count string");
  EXPECT_EQ(ErrorOf(std::string(kInlineRequestSizeBytesMax, 'a')),
            "Protocol error: too big inline request");
  EXPECT_EQ(ErrorOf("SET k \"abc\r\n"), "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ErrorOf("SET k 'a'b\r\n"), "Protocol error: unbalanced quotes in request");
}

TEST(RespRequestDecoderTest, InlineLineAtTheLimitIsAccepted) {
  std::string line(kInlineRequestSizeBytesMax - 2, 'a');
  line[3] = ' ';
  std::string error;
  const auto decoded = DecodeAll(line + "\r\n", 4096, &error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].args.at(0).bytes.size(), kInlineRequestSizeBytesMax - 6);
}

TEST(RespRequestDecoderTest, ErrorsAfterGoodRequestsComeInOrder) {
  std::string error;
  const auto decoded = DecodeAll("PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n", 1, &error);
  EXPECT_EQ(decoded.size(), 2u);
  EXPECT_EQ(error, "Protocol error: invalid multibulk length");
}

}  // namespace
}  // namespace podium::protocol
