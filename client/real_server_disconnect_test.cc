// How the C++ client behaves when the real podium-server ends a connection, over the binary
// protocol and over RESP: a batch cut short by QUIT, by a request past --max_request_bytes or
// while the client is still sending returns the replies that arrived (client.h,
// PipelineResult); a connection the server closed while it was quiet (--idle_timeout_sec) is
// replaced before the next request is sent; and a server at --maxclients refuses the
// connection, not the password. Reconnecting after a restart: real_server_connection_test.cc.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/real_server_fixture.h"
#include "protocol/limits.h"

namespace podium::client {
namespace {

using protocol::ReplyValue;
using protocol::StatusCode;
using testing::Bytes;
using testing::Int;
using testing::kPassword;
using testing::Ok;
using testing::ProtocolName;

class RealServerDisconnectTest : public testing::RealServerFixture {};

TEST_P(RealServerDisconnectTest, ABatchCutShortReturnsTheRepliesThatArrived) {
  // The reservations acknowledged before the connection closed must reach the caller: they
  // ran, and repeating them would reserve twice.
  ASSERT_EQ(Call("STOCK.SET", 900, 10), Int(10));
  Pipeline pipeline = client_->Pipeline();
  pipeline.Add("STOCK.RESERVE", 900, 3);
  pipeline.Add("NOSUCH-LOCALLY-ANSWERED-OVER-BINARY");
  pipeline.Add("STOCK.RESERVE", 900, 3);
  pipeline.Add("QUIT");
  pipeline.Add("STOCK.RESERVE", 900, 3);
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kClosed) << batch.status.ToString();
  ASSERT_EQ(batch.replies.size(), 4u);
  EXPECT_EQ(batch.replies[0], Int(7));
  EXPECT_EQ(batch.replies[1].status, StatusCode::kUnknownCommand) << batch.replies[1].ToString();
  EXPECT_EQ(batch.replies[2], Int(4));
  EXPECT_EQ(batch.replies[3], Ok());
  EXPECT_EQ(Call("STOCK.GET", 900), Int(4));  // the request after QUIT did not run
}

TEST_P(RealServerDisconnectTest, ABatchWithManyRequestsAfterQuitStillReturnsTheEarlyReplies) {
  // More bytes after QUIT than the socket buffers hold: the client is still sending when the
  // server closes with requests unread (a reset), and its send fails. (That the replies may
  // still be unread then is pipeline_test's RepliesBeforeAResetThatFailsASendAreKept.)
  ASSERT_EQ(Call("STOCK.SET", 901, 10), Int(10));
  Pipeline pipeline = client_->Pipeline();
  pipeline.Add("STOCK.RESERVE", 901, 2);
  pipeline.Add("QUIT");
  const std::string value(60'000, 'v');
  constexpr int kAfterQuit = 400;  // 24 MB
  for (int i = 0; i < kAfterQuit; ++i) pipeline.Add("SET", "after-quit", value);
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kClosed) << batch.status.ToString();
  EXPECT_EQ(batch.replies, (std::vector<ReplyValue>{Int(8), Ok()}));
  EXPECT_EQ(Call("STOCK.GET", 901), Int(8));
  EXPECT_EQ(Call("EXISTS", "after-quit"), Int(0));
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerDisconnectTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

// Past --maxclients with --requirepass: over RESP the server's refusal line is the answer to
// the client's AUTH, and it is still a refused connection (a later attempt may be let in),
// not a refused password.
class RealServerMaxClientsAuthTest : public testing::RealServerFixture {
 protected:
  void SetUp() override {
    StartServer({"--maxclients=2", "--requirepass=" + std::string(kPassword)}, kPassword);
  }

  ClientOptions PasswordOptions() const {
    ClientOptions options = Options();
    options.password = kPassword;
    return options;
  }
};

TEST_P(RealServerMaxClientsAuthTest, PastMaxclientsIsARefusedConnectionNotARefusedPassword) {
  ASSERT_NE(client_, nullptr);
  ASSERT_EQ(InfoWhen("clients", "connected_clients", "1").fields["connected_clients"], "1");
  std::unique_ptr<Client> second = Connect(PasswordOptions());
  ASSERT_NE(second, nullptr);

  constexpr std::string_view kReason = "max number of clients reached";
  Result<Client> third = Client::Connect(PasswordOptions());
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), ErrorCode::kConnectFailed) << third.status().ToString();
  EXPECT_NE(third.status().message().find(kReason), std::string::npos) << third.status().ToString();

