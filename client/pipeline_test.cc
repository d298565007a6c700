// Client against FakeServer: pipelines, replies split byte by byte, malformed and oversized
// replies, and the RESP protocol.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "client/client.h"
#include "client/fake_server.h"
#include "protocol/little_endian.h"

namespace podium::client {
namespace {

using protocol::Opcode;
using protocol::ReplyValue;
using protocol::StatusCode;
using testing::BinaryReplyBytes;
using testing::FakeConnection;
using testing::FakeServer;
using testing::RespReplyBytes;

ClientOptions OptionsFor(const FakeServer& server, ClientProtocol protocol) {
  ClientOptions options;
  options.port = server.port();
  options.io_timeout_ms = 3000;
  options.protocol = protocol;
  options.reconnect_attempts = 0;
  return options;
}

TEST(ClientPipelineTest, RepliesComeBackInRequestOrder) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    // All three requests arrive before any reply is sent: one batch, not three round trips.
    const auto requests = connection.ReadBinaryRequests(3);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].opcode, Opcode::kZAdd);
    EXPECT_EQ(requests[1].opcode, Opcode::kZCard);
    EXPECT_EQ(requests[2].opcode, Opcode::kZRevRange);
    EXPECT_NE(requests[0].request_id, requests[1].request_id);
    EXPECT_NE(requests[1].request_id, requests[2].request_id);
    std::string replies = BinaryReplyBytes(requests[0].request_id, ReplyValue::Int64(1));
    replies += BinaryReplyBytes(requests[1].request_id, ReplyValue::Int64(7));
    replies +=
        BinaryReplyBytes(requests[2].request_id,
                         ReplyValue::Array({ReplyValue::Bytes("a"), ReplyValue::Float64(2.5)}));
    connection.Write(replies);
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  pipeline.Add(Opcode::kZAdd, "b", 2.5, "a");
  pipeline.Add("NOSUCH");  // answered locally, in its place
  pipeline.Add(Opcode::kZCard, "b");
  pipeline.Add("ZREVRANGE", "b", 0, -1, "WITHSCORES");
  EXPECT_EQ(pipeline.size(), 4u);
  PipelineResult batch = pipeline.Execute();
  ASSERT_TRUE(batch.ok()) << batch.status.ToString();
  EXPECT_EQ(batch.replies,
            (std::vector<ReplyValue>{
                ReplyValue::Int64(1),
                ReplyValue::Error(StatusCode::kUnknownCommand, "unknown command 'NOSUCH'"),
                ReplyValue::Int64(7),
                ReplyValue::Array({ReplyValue::Bytes("a"), ReplyValue::Float64(2.5)})}));
  EXPECT_EQ(pipeline.size(), 0u);
}

TEST(ClientPipelineTest, EmptyPipelineSendsNothing) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    EXPECT_TRUE(connection.WaitForClientClose());
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  PipelineResult batch = pipeline.Execute();
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch.replies.empty());
}

TEST(ClientPipelineTest, AReplyForTheWrongRequestIsAProtocolError) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    const auto requests = connection.ReadBinaryRequests(2);
    ASSERT_EQ(requests.size(), 2u);
    connection.Write(BinaryReplyBytes(requests[1].request_id, ReplyValue::Int64(1)));
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  pipeline.Add(Opcode::kPing);
  pipeline.Add(Opcode::kPing);
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kProtocol) << batch.status.ToString();
  EXPECT_FALSE(client->connected());
}

TEST(ClientPipelineTest, AFailureMidBatchKeepsTheRepliesBeforeIt) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    const auto requests = connection.ReadBinaryRequests(3);
    ASSERT_EQ(requests.size(), 3u);
    connection.Write(BinaryReplyBytes(requests[0].request_id, ReplyValue::Int64(7)));
    connection.Close();  // the second and third replies never come
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  pipeline.Add(Opcode::kStockReserve, 1, 3);
  pipeline.Add("NOSUCH");  // answered locally, after a reply that arrived
  pipeline.Add(Opcode::kStockReserve, 1, 3);
  pipeline.Add("NOSUCH");  // after the first unanswered request: left out
  pipeline.Add(Opcode::kStockReserve, 1, 3);
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kClosed) << batch.status.ToString();
  EXPECT_EQ(batch.replies,
            (std::vector<ReplyValue>{
                ReplyValue::Int64(7),
                ReplyValue::Error(StatusCode::kUnknownCommand, "unknown command 'NOSUCH'")}));
  EXPECT_FALSE(client->connected());
  EXPECT_EQ(pipeline.size(), 0u);
}

