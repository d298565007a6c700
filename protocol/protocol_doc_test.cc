// docs/protocol.md is the contract; this test holds the page to the code. It decodes every hex
// example on the page and checks it against what the page says it is, re-encodes the requests
// and replies to the same bytes, and finds every opcode, status code and limit in its tables.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "protocol/binary_reply_decoder.h"
#include "protocol/binary_reply_writer.h"
#include "protocol/binary_request_decoder.h"
#include "protocol/handshake.h"
#include "protocol/limits.h"
#include "protocol/opcodes.h"
#include "protocol/request_encoder.h"
#include "protocol/resp_reply_writer.h"
#include "protocol/resp_request_decoder.h"
#include "protocol/status_codes.h"
#include "protocol/testing.h"

namespace podium::protocol {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

const std::string& Doc() {
  static const std::string* doc = new std::string(ReadFile(PODIUM_PROTOCOL_DOC));
  return *doc;
}

// The bytes of the code block after "<!-- hex:name -->": on each line, the hex pairs before '#'.
std::string HexExample(std::string_view name) {
  const std::string marker = "<!-- hex:" + std::string(name) + " -->";
  const size_t at = Doc().find(marker);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no " << marker << " in docs/protocol.md";
    return {};
  }
  const size_t open = Doc().find("```\n", at);
  const size_t close = Doc().find("```", open + 4);
  std::istringstream lines(Doc().substr(open + 4, close - open - 4));
  std::string bytes;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream tokens(line.substr(0, line.find('#')));
    for (std::string token; tokens >> token;) {
      EXPECT_EQ(token.size(), 2u) << "in " << name << ": " << line;
      bytes.push_back(static_cast<char>(std::stoi(token, nullptr, 16)));
    }
  }
  return bytes;
}

TEST(ProtocolDocTest, HandshakeExamples) {
  const std::string client = HexExample("client-hello");
  ClientHello hello;
  ASSERT_TRUE(DecodeClientHello(client, &hello).complete());
  EXPECT_EQ(hello.version, 1);
  EXPECT_EQ(hello.flags, 0);
  EXPECT_EQ(DetectProtocol(client), WireProtocol::kBinary);
  std::string encoded;
  AppendClientHello({1, 0}, &encoded);
  EXPECT_EQ(encoded, client);

  encoded.clear();
  AppendServerHello(AnswerClientHello(hello), &encoded);
  EXPECT_EQ(encoded, HexExample("server-hello"));
}

TEST(ProtocolDocTest, ZincrbyExample) {
  const std::string frame = HexExample("zincrby-request");
  ASSERT_EQ(frame.size(), 40u);
  Request request;
  const DecodeResult result = BinaryRequestDecoder().Decode(frame, kRequestSizeBytesMax, &request);
  ASSERT_TRUE(result.complete()) << result.error_message();
  EXPECT_EQ(result.consumed_bytes(), 40u);
  EXPECT_EQ(request.request_id, 7u);
  EXPECT_EQ(request.opcode, Opcode::kZIncrBy);
  EXPECT_EQ(FindCommand(request.opcode)->name, "ZINCRBY");
  const Argument args[] = {Argument::Bytes("board"), Argument::Float64(1.0), Argument::Bytes("42")};
  EXPECT_EQ(testing::Own(request),
            testing::Own(Request{7, Opcode::kZIncrBy, {}, {args, args + 3}}));
  std::string encoded;
  AppendBinaryRequest(7, Opcode::kZIncrBy, args, &encoded);
  EXPECT_EQ(encoded, frame);

  const std::string reply_frame = HexExample("zincrby-reply");
  ASSERT_EQ(reply_frame.size(), 21u);
  BinaryReply reply;
  ASSERT_TRUE(BinaryReplyDecoder().Decode(reply_frame, kReplySizeBytesMax, &reply).complete());
  EXPECT_EQ(reply.request_id, 7u);
  EXPECT_EQ(reply.status, StatusCode::kOk);
  EXPECT_EQ(reply.value, ReplyValue::Float64(1.0));
  std::string written;
  BinaryReplyWriter writer(&written);
  writer.BeginReply(7);
  writer.Double(1.0);
  writer.EndReply();
  EXPECT_EQ(written, reply_frame);
}

TEST(ProtocolDocTest, FuzzSeedsHoldTheExamples) {
  const std::string corpus = PODIUM_PROTOCOL_FUZZ_CORPUS;
  EXPECT_EQ(ReadFile(corpus + "/fuzz_binary_request/doc_zincrby"), HexExample("zincrby-request"));
  EXPECT_EQ(ReadFile(corpus + "/fuzz_binary_request/doc_reserve"), HexExample("reserve-request"));
  EXPECT_EQ(ReadFile(corpus + "/fuzz_binary_reply/doc_zincrby"), HexExample("zincrby-reply"));
  EXPECT_EQ(ReadFile(corpus + "/fuzz_binary_reply/doc_reserve"), HexExample("reserve-reply"));
}

