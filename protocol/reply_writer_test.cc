#include "protocol/reply_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "protocol/binary_reply_decoder.h"
#include "protocol/binary_reply_writer.h"
#include "protocol/resp_reply_decoder.h"
#include "protocol/resp_reply_writer.h"

namespace podium::protocol {
namespace {

using Command = std::function<void(ReplyWriter*)>;

std::string Resp(const Command& command, size_t max = kReplySizeBytesMax) {
  std::string out;
  RespReplyWriter writer(&out, max);
  writer.BeginReply(0);
  command(&writer);
  writer.EndReply();
  return out;
}

BinaryReply Binary(const Command& command, uint32_t request_id = 77,
                   size_t max = kReplySizeBytesMax) {
  std::string out;
  BinaryReplyWriter writer(&out, max);
  writer.BeginReply(request_id);
  command(&writer);
  writer.EndReply();
  BinaryReply reply;
  const DecodeResult result = BinaryReplyDecoder().Decode(out, kReplySizeBytesMax, &reply);
  EXPECT_TRUE(result.complete()) << result.error_message();
  EXPECT_EQ(result.consumed_bytes(), out.size());
  return reply;
}

ReplyValue RespDecoded(const Command& command) {
  const std::string out = Resp(command);
  ReplyValue value;
  RespReplyDecoder decoder;
  const DecodeResult result = decoder.Decode(out, kReplySizeBytesMax, &value);
  EXPECT_TRUE(result.complete()) << result.error_message();
  EXPECT_EQ(result.consumed_bytes(), out.size());
  return value;
}

TEST(ReplyWriterTest, RespBytesAreRedis) {
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Ok(); }), "+OK\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->SimpleString("PONG"); }), "+PONG\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Integer(-42); }), ":-42\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Bytes("abc"); }), "$3\r\nabc\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Bytes(""); }), "$0\r\n\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Nil(); }), "$-1\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Double(1.1); }), "$3\r\n1.1\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Double(0.1 + 0.2); }), "$19\r\n0.30000000000000004\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Double(-std::numeric_limits<double>::infinity()); }),
            "$4\r\n-inf\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->ArrayHeader(0); }), "*0\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) {
              w->ArrayHeader(2);
              w->Bytes("a");
              w->Double(2);
            }),
            "*2\r\n$1\r\na\r\n$1\r\n2\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Error(StatusCode::kSoldOut, "3"); }), "-SOLDOUT 3\r\n");
  EXPECT_EQ(
      Resp([](ReplyWriter* w) { w->Error(StatusCode::kUnknownCommand, "unknown command 'X'"); }),
      "-ERR unknown command 'X'\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Error(StatusCode::kNotFound, ""); }), "-NOTFOUND\r\n");
}

TEST(ReplyWriterTest, LinesCannotBeBrokenByTheirText) {
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->Error(StatusCode::kErr, "a\r\nb"); }), "-ERR a  b\r\n");
  EXPECT_EQ(Resp([](ReplyWriter* w) { w->SimpleString("x\ny"); }), "+x y\r\n");
}

TEST(ReplyWriterTest, EveryValueRoundTripsThroughBothProtocols) {
  struct Case {
    Command command;
    ReplyValue binary;  // what the binary decoder yields
    ReplyValue resp;    // what the RESP decoder yields
  };
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Case> cases = {
      {[](ReplyWriter* w) { w->Nil(); }, ReplyValue::Nil(), ReplyValue::Nil()},
      {[](ReplyWriter* w) { w->Integer(INT64_MIN); }, ReplyValue::Int64(INT64_MIN),
       ReplyValue::Int64(INT64_MIN)},
      {[](ReplyWriter* w) { w->Double(0.1); }, ReplyValue::Float64(0.1), ReplyValue::Bytes("0.1")},
      {[&](ReplyWriter* w) { w->Double(inf); }, ReplyValue::Float64(inf), ReplyValue::Bytes("inf")},
      {[](ReplyWriter* w) { w->Bytes(std::string_view("\0\r\n", 3)); },
       ReplyValue::Bytes(std::string_view("\0\r\n", 3)),
       ReplyValue::Bytes(std::string_view("\0\r\n", 3))},
      {[](ReplyWriter* w) { w->SimpleString("OK"); }, ReplyValue::SimpleString("OK"),
       ReplyValue::SimpleString("OK")},
      {[](ReplyWriter* w) { w->Error(StatusCode::kWrongType, "wrong kind"); },
       ReplyValue::Error(StatusCode::kWrongType, "wrong kind"),
       ReplyValue::Error(StatusCode::kWrongType, "WRONGTYPE wrong kind")},
      {[](ReplyWriter* w) { w->ArrayHeader(0); }, ReplyValue::Array({}), ReplyValue::Array({})},
      {[](ReplyWriter* w) {
         w->ArrayHeader(3);
         w->Integer(1);
         w->ArrayHeader(2);
         w->Nil();
         w->Error(StatusCode::kErr, "inner");
         w->Bytes("z");
       },
       ReplyValue::Array(
           {ReplyValue::Int64(1),
            ReplyValue::Array({ReplyValue::Nil(), ReplyValue::Error(StatusCode::kErr, "inner")}),
            ReplyValue::Bytes("z")}),
       ReplyValue::Array({ReplyValue::Int64(1),
                          ReplyValue::Array({ReplyValue::Nil(),
                                             ReplyValue::Error(StatusCode::kErr, "ERR inner")}),
                          ReplyValue::Bytes("z")})},
  };
  for (const Case& c : cases) {
    const BinaryReply binary = Binary(c.command);
    EXPECT_EQ(binary.request_id, 77u);
    EXPECT_EQ(binary.value, c.binary) << binary.value.ToString();
    EXPECT_EQ(binary.status,
              c.binary.type == ValueType::kError ? c.binary.status : StatusCode::kOk);
    EXPECT_EQ(RespDecoded(c.command), c.resp) << RespDecoded(c.command).ToString();
  }
}