TEST(ClientPipelineTest, RepliesBeforeAResetThatFailsASendAreKept) {
  // A reply and then a reset both wait in the client's socket when it sends: the send fails
  // (ECONNRESET), but the reply that came first is still read and returned. Arranged before
  // Execute starts: the server answers request id 1, the id the batch's first request gets.
  std::promise<void> reset;
  FakeServer server({[&reset](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    connection.Write(BinaryReplyBytes(1, ReplyValue::Int64(7)));
    connection.CloseWithReset();
    reset.set_value();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_EQ(reset.get_future().wait_for(std::chrono::milliseconds(FakeConnection::kWaitMs)),
            std::future_status::ready);
  Pipeline pipeline = client->Pipeline();
  pipeline.Add(Opcode::kStockReserve, 1, 3);
  pipeline.Add(Opcode::kStockReserve, 1, 3);
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kClosed) << batch.status.ToString();
  EXPECT_EQ(batch.replies, std::vector<ReplyValue>{ReplyValue::Int64(7)});
  EXPECT_FALSE(client->connected());
}

TEST(ClientPipelineTest, ABadAddFailsExecuteWithoutSending) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    EXPECT_TRUE(connection.WaitForClientClose());
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  pipeline.Add(Opcode::kPing);
  pipeline.Add(Opcode::kSet, "k", std::string(protocol::kArgumentSizeBytesMax + 1, 'x'));
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(batch.replies.empty());  // nothing ran
  EXPECT_TRUE(client->connected());
}

TEST(ClientPipelineTest, ManyRequestsDoNotDeadlock) {
  // More request and reply bytes than the kernel's socket buffers hold: the client must read
  // replies while it is still writing requests.
  constexpr size_t kRequests = 50000;
  const std::string value(200, 'v');
  FakeServer server({[&value](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    for (size_t answered = 0; answered < kRequests;) {
      const auto requests =
          connection.ReadBinaryRequests(std::min<size_t>(100, kRequests - answered));
      ASSERT_FALSE(requests.empty());
      std::string replies;
      for (const auto& request : requests) {
        replies += BinaryReplyBytes(request.request_id, ReplyValue::Bytes(value));
      }
      connection.Write(replies);
      answered += requests.size();
    }
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  for (size_t i = 0; i < kRequests; ++i) pipeline.Add(Opcode::kSet, "key", value);
  PipelineResult batch = pipeline.Execute();
  ASSERT_TRUE(batch.ok()) << batch.status.ToString();
  ASSERT_EQ(batch.replies.size(), kRequests);
  EXPECT_EQ(batch.replies.back(), ReplyValue::Bytes(value));
}

const ReplyValue& NestedReply() {
  static const ReplyValue* const reply = new ReplyValue(ReplyValue::Array(
      {ReplyValue::Bytes("member"), ReplyValue::Float64(-0.5), ReplyValue::Nil(),
       ReplyValue::Array({ReplyValue::Int64(-7), ReplyValue::SimpleString("OK")})}));
  return *reply;
}

TEST(ClientPipelineTest, BinaryReplySplitByteByByte) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    const auto requests = connection.ReadBinaryRequests(2);
    ASSERT_EQ(requests.size(), 2u);
    connection.WriteByteByByte(BinaryReplyBytes(requests[0].request_id, NestedReply()) +
                               BinaryReplyBytes(requests[1].request_id, ReplyValue::Int64(9)));
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kBinary));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  pipeline.Add(Opcode::kZRange, "b", 0, -1);
  pipeline.Add(Opcode::kZCard, "b");
  PipelineResult batch = pipeline.Execute();
  ASSERT_TRUE(batch.ok()) << batch.status.ToString();
  EXPECT_EQ(batch.replies, (std::vector<ReplyValue>{NestedReply(), ReplyValue::Int64(9)}));
}

TEST(ClientPipelineTest, RespReplySplitByteByByte) {
  FakeServer server({[](FakeConnection& connection) {
    const auto requests = connection.ReadRespRequests(2);
    ASSERT_EQ(requests.size(), 2u);
    connection.WriteByteByByte(RespReplyBytes(NestedReply()) +
                               RespReplyBytes(ReplyValue::Int64(9)));
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kResp));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Pipeline pipeline = client->Pipeline();
  pipeline.Add(Opcode::kZRange, "b", 0, -1);
  pipeline.Add(Opcode::kZCard, "b");
  PipelineResult batch = pipeline.Execute();
  ASSERT_TRUE(batch.ok()) << batch.status.ToString();
  // RESP has no doubles: the score arrives as its text.
  const ReplyValue expected = ReplyValue::Array(
      {ReplyValue::Bytes("member"), ReplyValue::Bytes("-0.5"), ReplyValue::Nil(),
       ReplyValue::Array({ReplyValue::Int64(-7), ReplyValue::SimpleString("OK")})});
  EXPECT_EQ(batch.replies, (std::vector<ReplyValue>{expected, ReplyValue::Int64(9)}));
}

TEST(ClientPipelineTest, OversizedDeclaredFrameIsRefusedAtOnce) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    EXPECT_EQ(connection.ReadBinaryRequests(1).size(), 1u);
    std::string header;
    protocol::AppendU32(&header, 0xFFFFFFF0u);  // a 4 GiB frame, of which nothing follows
    connection.Write(header);
    EXPECT_TRUE(connection.WaitForClientClose());
  }});
  ClientOptions options = OptionsFor(server, ClientProtocol::kBinary);
  options.io_timeout_ms = 4000;
  Result<Client> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const auto start = std::chrono::steady_clock::now();
  Result<ReplyValue> reply = client->Call(Opcode::kGet, "k");
  ASSERT_FALSE(reply.ok());
  // Refused on the length field, not after waiting for (or allocating) the bytes.
  EXPECT_EQ(reply.status().code(), ErrorCode::kProtocol) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("exceeds the limit"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(client->connected());
}

