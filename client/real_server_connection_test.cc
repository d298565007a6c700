// The connection side of issue 3 through the C++ client against the real podium-server, over
// the binary protocol and over RESP: PING, INFO, COMMAND, QUIT, an unknown command, AUTH with
// --requirepass, a pipelined batch of mixed commands, and reconnecting after the server dies
// and comes back on the same port, as client.h documents it. The data commands:
// real_server_commands_test.cc; batches cut short, idle timeouts, --maxclients with AUTH:
// real_server_disconnect_test.cc. The fixture: real_server_fixture.h.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/real_server_fixture.h"

namespace podium::client {
namespace {

using protocol::Opcode;
using protocol::ReplyValue;
using protocol::StatusCode;
using testing::Array;
using testing::Bytes;
using testing::ExpectedError;
using testing::ExpectedScore;
using testing::Info;
using testing::Int;
using testing::kPassword;
using testing::Ok;
using testing::ParseInfo;
using testing::ProtocolName;
using testing::RealServer;

constexpr std::string_view kBadPassword = "invalid username-password pair or user is disabled.";

class RealServerConnectionTest : public testing::RealServerFixture {};

TEST_P(RealServerConnectionTest, Ping) {
  EXPECT_EQ(Call("PING"), ReplyValue::SimpleString("PONG"));
  EXPECT_EQ(Call(Opcode::kPing, "hello there"), Bytes("hello there"));
  EXPECT_EQ(Call("PING", "a", "b"),
            Error(StatusCode::kErr, "wrong number of arguments for 'ping' command"));
}

TEST_P(RealServerConnectionTest, InfoHasVersionUptimeClientsOpsMemoryAndKeys) {
  const std::string key = "info:text";
  ASSERT_EQ(Call("SET", key, "v"), Ok());
  ASSERT_EQ(Call("SET", "info:other", "v", "EX", 100), Ok());
  ASSERT_EQ(Call("ZADD", "info:board", 1, "m"), Int(1));
  ASSERT_EQ(Call("STOCK.SET", 77, 5), Int(5));

  const Info info = InfoWhen("", "connected_clients", "1");
  const std::vector<std::string> kSections = {"Server", "Clients",      "Memory",  "Persistence",
                                              "Stats",  "Commandstats", "Keyspace"};
  EXPECT_EQ(info.sections, kSections);
  auto field = [&](const std::string& name) {
    const auto found = info.fields.find(name);
    EXPECT_NE(found, info.fields.end()) << "INFO has no " << name;
    return found == info.fields.end() ? std::string() : found->second;
  };
  EXPECT_FALSE(field("podium_version").empty());
  EXPECT_EQ(field("tcp_port"), std::to_string(server_->port()));
  EXPECT_GE(std::stoll(field("uptime_in_seconds")), 0);
  EXPECT_EQ(field("connected_clients"), "1");
#ifdef PODIUM_EXPECT_JEMALLOC
  EXPECT_EQ(field("mem_allocator"), "jemalloc");
  EXPECT_GT(std::stoll(field("used_memory")), 0);
#else
  // Sanitizer builds replace jemalloc, and report no heap figures.
  EXPECT_EQ(field("mem_allocator"), "libc");
#endif
  EXPECT_EQ(field("persistence"), "off");  // --data_dir=
  EXPECT_EQ(field("cmdstat_set"), "calls=2");
  EXPECT_EQ(field("cmdstat_zadd"), "calls=1");
  EXPECT_EQ(field("cmdstat_stock.set"), "calls=1");
  EXPECT_EQ(field("keys_string"), "2");
  EXPECT_EQ(field("keys_zset"), "1");
  EXPECT_EQ(field("stock_counters"), "1");
  EXPECT_EQ(field("db0"), "keys=3,expires=1");

  // A second client shows in connected_clients; one section alone, named in any case.
  std::unique_ptr<Client> second = Connect(Options());
  ASSERT_NE(second, nullptr);
  const Info clients = InfoWhen("CLIENTS", "connected_clients", "2");
  EXPECT_EQ(clients.sections, std::vector<std::string>{"Clients"});
  EXPECT_EQ(clients.fields.at("connected_clients"), "2");
  EXPECT_EQ(ParseInfo(Call("INFO", "keyspace")).sections, std::vector<std::string>{"Keyspace"});
}

TEST_P(RealServerConnectionTest, CommandDescribesEveryCommand) {
  const ReplyValue count = Call("COMMAND", "COUNT");
  ASSERT_EQ(count.type, protocol::ValueType::kInt64) << count.ToString();
  const ReplyValue all = Call("COMMAND");
  ASSERT_EQ(all.type, protocol::ValueType::kArray) << all.ToString();
  EXPECT_EQ(static_cast<int64_t>(all.elements.size()), count.int64);
  std::set<std::string> names;
  for (const ReplyValue& entry : all.elements) {
    ASSERT_EQ(entry.elements.size(), 6u) << entry.ToString();  // Redis's classic layout
    names.insert(entry.elements[0].bytes);
  }
  for (const char* name :
       {"ping",          "auth",          "info",   "command",   "quit",      "get",
        "set",           "del",           "exists", "expire",    "pexpire",   "ttl",
        "pttl",          "incrby",        "decrby", "stock.set", "stock.add", "stock.get",
        "stock.reserve", "stock.release", "zadd",   "zincrby",   "zscore",    "zmscore",
        "zrank",         "zrevrank",      "zrange", "zrevrange", "zcard",     "zrem",
        "zunionstore"}) {
    EXPECT_TRUE(names.contains(name)) << "COMMAND does not list " << name;
  }

  const auto flags = [](std::vector<std::string_view> names) {
    std::vector<ReplyValue> elements;
    for (std::string_view name : names) elements.push_back(ReplyValue::SimpleString(name));
    return Array(std::move(elements));
  };
  const ReplyValue get_entry =
      Array({Bytes("get"), Int(2), flags({"readonly", "fast"}), Int(1), Int(1), Int(1)});
  EXPECT_EQ(Call("COMMAND", "INFO", "get", "no-such-command"),
            Array({get_entry, ReplyValue::Nil()}));
  EXPECT_EQ(
      Call("COMMAND", "INFO", "ZADD"),
      Array({Array({Bytes("zadd"), Int(-4), flags({"write", "fast"}), Int(1), Int(1), Int(1)})}));
  EXPECT_EQ(
      Call("COMMAND", "INFO", "ping"),
      Array({Array({Bytes("ping"), Int(-1), flags({"no_auth", "fast"}), Int(0), Int(0), Int(0)})}));
  EXPECT_EQ(Call("COMMAND", "DOCS"), Array({}));  // redis-cli asks at start
  EXPECT_EQ(
      Call("COMMAND", "SOMETHING"),
      Error(StatusCode::kErr, "unknown subcommand or wrong number of arguments for 'COMMAND'"));
}

TEST_P(RealServerConnectionTest, QuitClosesAfterItsReplyAndTheNextCallConnectsAgain) {
  EXPECT_EQ(Call("QUIT"), Ok());
  // Once the server has closed it (another client sees one connection), the next call finds
  // the connection hung up before sending anything, and connects again instead of failing.
  std::unique_ptr<Client> watcher = Connect(Options());
  ASSERT_NE(watcher, nullptr);
  ASSERT_EQ(
      InfoWhen("clients", "connected_clients", "1", watcher.get()).fields["connected_clients"],
      "1");
  EXPECT_EQ(Call(Opcode::kIncrBy, "quit:counter", 1), Int(1));
  EXPECT_TRUE(client_->connected());
}

TEST_P(RealServerConnectionTest, UnknownCommand) {
  if (IsBinary()) {
    // A name without an opcode never leaves the client; an opcode the server lacks does.
    EXPECT_EQ(Call("NOSUCH", "a"), Error(StatusCode::kUnknownCommand, "unknown command 'NOSUCH'"));
    EXPECT_EQ(Call(static_cast<Opcode>(999), "a"),
              Error(StatusCode::kUnknownCommand, "unknown command opcode 999"));
  } else {
    EXPECT_EQ(Call("NOSUCH", "a", 1),
              Error(StatusCode::kUnknownCommand,
                    "unknown command 'NOSUCH', with args beginning with: 'a' '1' "));
    Result<ReplyValue> no_name = client_->Call(static_cast<Opcode>(999));
    ASSERT_FALSE(no_name.ok());
    EXPECT_EQ(no_name.status().code(), ErrorCode::kInvalidArgument);
  }
  // An error reply leaves the connection as it was.
  EXPECT_TRUE(client_->connected());
  EXPECT_EQ(Call("PING"), ReplyValue::SimpleString("PONG"));
}

TEST_P(RealServerConnectionTest, PipelineOfMixedCommandsRepliesInOrder) {
  Pipeline pipeline = client_->Pipeline();
  pipeline.Add("SET", "p:key", "1");
  pipeline.Add(Opcode::kIncrBy, "p:key", 41);
  pipeline.Add("GET", "p:key");
  pipeline.Add("ZADD", "p:board", 1, "m", 5, "n");
  pipeline.Add(Opcode::kZIncrBy, "p:board", 2.5, "m");
  pipeline.Add("GET", "p:board");
  pipeline.Add("STOCK.SET", 9, 1);
  pipeline.Add("STOCK.RESERVE", 9, 2);
  pipeline.Add("NOSUCH");
  pipeline.Add("PING");
  pipeline.Add("ZREVRANGE", "p:board", 0, -1, "WITHSCORES");
  pipeline.Add("EXPIRE", "p:key", 100);
  pipeline.Add("PTTL", "p:missing");
  pipeline.Add("DEL", "p:key", "p:board");
  ASSERT_EQ(pipeline.size(), 14u);
  PipelineResult batch = pipeline.Execute();
  ASSERT_TRUE(batch.ok()) << batch.status.ToString();
  const std::vector<ReplyValue> expected = {
      Ok(),
      Int(42),
      Bytes("42"),
      Int(2),
      Score(3.5),
      Error(StatusCode::kWrongType, "Operation against a key holding the wrong kind of value"),
      Int(1),
      Error(StatusCode::kSoldOut, "1"),
      IsBinary() ? Error(StatusCode::kUnknownCommand, "unknown command 'NOSUCH'")
                 : Error(StatusCode::kUnknownCommand,
                         "unknown command 'NOSUCH', with args beginning with: "),
      ReplyValue::SimpleString("PONG"),
      Array({Bytes("n"), Score(5), Bytes("m"), Score(3.5)}),
      Int(1),
      Int(-2),
      Int(2),
  };
  EXPECT_EQ(batch.replies, expected);
  EXPECT_EQ(pipeline.size(), 0u);  // emptied by Execute, reusable

  // A deep batch: every reply in its request's place.
  constexpr int kDepth = 20'000;
  for (int i = 0; i < kDepth; ++i) pipeline.Add("INCRBY", "p:deep", 1);
  PipelineResult deep = pipeline.Execute();
  ASSERT_TRUE(deep.ok()) << deep.status.ToString();
  ASSERT_EQ(deep.replies.size(), static_cast<size_t>(kDepth));
  for (int i = 0; i < kDepth; ++i) ASSERT_EQ(deep.replies[i], Int(i + 1)) << "reply " << i;
}

TEST_P(RealServerConnectionTest, RequestsAfterQuitInABatchAreNeitherExecutedNorResent) {
  Pipeline pipeline = client_->Pipeline();
  pipeline.Add("INCRBY", "q:counter", 1);
  pipeline.Add("QUIT");
  pipeline.Add("INCRBY", "q:counter", 10);
  PipelineResult batch = pipeline.Execute();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status.code(), ErrorCode::kClosed) << batch.status.ToString();
  EXPECT_EQ(batch.replies, (std::vector<ReplyValue>{Int(1), Ok()}));
  EXPECT_FALSE(client_->connected());
  EXPECT_EQ(Call("GET", "q:counter"), Bytes("1"));
}

TEST_P(RealServerConnectionTest, ReconnectsToAServerRestartedOnTheSamePort) {
  ClientOptions options = Options();
  options.reconnect_attempts = 3;
  options.reconnect_delay_ms = 10;
  client_ = Connect(options);
  ASSERT_NE(client_, nullptr);
  ASSERT_EQ(Call("SET", "r:key", "before"), Ok());

  server_->Kill();
  // The next call finds the connection hung up before sending anything, tries
  // reconnect_attempts times while the server is down, then gives up.
  Result<ReplyValue> down = client_->Call("PING");
  ASSERT_FALSE(down.ok()) << down->ToString();
  EXPECT_EQ(down.status().code(), ErrorCode::kConnectFailed) << down.status().ToString();
  EXPECT_NE(down.status().message().find("after 3 attempt(s)"), std::string::npos)
      << down.status().ToString();
  EXPECT_FALSE(client_->connected());

  ASSERT_EQ(server_->Start(options.port), "");
  // Handshake again and go on; the new server (no persistence) starts empty.
  EXPECT_EQ(Call("GET", "r:key"), ReplyValue::Nil());
  EXPECT_TRUE(client_->connected());
  EXPECT_EQ(Call("SET", "r:key", "after"), Ok());
  EXPECT_EQ(Call("GET", "r:key"), Bytes("after"));

  // A restart between two calls: the next call connects to the new server at once.
  server_->Kill();
  ASSERT_EQ(server_->Start(options.port), "");
  EXPECT_EQ(Call("SET", "r:key", "restarted"), Ok());
  EXPECT_EQ(Call("GET", "r:key"), Bytes("restarted"));
}

TEST_P(RealServerConnectionTest, WithoutReconnectAttemptsABrokenClientStaysBroken) {
  ClientOptions options = Options();
  options.reconnect_attempts = 0;
  client_ = Connect(options);
  ASSERT_NE(client_, nullptr);
  ASSERT_EQ(Call("QUIT"), Ok());
  Result<ReplyValue> closed = client_->Call("PING");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().code(), ErrorCode::kClosed);
  for (int i = 0; i < 2; ++i) {
    Result<ReplyValue> still = client_->Call("PING");
    ASSERT_FALSE(still.ok());
    EXPECT_EQ(still.status().code(), ErrorCode::kClosed) << still.status().ToString();
  }
  EXPECT_FALSE(client_->connected());
}