  // A client that must reconnect while the server is full tries every attempt, since the
  // password is not what failed.
  EXPECT_EQ(CallOn(*second, "QUIT"), Ok());
  ASSERT_EQ(InfoWhen("clients", "connected_clients", "1").fields["connected_clients"], "1");
  std::unique_ptr<Client> filler = Connect(Options());
  ASSERT_NE(filler, nullptr);
  ASSERT_EQ(CallOn(*filler, "PING"), ReplyValue::SimpleString("PONG"));  // admitted
  Result<ReplyValue> full = second->Call("PING");
  ASSERT_FALSE(full.ok()) << full->ToString();
  EXPECT_EQ(full.status().code(), ErrorCode::kConnectFailed) << full.status().ToString();
  EXPECT_NE(full.status().message().find("after 3 attempt(s)"), std::string::npos)
      << full.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerMaxClientsAuthTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

// With --idle_timeout_sec the server closes a quiet connection; the client's next call
// connects again instead of failing on the dead one.
class RealServerIdleTimeoutTest : public testing::RealServerFixture {
 protected:
  void SetUp() override { StartServer({"--idle_timeout_sec=1"}); }
};

TEST_P(RealServerIdleTimeoutTest, ACallAfterTheServerClosedAnIdleConnectionSucceeds) {
  ASSERT_EQ(Call("SET", "idle:key", "v"), Ok());
  std::unique_ptr<Client> watcher = Connect(Options());
  ASSERT_NE(watcher, nullptr);
  // client_ is quiet; the watcher, polling, is not.
  ASSERT_EQ(
      InfoWhen("clients", "connected_clients", "2", watcher.get()).fields["connected_clients"],
      "2");
  ASSERT_EQ(
      InfoWhen("clients", "connected_clients", "1", watcher.get()).fields["connected_clients"], "1")
      << "the server did not close the idle connection";
  EXPECT_EQ(Call("GET", "idle:key"), Bytes("v"));
  EXPECT_TRUE(client_->connected());
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerIdleTimeoutTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

// With --max_request_bytes, a request past it mid-batch makes the server close with a
// PROTOCOL error: the replies before it still reach the caller.
class RealServerMaxRequestTest : public testing::RealServerFixture {
 protected:
  static constexpr size_t kMaxRequestBytes = protocol::kUnauthenticatedRequestSizeBytesMax;
  void SetUp() override {
    StartServer({"--max_request_bytes=" + std::to_string(kMaxRequestBytes)});
  }
};

TEST_P(RealServerMaxRequestTest, ARequestPastTheLimitMidBatchKeepsTheRepliesBeforeIt) {
  Pipeline pipeline = client_->Pipeline();
  pipeline.Add("INCRBY", "big:counter", 1);
  pipeline.Add("INCRBY", "big:counter", 1);
  pipeline.Add("SET", "big:value", std::string(2 * kMaxRequestBytes, 'x'));
  pipeline.Add("INCRBY", "big:counter", 1);
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kProtocol) << batch.status.ToString();
  EXPECT_EQ(batch.replies, (std::vector<ReplyValue>{Int(1), Int(2)}));
  EXPECT_EQ(Call("GET", "big:counter"), Bytes("2"));
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerMaxRequestTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

}  // namespace
}  // namespace podium::client