TEST(ClientPipelineTest, OversizedRespBulkIsRefusedAtOnce) {
  FakeServer server({[](FakeConnection& connection) {
    EXPECT_EQ(connection.ReadRespRequests(1).size(), 1u);
    connection.Write("$1000000000\r\n");
    EXPECT_TRUE(connection.WaitForClientClose());
  }});
  ClientOptions options = OptionsFor(server, ClientProtocol::kResp);
  options.reply_size_bytes_max = size_t{1} << 20;
  Result<Client> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ReplyValue> reply = client->Call(Opcode::kGet, "k");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kProtocol) << reply.status().ToString();
  EXPECT_FALSE(client->connected());
}

TEST(ClientRespTest, SendsNamesAndNumbersAsText) {
  FakeServer server({[](FakeConnection& connection) {
    auto requests = connection.ReadRespRequests(1);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0],
              protocol::testing::Words(Opcode::kZIncrBy, {"ZINCRBY", "board", "1.5", "42"}));
    connection.Write(RespReplyBytes(ReplyValue::Bytes("1.5")));
    requests = connection.ReadRespRequests(1);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0],
              protocol::testing::Words(Opcode::kStockReserve, {"STOCK.RESERVE", "1001", "5"}));
    connection.Write("-SOLDOUT 3\r\n");
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server, ClientProtocol::kResp));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ReplyValue> reply = client->Call(Opcode::kZIncrBy, "board", 1.5, 42);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, ReplyValue::Bytes("1.5"));
  reply = client->Call("STOCK.RESERVE", 1001, 5);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, ReplyValue::Error(StatusCode::kSoldOut, "SOLDOUT 3"));
  EXPECT_TRUE(client->connected());
}

}  // namespace
}  // namespace podium::client
