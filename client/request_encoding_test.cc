#include "client/request_encoding.h"

#include <gtest/gtest.h>

#include "protocol/binary_request_decoder.h"
#include "protocol/testing.h"

namespace podium::client {
namespace {

using protocol::Argument;
using protocol::Opcode;

static_assert(ArgumentLike<Argument>);
static_assert(ArgumentLike<std::string> && ArgumentLike<std::string_view>);
static_assert(ArgumentLike<char[6]> && ArgumentLike<const char*>);
static_assert(ArgumentLike<int> && ArgumentLike<int64_t> && ArgumentLike<uint32_t>);
static_assert(ArgumentLike<double> && ArgumentLike<float>);
static_assert(!ArgumentLike<bool> && !ArgumentLike<char> && !ArgumentLike<unsigned char>);

TEST(ClientRequestEncodingTest, ConvertsValuesToArguments) {
  EXPECT_EQ(ToArgument("abc").type, protocol::ArgumentType::kBytes);
  EXPECT_EQ(ToArgument(std::string("abc")).bytes, "abc");
  EXPECT_EQ(ToArgument(-5).int64, -5);
  EXPECT_EQ(ToArgument(uint32_t{7}).type, protocol::ArgumentType::kInt64);
  EXPECT_EQ(ToArgument(2.5f).float64, 2.5);
  EXPECT_EQ(ToArgument(Argument::Int64(3)).int64, 3);
}

TEST(ClientRequestEncodingTest, BinaryRequestDecodesBack) {
  const std::array<Argument, 2> args = {Argument::Bytes("b"), Argument::Float64(1.5)};
  std::string out;
  std::optional<protocol::ReplyValue> local;
  ASSERT_TRUE(
      AppendRequest(ClientProtocol::kBinary, 9, Opcode::kNone, "zincrby", args, &out, &local).ok());
  EXPECT_FALSE(local.has_value());
  protocol::Request request;
  const protocol::DecodeResult result =
      protocol::BinaryRequestDecoder().Decode(out, protocol::kRequestSizeBytesMax, &request);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed_bytes(), out.size());
  EXPECT_EQ(request.request_id, 9u);
  EXPECT_EQ(request.opcode, Opcode::kZIncrBy);
  ASSERT_EQ(request.args.size(), 2u);
  EXPECT_EQ(request.args[1].float64, 1.5);
}

TEST(ClientRequestEncodingTest, RespUsesTheOpcodesName) {
  const std::array<Argument, 2> args = {Argument::Bytes("k"), Argument::Int64(-3)};
  std::string out;
  std::optional<protocol::ReplyValue> local;
  ASSERT_TRUE(
      AppendRequest(ClientProtocol::kResp, 0, Opcode::kIncrBy, {}, args, &out, &local).ok());
  EXPECT_EQ(out, "*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$2\r\n-3\r\n");
  out.clear();
  // Names go as they are over RESP, known or not (Redis may know them).
  ASSERT_TRUE(
      AppendRequest(ClientProtocol::kResp, 0, Opcode::kNone, "HGETALL", {}, &out, &local).ok());
  EXPECT_EQ(out, "*1\r\n$7\r\nHGETALL\r\n");
  EXPECT_FALSE(local.has_value());
}

TEST(ClientRequestEncodingTest, AnEmptyNameIsAnsweredLocallyInBothProtocols) {
  // `""` typed at podium-cli's prompt: Redis's error reply, and nothing to send.
  const std::array<Argument, 1> args = {Argument::Bytes("x")};
  for (const ClientProtocol wire : {ClientProtocol::kBinary, ClientProtocol::kResp}) {
    std::string out;
    std::optional<protocol::ReplyValue> local;
    ASSERT_TRUE(AppendRequest(wire, 1, Opcode::kNone, "", args, &out, &local).ok());
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(local.has_value());
    EXPECT_EQ(local->type, protocol::ValueType::kError);
    EXPECT_EQ(local->status, protocol::StatusCode::kUnknownCommand);
    EXPECT_EQ(local->bytes,
              wire == ClientProtocol::kResp ? "ERR unknown command ''" : "unknown command ''");
  }
}

TEST(ClientRequestEncodingTest, RefusesWhatTheServerWouldRefuse) {
  std::string out;
  std::optional<protocol::ReplyValue> local;
  const Status no_name =
      AppendRequest(ClientProtocol::kResp, 0, static_cast<Opcode>(999), {}, {}, &out, &local);
  EXPECT_EQ(no_name.code(), ErrorCode::kInvalidArgument);

  const std::string big(protocol::kArgumentSizeBytesMax + 1, 'x');
  const std::array<Argument, 1> big_args = {Argument::Bytes(big)};
  for (const ClientProtocol protocol : {ClientProtocol::kBinary, ClientProtocol::kResp}) {
    EXPECT_EQ(AppendRequest(protocol, 0, Opcode::kGet, {}, big_args, &out, &local).code(),
              ErrorCode::kInvalidArgument);
  }
  const std::vector<Argument> many(protocol::kArgumentsPerRequestMax + 1, Argument::Int64(1));
  EXPECT_EQ(AppendRequest(ClientProtocol::kBinary, 0, Opcode::kDel, {}, many, &out, &local).code(),
            ErrorCode::kInvalidArgument);
  // Many arguments each within the limit, together past the request limit.
  const std::string large(protocol::kArgumentSizeBytesMax, 'y');
  const std::vector<Argument> total(9, Argument::Bytes(large));
  EXPECT_EQ(AppendRequest(ClientProtocol::kResp, 0, Opcode::kDel, {}, total, &out, &local).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());  // nothing half-appended
}

}  // namespace
}  // namespace podium::client