TEST(ReplyWriterTest, OversizedRepliesBecomeLimitErrors) {
  const auto big = [](ReplyWriter* w) {
    w->ArrayHeader(2);
    w->Bytes(std::string(100, 'x'));
    w->Bytes(std::string(100, 'y'));
  };
  EXPECT_EQ(Resp(big, 64), "-LIMIT reply of 220 bytes exceeds the limit of 64 bytes\r\n");
  const BinaryReply binary = Binary(big, 5, 64);
  EXPECT_EQ(binary.request_id, 5u);
  EXPECT_EQ(binary.status, StatusCode::kLimit);
  EXPECT_EQ(binary.value.bytes, "reply of 227 bytes exceeds the limit of 64 bytes");
}

TEST(ReplyWriterTest, PipelinedRepliesFollowRequestOrder) {
  std::string out;
  BinaryReplyWriter writer(&out);
  for (uint32_t id : {5u, 6u, 7u}) {
    writer.BeginReply(id);
    writer.Integer(id * 10);
    writer.EndReply();
  }
  std::string_view rest = out;
  for (uint32_t id : {5u, 6u, 7u}) {
    BinaryReply reply;
    const DecodeResult result = BinaryReplyDecoder().Decode(rest, kReplySizeBytesMax, &reply);
    ASSERT_TRUE(result.complete());
    EXPECT_EQ(reply.request_id, id);
    EXPECT_EQ(reply.value, ReplyValue::Int64(id * 10));
    rest.remove_prefix(result.consumed_bytes());
  }
  EXPECT_TRUE(rest.empty());
}

// A deferred command's reply: begun, cancelled, the bytes before it sent and dropped from the
// buffer (as a connection's Flush does meanwhile), then begun again and written.
TEST(ReplyWriterTest, ACancelledReplyLeavesNothingAndCanBeginAgainLater) {
  std::string out;
  BinaryReplyWriter writer(&out);
  writer.BeginReply(5);
  writer.Integer(50);
  writer.EndReply();
  const size_t first_frame = out.size();
  writer.BeginReply(6);
  writer.CancelReply();
  EXPECT_EQ(out.size(), first_frame);
  out.erase(0, first_frame);  // sent
  writer.BeginReply(6);
  writer.Integer(60);
  writer.EndReply();
  BinaryReply reply;
  const DecodeResult result = BinaryReplyDecoder().Decode(out, kReplySizeBytesMax, &reply);
  ASSERT_TRUE(result.complete()) << result.error_message();
  EXPECT_EQ(result.consumed_bytes(), out.size());
  EXPECT_EQ(reply.request_id, 6u);
  EXPECT_EQ(reply.value, ReplyValue::Int64(60));
}

TEST(ReplyWriterDeathTest, MisshapenRepliesAreProgrammerErrors) {
  EXPECT_DEATH(Resp([](ReplyWriter*) {}), "exactly one complete value");
  EXPECT_DEATH(Resp([](ReplyWriter* w) {
                 w->ArrayHeader(2);
                 w->Integer(1);
               }),
               "exactly one complete value");
  EXPECT_DEATH(Resp([](ReplyWriter* w) {
                 for (size_t i = 0; i <= kReplyNestingDepthMax; ++i) w->ArrayHeader(1);
               }),
               "nested too deep");
  EXPECT_DEATH(Resp([](ReplyWriter* w) {
                 w->Integer(1);
                 w->CancelReply();
               }),
               "CancelReply after a value");
}

}  // namespace
}  // namespace podium::protocol
