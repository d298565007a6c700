// The expected strings are redis-cli 7.0's output for the same replies from redis-server.
#include "client/reply_format.h"

#include <gtest/gtest.h>

#include <cmath>

namespace podium::client {
namespace {

using protocol::ReplyValue;
using protocol::StatusCode;

constexpr ClientProtocol kBinary = ClientProtocol::kBinary;
constexpr ClientProtocol kResp = ClientProtocol::kResp;

TEST(CliReplyFormatTest, Scalars) {
  EXPECT_EQ(FormatReply(ReplyValue::SimpleString("OK"), kBinary), "OK\n");
  EXPECT_EQ(FormatReply(ReplyValue::Int64(5), kBinary), "(integer) 5\n");
  EXPECT_EQ(FormatReply(ReplyValue::Int64(-2), kResp), "(integer) -2\n");
  EXPECT_EQ(FormatReply(ReplyValue::Bytes("v"), kBinary), "\"v\"\n");
  EXPECT_EQ(FormatReply(ReplyValue::Nil(), kBinary), "(nil)\n");
  EXPECT_EQ(FormatReply(ReplyValue::Bytes(""), kResp), "\"\"\n");
}

TEST(CliReplyFormatTest, BytesAreQuotedLikeSdscatrepr) {
  EXPECT_EQ(FormatReply(ReplyValue::Bytes("a\"b\\c\nd\te\xc3\xa9\r\a\b\x01"), kResp),
            "\"a\\\"b\\\\c\\nd\\te\\xc3\\xa9\\r\\a\\b\\x01\"\n");
}

TEST(CliReplyFormatTest, FloatsPrintAsTheirShortestText) {
  EXPECT_EQ(FormatReply(ReplyValue::Float64(2.5), kBinary), "\"2.5\"\n");
  EXPECT_EQ(FormatReply(ReplyValue::Float64(1), kBinary), "\"1\"\n");
  EXPECT_EQ(FormatReply(ReplyValue::Float64(1.1), kBinary), "\"1.1\"\n");
  EXPECT_EQ(FormatReply(ReplyValue::Float64(0.1 + 0.2), kBinary), "\"0.30000000000000004\"\n");
  EXPECT_EQ(FormatReply(ReplyValue::Float64(-INFINITY), kBinary), "\"-inf\"\n");
  EXPECT_EQ(FormatReplyRaw(ReplyValue::Float64(2.5), kBinary), "2.5\n");
}

TEST(CliReplyFormatTest, ErrorsBothProtocols) {
  EXPECT_EQ(FormatReply(ReplyValue::Error(StatusCode::kSoldOut, "3"), kBinary),
            "(error) SOLDOUT 3\n");
  EXPECT_EQ(FormatReply(ReplyValue::Error(StatusCode::kSoldOut, "SOLDOUT 3"), kResp),
            "(error) SOLDOUT 3\n");
  EXPECT_EQ(
      FormatReply(ReplyValue::Error(StatusCode::kUnknownCommand, "unknown command 'x'"), kBinary),
      "(error) ERR unknown command 'x'\n");
  EXPECT_EQ(
      FormatReply(ReplyValue::Error(StatusCode::kWrongType,
                                    "Operation against a key holding the wrong kind of value"),
                  kBinary),
      "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n");
  EXPECT_EQ(ErrorLine(ReplyValue::Error(StatusCode::kNotFound, "no such product"), kBinary),
            "NOTFOUND no such product");
  EXPECT_EQ(ErrorLine(ReplyValue::Error(StatusCode::kErr, "MOVED 3999 127.0.0.1:6381"), kResp),
            "MOVED 3999 127.0.0.1:6381");
}

TEST(CliReplyFormatTest, ArraysAreNumbered) {
  const ReplyValue reply = ReplyValue::Array({ReplyValue::Bytes("bb"), ReplyValue::Float64(2.5),
                                              ReplyValue::Bytes("a"), ReplyValue::Float64(1)});
  EXPECT_EQ(FormatReply(reply, kBinary), "1) \"bb\"\n2) \"2.5\"\n3) \"a\"\n4) \"1\"\n");
  EXPECT_EQ(FormatReplyRaw(reply, kBinary), "bb\n2.5\na\n1\n");
  EXPECT_EQ(FormatReply(ReplyValue::Array({}), kBinary), "(empty array)\n");
  EXPECT_EQ(FormatReplyRaw(ReplyValue::Array({}), kBinary), "\n");
}

TEST(CliReplyFormatTest, NumbersAlignToTheWidestIndex) {
  std::vector<ReplyValue> elements;
  for (int i = 0; i < 10; ++i) elements.push_back(ReplyValue::Int64(i));
  const std::string text = FormatReply(ReplyValue::Array(std::move(elements)), kBinary);
  EXPECT_EQ(text.substr(0, 32), " 1) (integer) 0\n 2) (integer) 1\n");
  EXPECT_NE(text.find("\n10) (integer) 9\n"), std::string::npos);
}

TEST(CliReplyFormatTest, NestedArraysIndent) {
  // COMMAND INFO's shape: [["get", 2, ["readonly", "fast"], []]].
  const ReplyValue reply = ReplyValue::Array({ReplyValue::Array(
      {ReplyValue::Bytes("get"), ReplyValue::Int64(2),
       ReplyValue::Array({ReplyValue::SimpleString("readonly"), ReplyValue::SimpleString("fast")}),
       ReplyValue::Array({}), ReplyValue::Nil()})});
  EXPECT_EQ(FormatReply(reply, kResp),
            "1) 1) \"get\"\n"
            "   2) (integer) 2\n"
            "   3) 1) readonly\n"
            "      2) fast\n"
            "   4) (empty array)\n"
            "   5) (nil)\n");
  EXPECT_EQ(FormatReplyRaw(reply, kResp), "get\n2\nreadonly\nfast\n\n\n");
}

TEST(CliReplyFormatTest, NestedIndentGrowsWithTheParentsWidth) {
  std::vector<ReplyValue> elements(9, ReplyValue::Int64(0));
  elements.push_back(
      ReplyValue::Array({ReplyValue::Bytes("a"), ReplyValue::Array({ReplyValue::Bytes("b")})}));
  const std::string text = FormatReply(ReplyValue::Array(std::move(elements)), kBinary);
  EXPECT_NE(text.find("\n10) 1) \"a\"\n    2) 1) \"b\"\n"), std::string::npos) << text;
}

TEST(CliReplyFormatTest, RawForm) {
  EXPECT_EQ(FormatReplyRaw(ReplyValue::SimpleString("OK"), kBinary), "OK\n");
  EXPECT_EQ(FormatReplyRaw(ReplyValue::Int64(2), kBinary), "2\n");
  EXPECT_EQ(FormatReplyRaw(ReplyValue::Nil(), kBinary), "\n");
  EXPECT_EQ(FormatReplyRaw(ReplyValue::Bytes("a\"b\nc"), kBinary), "a\"b\nc\n");
  EXPECT_EQ(FormatReplyRaw(ReplyValue::Error(StatusCode::kErr, "ERR unknown command 'foo'"), kResp),
            "ERR unknown command 'foo'\n\n");
}

}  // namespace
}  // namespace podium::client