TEST(ProtocolDocTest, ReserveErrorExample) {
  Request request;
  const std::string frame = HexExample("reserve-request");
  ASSERT_TRUE(BinaryRequestDecoder().Decode(frame, kRequestSizeBytesMax, &request).complete());
  EXPECT_EQ(request.request_id, 8u);
  EXPECT_EQ(request.opcode, Opcode::kStockReserve);
  ASSERT_EQ(request.args.size(), 2u);
  EXPECT_EQ(ArgumentToInt64(request.args[0]), 1001);
  EXPECT_EQ(ArgumentToInt64(request.args[1]), 5);

  const std::string reply_frame = HexExample("reserve-reply");
  std::string binary;
  BinaryReplyWriter binary_writer(&binary);
  std::string resp;
  RespReplyWriter resp_writer(&resp);
  for (ReplyWriter* writer :
       {static_cast<ReplyWriter*>(&binary_writer), static_cast<ReplyWriter*>(&resp_writer)}) {
    writer->BeginReply(8);
    writer->Error(StatusCode::kSoldOut, "3");
    writer->EndReply();
  }
  EXPECT_EQ(binary, reply_frame);
  EXPECT_NE(Doc().find("`-SOLDOUT 3\\r\\n`"), std::string::npos);
  EXPECT_EQ(resp, "-SOLDOUT 3\r\n");
}

TEST(ProtocolDocTest, RespExamplesDecode) {
  // The page writes CR LF as \r\n; the RESP decoder must read those requests as stated.
  const std::string zincrby = "*4\r\n$7\r\nZINCRBY\r\n$5\r\nboard\r\n$1\r\n1\r\n$2\r\n42\r\n";
  const std::string reserve = "*3\r\n$13\r\nSTOCK.RESERVE\r\n$4\r\n1001\r\n$1\r\n5\r\n";
  for (const std::string& request_text : {zincrby, reserve}) {
    std::string escaped;
    for (char c : request_text)
      escaped += c == '\r' ? "\\r" : c == '\n' ? "\\n" : std::string(1, c);
    EXPECT_NE(Doc().find(escaped), std::string::npos) << escaped;
    RespRequestDecoder decoder;
    Request request;
    EXPECT_TRUE(decoder.Decode(request_text, kRequestSizeBytesMax, &request).complete());
    EXPECT_NE(request.opcode, Opcode::kNone);
  }
}

TEST(ProtocolDocTest, EveryOpcodeIsInTheTable) {
  for (const CommandName& command : kCommandNames) {
    const std::string row = "| " + std::to_string(static_cast<uint16_t>(command.opcode)) + " | `" +
                            std::string(command.name) + "` |";
    EXPECT_NE(Doc().find(row), std::string::npos) << "missing row " << row;
  }
}

TEST(ProtocolDocTest, EveryStatusCodeIsInTheTable) {
  for (const StatusCodeInfo& info : kStatusCodes) {
    std::string row = "| " + std::to_string(static_cast<uint16_t>(info.code)) + " | " +
                      std::string(info.name) + " | ";
    if (info.code != StatusCode::kOk) row += "`-" + std::string(info.resp_prefix) + "` |";
    EXPECT_NE(Doc().find(row), std::string::npos) << "missing row " << row;
  }
}

TEST(ProtocolDocTest, EveryLimitIsInTheTable) {
  const std::pair<const char*, size_t> limits[] = {
      {"kRequestSizeBytesMax", kRequestSizeBytesMax},
      {"kUnauthenticatedRequestSizeBytesMax", kUnauthenticatedRequestSizeBytesMax},
      {"kArgumentsPerRequestMax", kArgumentsPerRequestMax},
      {"kArgumentSizeBytesMax", kArgumentSizeBytesMax},
      {"kInlineRequestSizeBytesMax", kInlineRequestSizeBytesMax},
      {"kRespLengthLineBytesMax", kRespLengthLineBytesMax},
      {"kReplySizeBytesMax", kReplySizeBytesMax},
      {"kReplyNestingDepthMax", kReplyNestingDepthMax},
  };
  for (const auto& [name, value] : limits) {
    const std::string cell = "`" + std::string(name) + "` | " + std::to_string(value);
    EXPECT_NE(Doc().find(cell), std::string::npos) << "missing " << cell;
  }
}

}  // namespace
}  // namespace podium::protocol
