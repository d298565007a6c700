#include "protocol/handshake.h"

#include <gtest/gtest.h>

#include <string>

namespace podium::protocol {
namespace {

TEST(BinaryHandshakeTest, ClientHelloBytes) {
  std::string out;
  AppendClientHello({}, &out);
  EXPECT_EQ(out, std::string("\xB0\x50\x44\x4D\x01\x00\x00\x00", 8));
}

TEST(BinaryHandshakeTest, RoundTripsAndWaitsForAllEightBytes) {
  std::string out;
  AppendServerHello({1, StatusCode::kProtocol}, &out);
  ServerHello hello;
  for (size_t size = 0; size < kHandshakeSizeBytes; ++size) {
    EXPECT_TRUE(DecodeServerHello(out.substr(0, size), &hello).need_more()) << size;
  }
  const DecodeResult result = DecodeServerHello(out + "more", &hello);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed_bytes(), kHandshakeSizeBytes);
  EXPECT_EQ(hello.version, 1);
  EXPECT_EQ(hello.status, StatusCode::kProtocol);
}

TEST(BinaryHandshakeTest, WrongMagicFailsAsSoonAsItDiffers) {
  ClientHello hello;
  EXPECT_TRUE(DecodeClientHello(std::string("\xB0", 1), &hello).need_more());
  const DecodeResult result = DecodeClientHello(std::string("\xB0X", 2), &hello);
  ASSERT_TRUE(result.error());
  EXPECT_EQ(result.error_message(), "Protocol error: bad handshake magic");
  EXPECT_TRUE(DecodeClientHello("*1\r\n$4\r\n", &hello).error());
}

TEST(BinaryHandshakeTest, DetectsProtocolFromTheFirstByte) {
  EXPECT_EQ(DetectProtocol(""), WireProtocol::kUndecided);
  EXPECT_EQ(DetectProtocol("\xB0"), WireProtocol::kBinary);
  EXPECT_EQ(DetectProtocol("*1\r\n"), WireProtocol::kResp);
  EXPECT_EQ(DetectProtocol("PING\r\n"), WireProtocol::kResp);
}

TEST(BinaryHandshakeTest, ServerAnswersWithTheCommonVersion) {
  EXPECT_EQ(AnswerClientHello({1, 0}).status, StatusCode::kOk);
  EXPECT_EQ(AnswerClientHello({1, 0}).version, 1);
  const ServerHello newer = AnswerClientHello({7, 0});  // a newer client may go on with v1
  EXPECT_EQ(newer.status, StatusCode::kOk);
  EXPECT_EQ(newer.version, kProtocolVersion);
  EXPECT_EQ(AnswerClientHello({0, 0}).status, StatusCode::kProtocol);
  EXPECT_EQ(AnswerClientHello({1, 1}).status, StatusCode::kProtocol);
}

}  // namespace
}  // namespace podium::protocol
