#include "protocol/resp_reply_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/testing.h"

namespace podium::protocol {
namespace {

std::vector<ReplyValue> DecodeAll(std::string_view input, size_t chunk_bytes, std::string* error,
                                  size_t max = kReplySizeBytesMax) {
  RespReplyDecoder decoder;
  return testing::DecodeInChunks<ReplyValue>(
      decoder, input, chunk_bytes, max, [](const ReplyValue& value) { return value; }, error);
}

ReplyValue DecodeOne(std::string_view input) {
  std::string error;
  const auto decoded = DecodeAll(input, input.size(), &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(decoded.size(), 1u);
  return decoded.empty() ? ReplyValue() : decoded[0];
}

std::string ErrorOf(std::string_view input, size_t max = kReplySizeBytesMax) {
  std::string error;
  EXPECT_TRUE(DecodeAll(input, input.size(), &error, max).empty());
  return error;
}

TEST(RespReplyDecoderTest, EveryReplyType) {
  EXPECT_EQ(DecodeOne("+OK\r\n"), ReplyValue::SimpleString("OK"));
  EXPECT_EQ(DecodeOne("-SOLDOUT 3\r\n"), ReplyValue::Error(StatusCode::kSoldOut, "SOLDOUT 3"));
  EXPECT_EQ(DecodeOne("-ERR unknown command 'X'\r\n"),
            ReplyValue::Error(StatusCode::kUnknownCommand, "ERR unknown command 'X'"));
  EXPECT_EQ(DecodeOne(":-9223372036854775808\r\n"), ReplyValue::Int64(INT64_MIN));
  EXPECT_EQ(DecodeOne("$3\r\na\r\n\r\n"), ReplyValue::Bytes("a\r\n"));
  EXPECT_EQ(DecodeOne("$0\r\n\r\n"), ReplyValue::Bytes(""));
  EXPECT_EQ(DecodeOne("$-1\r\n"), ReplyValue::Nil());
  EXPECT_EQ(DecodeOne("*-1\r\n"), ReplyValue::Nil());
  EXPECT_EQ(DecodeOne("*0\r\n"), ReplyValue::Array({}));
  EXPECT_EQ(DecodeOne("*3\r\n:1\r\n*2\r\n$-1\r\n*0\r\n+x\r\n"),
            ReplyValue::Array({ReplyValue::Int64(1),
                               ReplyValue::Array({ReplyValue::Nil(), ReplyValue::Array({})}),
                               ReplyValue::SimpleString("x")}));
}

TEST(RespReplyDecoderTest, ByteAtATimeEqualsWholeBufferAndPipelines) {
  const std::string pipeline =
      "+OK\r\n:5\r\n*2\r\n$6\r\nmember\r\n$3\r\n1.5\r\n-ERR no\r\n"
      "*2\r\n*1\r\n*1\r\n:7\r\n$-1\r\n$5\r\nhello\r\n";
  std::string error;
  const auto whole = DecodeAll(pipeline, pipeline.size(), &error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(whole.size(), 6u);
  EXPECT_EQ(whole[5], ReplyValue::Bytes("hello"));
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{9}}) {
    EXPECT_EQ(DecodeAll(pipeline, chunk, &error), whole) << "chunk " << chunk;
    EXPECT_EQ(error, "");
  }
}

TEST(RespReplyDecoderTest, HugeDeclaredCountsAndLengthsFailAtOnce) {
  EXPECT_EQ(ErrorOf("*2000000000\r\n"),
            "Protocol error: reply exceeds the limit of 268435456 bytes");
  EXPECT_EQ(ErrorOf("$2000000000\r\n"),
            "Protocol error: reply exceeds the limit of 268435456 bytes");
  EXPECT_EQ(ErrorOf("*2\r\n$10\r\n", 16), "Protocol error: reply exceeds the limit of 16 bytes");
  EXPECT_EQ(ErrorOf(std::string("+") + std::string(20, 'x'), 16),
            "Protocol error: reply exceeds the limit of 16 bytes");
}

// Each decoded value costs far more than its bytes on the wire ("$-1\r\n"): a reply may declare
// kReplyValuesMax of them in all its arrays, and one that declares more fails before any is
// built.
TEST(RespReplyDecoderTest, DeclaredValuesAreBounded) {
  const std::string max = std::to_string(kReplyValuesMax);
  const std::string one_more = std::to_string(kReplyValuesMax + 1);
  const std::string message = "Protocol error: reply holds more than " + max + " values";
  EXPECT_EQ(ErrorOf("*" + one_more + "\r\n"), message);
  EXPECT_EQ(ErrorOf("*2\r\n*" + std::to_string(kReplyValuesMax - 1) + "\r\n"), message);
  RespReplyDecoder decoder;
  ReplyValue value;
  EXPECT_TRUE(decoder.Decode("*" + max + "\r\n", kReplySizeBytesMax, &value).need_more());
  // The count is per reply: Reset, which a completed reply also runs, starts it over.
  decoder.Reset();
  EXPECT_TRUE(decoder.Decode("*" + max + "\r\n", kReplySizeBytesMax, &value).need_more());
}

TEST(RespReplyDecoderTest, MalformedRepliesFail) {
  EXPECT_EQ(ErrorOf("!3\r\n"), "Protocol error: unknown reply type '!'");
  EXPECT_EQ(ErrorOf(":1.5\r\n"), "Protocol error: invalid integer");
  EXPECT_EQ(ErrorOf("$-2\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("$x\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("*-2\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(ErrorOf("+OK\rX"), "Protocol error: expected CRLF");
  EXPECT_EQ(ErrorOf("$2\r\nabc\r\n"), "Protocol error: expected CRLF after bulk string");
  EXPECT_EQ(ErrorOf(":" + std::string(40, '1')), "Protocol error: too big count string");
  EXPECT_EQ(ErrorOf("*1\r\n?\r\n"), "Protocol error: unknown reply type '?'");
}

TEST(RespReplyDecoderTest, NestingDepthIsBounded) {
  std::string ok;
  for (size_t i = 0; i < kReplyNestingDepthMax; ++i) ok += "*1\r\n";
  EXPECT_EQ(DecodeOne(ok + ":1\r\n").type, ValueType::kArray);
  EXPECT_EQ(ErrorOf(ok + "*1\r\n:1\r\n"), "Protocol error: reply nested too deep");
}

TEST(RespReplyDecoderTest, PartialRepliesConsumeNothing) {
  RespReplyDecoder decoder;
  ReplyValue value;
  const DecodeResult result = decoder.Decode("*2\r\n:1\r\n", kReplySizeBytesMax, &value);
  EXPECT_TRUE(result.need_more());
  EXPECT_EQ(result.consumed_bytes(), 0u);
  const DecodeResult done = decoder.Decode("*2\r\n:1\r\n:2\r\n", kReplySizeBytesMax, &value);
  ASSERT_TRUE(done.complete());
  EXPECT_EQ(value, ReplyValue::Array({ReplyValue::Int64(1), ReplyValue::Int64(2)}));
}

}  // namespace
}  // namespace podium::protocol
