#include "protocol/status_codes.h"

#include <gtest/gtest.h>

namespace podium::protocol {
namespace {

TEST(ProtocolStatusCodeTest, NumbersAreTheContract) {
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kOk), 0);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kErr), 1);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kWrongType), 2);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kNoAuth), 3);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kUnknownCommand), 4);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kSoldOut), 5);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kNotFound), 6);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kLimit), 7);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kProtocol), 8);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kBusy), 9);
  EXPECT_EQ(static_cast<uint16_t>(StatusCode::kWrongPass), 10);
}

TEST(ProtocolStatusCodeTest, NamesAndRespCodes) {
  EXPECT_EQ(StatusCodeName(StatusCode::kSoldOut), "SOLDOUT");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnknownCommand), "UNKNOWN_COMMAND");
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(77)), "UNKNOWN");
  EXPECT_EQ(FindStatusCode(static_cast<StatusCode>(77)), nullptr);
  EXPECT_EQ(RespErrorCode(StatusCode::kWrongType), "WRONGTYPE");
  EXPECT_EQ(RespErrorCode(StatusCode::kUnknownCommand), "ERR");
  EXPECT_EQ(RespErrorCode(StatusCode::kProtocol), "ERR");
  EXPECT_EQ(RespErrorCode(StatusCode::kNotFound), "NOTFOUND");
  EXPECT_EQ(RespErrorCode(static_cast<StatusCode>(77)), "ERR");
}

TEST(ProtocolStatusCodeTest, RespErrorLinesClassifyBack) {
  EXPECT_EQ(StatusCodeFromRespError("ERR wrong number of arguments"), StatusCode::kErr);
  EXPECT_EQ(StatusCodeFromRespError("ERR"), StatusCode::kErr);
  EXPECT_EQ(StatusCodeFromRespError("ERR unknown command 'FOO', with args beginning with: "),
            StatusCode::kUnknownCommand);
  EXPECT_EQ(StatusCodeFromRespError("ERR Protocol error: invalid bulk length"),
            StatusCode::kProtocol);
  EXPECT_EQ(StatusCodeFromRespError("WRONGTYPE Operation against a key"), StatusCode::kWrongType);
  EXPECT_EQ(StatusCodeFromRespError("SOLDOUT 3"), StatusCode::kSoldOut);
  EXPECT_EQ(StatusCodeFromRespError("NOAUTH Authentication required."), StatusCode::kNoAuth);
  EXPECT_EQ(StatusCodeFromRespError("SOLDOUTX 3"), StatusCode::kErr);  // a word, not a prefix
  EXPECT_EQ(StatusCodeFromRespError("MOVED 3999 127.0.0.1:6381"), StatusCode::kErr);
  EXPECT_EQ(StatusCodeFromRespError(""), StatusCode::kErr);
  for (const StatusCodeInfo& info : kStatusCodes) {
    if (info.code == StatusCode::kOk) continue;
    EXPECT_EQ(StatusCodeFromRespError(std::string(info.resp_prefix) + " x"), info.code)
        << info.name;
  }
}

}  // namespace
}  // namespace podium::protocol