TEST_P(RealServerConnectionTest, AuthWithoutAPasswordConfiguredIsAnError) {
  EXPECT_EQ(Call("AUTH", "anything"),
            Error(StatusCode::kErr,
                  "AUTH <password> called without any password configured for the default "
                  "user. Are you sure your configuration is correct?"));
  EXPECT_EQ(Call("SET", "a:key", "v"), Ok());
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerConnectionTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

// Past --maxclients the server writes one RESP error line and closes, whatever the protocol:
// the binary client reports it as a refused connection with the server's reason, the RESP
// client as the error reply to its first call (as redis-cli shows it).
class RealServerMaxClientsTest : public RealServerConnectionTest {
 protected:
  void SetUp() override { StartServer({"--maxclients=2"}); }
};

TEST_P(RealServerMaxClientsTest, AClientPastMaxclientsLearnsWhy) {
  // The server's readiness probe may still count as connected: wait until only client_ does.
  ASSERT_EQ(InfoWhen("clients", "connected_clients", "1").fields["connected_clients"], "1");
  std::unique_ptr<Client> second = Connect(Options());
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(CallOn(*second, "PING"), ReplyValue::SimpleString("PONG"));

  constexpr std::string_view kReason = "max number of clients reached";
  Result<Client> third = Client::Connect(Options());
  if (IsBinary()) {
    ASSERT_FALSE(third.ok());
    EXPECT_EQ(third.status().code(), ErrorCode::kConnectFailed) << third.status().ToString();
    EXPECT_NE(third.status().message().find(kReason), std::string::npos)
        << third.status().ToString();
  } else {
    ASSERT_TRUE(third.ok()) << third.status().ToString();  // RESP has no handshake
    Result<ReplyValue> reply = third->Call("PING");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(*reply, ReplyValue::Error(StatusCode::kErr, "ERR " + std::string(kReason)));
  }
  EXPECT_EQ(Call("PING"), ReplyValue::SimpleString("PONG"));  // the admitted are served on
  EXPECT_EQ(CallOn(*second, "PING"), ReplyValue::SimpleString("PONG"));
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerMaxClientsTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

// The same, with the server started with --requirepass.
class RealServerAuthTest : public RealServerConnectionTest {
 protected:
  void SetUp() override { StartServer({"--requirepass=" + std::string(kPassword)}); }
};

TEST_P(RealServerAuthTest, UnauthenticatedCommandsAreRefusedUntilTheRightPassword) {
  const ReplyValue no_auth = Error(StatusCode::kNoAuth, "Authentication required.");
  EXPECT_EQ(Call("PING"), ReplyValue::SimpleString("PONG"));  // allowed before AUTH
  EXPECT_EQ(Call("GET", "k"), no_auth);
  EXPECT_EQ(Call("SET", "k", "v"), no_auth);
  EXPECT_EQ(Call("ZADD", "z", 1, "m"), no_auth);
  EXPECT_EQ(Call("STOCK.RESERVE", 1, 1), no_auth);
  EXPECT_EQ(Call("INFO"), no_auth);

  EXPECT_EQ(Call("AUTH", "wrong"), Error(StatusCode::kWrongPass, kBadPassword));
  EXPECT_EQ(Call("AUTH", "other-user", kPassword), Error(StatusCode::kWrongPass, kBadPassword));
  EXPECT_EQ(Call("GET", "k"), no_auth);  // still not authenticated

  EXPECT_EQ(Call("AUTH", kPassword), Ok());
  EXPECT_EQ(Call("SET", "k", "v"), Ok());
  EXPECT_EQ(Call("GET", "k"), Bytes("v"));
  EXPECT_EQ(Call("AUTH", "default", kPassword), Ok());  // Redis 6's two-argument form

  // A new connection starts unauthenticated; one past the small pre-AUTH size is refused
  // with PROTOCOL and closed.
  std::unique_ptr<Client> stranger = Connect(Options());
  ASSERT_NE(stranger, nullptr);
  EXPECT_EQ(CallOn(*stranger, "GET", "k"), no_auth);
  Result<ReplyValue> big = stranger->Call("AUTH", std::string(8'000, 'x'));
  ASSERT_FALSE(big.ok()) << big->ToString();
  EXPECT_EQ(big.status().code(), ErrorCode::kProtocol) << big.status().ToString();
  EXPECT_EQ(Call("GET", "k"), Bytes("v"));  // the others are served on
}

TEST_P(RealServerAuthTest, ConnectAuthenticatesWithThePasswordOption) {
  ClientOptions options = Options();
  options.password = "wrong";
  Result<Client> refused = Client::Connect(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kAuthFailed) << refused.status().ToString();

  options.password = kPassword;
  std::unique_ptr<Client> client = Connect(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(CallOn(*client, "SET", "k", "v"), Ok());
  EXPECT_EQ(CallOn(*client, "GET", "k"), Bytes("v"));
}

TEST_P(RealServerAuthTest, ReconnectAuthenticatesAgain) {
  ClientOptions options = Options();
  options.password = kPassword;
  client_ = Connect(options);
  ASSERT_NE(client_, nullptr);
  ASSERT_EQ(Call("SET", "k", "v"), Ok());

  server_->Kill();
  ASSERT_EQ(server_->Start(options.port), "");
  // The first call after the restart connects again (the old connection is hung up); SET
  // needs AUTH: its answer shows the reconnect authenticated.
  EXPECT_EQ(Call("SET", "k", "again"), Ok());
  EXPECT_EQ(Call("GET", "k"), Bytes("again"));

  // A server that now wants another password: kAuthFailed after one attempt, since the same
  // password would fail again.
  server_->Kill();
  RealServer changed({"--requirepass=changed"});
  ASSERT_EQ(changed.Start(options.port), "");
  Result<ReplyValue> refused = client_->Call("PING");
  ASSERT_FALSE(refused.ok()) << refused->ToString();
  EXPECT_EQ(refused.status().code(), ErrorCode::kAuthFailed) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("after 1 attempt(s)"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(changed.Stop(), 0) << changed.log();
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerAuthTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

}  // namespace
}  // namespace podium::client
