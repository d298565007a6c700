// Client against FakeServer: connecting, the handshake, AUTH, error replies, timeouts, broken
// connections and reconnecting. Pipelines, split and malformed replies: pipeline_test.cc.
#include "client/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "client/fake_server.h"
#include "client/limits.h"

namespace podium::client {
namespace {

using protocol::ArgumentType;
using protocol::Opcode;
using protocol::ReplyValue;
using protocol::StatusCode;
using testing::BinaryReplyBytes;
using testing::FakeConnection;
using testing::FakeServer;

using Clock = std::chrono::steady_clock;

ClientOptions OptionsFor(const FakeServer& server) {
  ClientOptions options;
  options.port = server.port();
  options.io_timeout_ms = 3000;
  options.reconnect_delay_ms = 0;
  return options;
}

// Answers one binary request with `value`, expecting `opcode`.
FakeServer::Script AnswerOne(Opcode opcode, ReplyValue value) {
  return [opcode, value](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    const auto requests = connection.ReadBinaryRequests(1);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].opcode, opcode);
    connection.Write(BinaryReplyBytes(requests[0].request_id, value));
    connection.WaitForClientClose();
  };
}

TEST(ClientTest, ConnectToAPortNobodyListensOnFailsFast) {
  // A bound socket that does not listen holds the port, so nothing else can answer on it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  ClientOptions options;
  options.port = ntohs(address.sin_port);
  options.connect_timeout_ms = 10000;
  const Clock::time_point start = Clock::now();
  Result<Client> client = Client::Connect(options);
  ::close(fd);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kConnectFailed) << client.status().ToString();
  EXPECT_NE(client.status().message().find("refused"), std::string::npos);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

TEST(ClientTest, ConnectGivesUpAtTheTimeout) {
  // A listener whose accept queue is full drops further SYNs, so a connect hangs until its
  // timeout. Backlog 0 queues one connection; the fillers take it.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), size), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    ::connect(fillers.back(), reinterpret_cast<sockaddr*>(&address), size);
    pollfd waiting{fillers.back(), POLLOUT, 0};
    ::poll(&waiting, 1, 100);  // the first completes; the others stay pending
  }
  ClientOptions options;
  options.port = ntohs(address.sin_port);
  options.connect_timeout_ms = 200;
  const Clock::time_point start = Clock::now();
  Result<Client> client = Client::Connect(options);
  const Clock::duration elapsed = Clock::now() - start;
  for (const int fd : fillers) ::close(fd);
  ::close(listener);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kTimeout) << client.status().ToString();
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(ClientTest, ConnectRefusesBadOptions) {
  ClientOptions options;
  options.connect_timeout_ms = 0;
  Result<Client> client = Client::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kInvalidArgument);
}

TEST(ClientTest, HandshakeThenTypedArguments) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    const auto requests = connection.ReadBinaryRequests(1);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].opcode, Opcode::kZIncrBy);
    ASSERT_EQ(requests[0].args.size(), 3u);
    EXPECT_EQ(requests[0].args[0].bytes, "board");
    EXPECT_EQ(requests[0].args[1].type, ArgumentType::kFloat64);
    EXPECT_EQ(requests[0].args[2].type, ArgumentType::kInt64);
    EXPECT_EQ(requests[0].args[2].int64, 42);
    connection.Write(BinaryReplyBytes(requests[0].request_id, ReplyValue::Float64(1.5)));
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ReplyValue> reply = client->Call(Opcode::kZIncrBy, "board", 1.5, 42);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, ReplyValue::Float64(1.5));
}

TEST(ClientTest, ByNameAndByWords) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    const auto requests = connection.ReadBinaryRequests(2);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].opcode, Opcode::kGet);
    EXPECT_EQ(requests[1].opcode, Opcode::kZAdd);
    ASSERT_EQ(requests[1].args.size(), 3u);
    EXPECT_EQ(requests[1].args[1].type, ArgumentType::kBytes);  // words are sent as text
    EXPECT_EQ(requests[1].args[1].bytes, "-1.5");
    connection.Write(BinaryReplyBytes(requests[0].request_id, ReplyValue::Nil()));
    connection.Write(BinaryReplyBytes(requests[1].request_id, ReplyValue::Int64(1)));
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto pipeline = client->Pipeline();
  pipeline.Add("get", "k");
  const std::vector<std::string_view> words = {"zadd", "b", "-1.5", "a"};
  pipeline.AddWords(words);
  PipelineResult batch = pipeline.Execute();
  ASSERT_TRUE(batch.ok()) << batch.status.ToString();
  EXPECT_EQ(batch.replies, (std::vector<ReplyValue>{ReplyValue::Nil(), ReplyValue::Int64(1)}));
}

TEST(ClientTest, UnknownNameOverBinaryIsALocalErrorReply) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    EXPECT_TRUE(connection.WaitForClientClose());  // nothing was sent
  }});
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const std::vector<std::string_view> words = {"NOSUCH", "x"};
  Result<ReplyValue> reply = client->CallWords(words);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, ReplyValue::Error(StatusCode::kUnknownCommand, "unknown command 'NOSUCH'"));
  EXPECT_TRUE(client->connected());
}

TEST(ClientTest, HandshakeRefused) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake(StatusCode::kProtocol));
  }});
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kProtocol) << client.status().ToString();
}

TEST(ClientTest, AuthenticatesAfterTheHandshake) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    const auto requests = connection.ReadBinaryRequests(1);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].opcode, Opcode::kAuth);
    ASSERT_EQ(requests[0].args.size(), 1u);
    EXPECT_EQ(requests[0].args[0].bytes, "secret");
    connection.Write(BinaryReplyBytes(requests[0].request_id, ReplyValue::SimpleString("OK")));
    connection.WaitForClientClose();
  }});
  ClientOptions options = OptionsFor(server);
  options.password = "secret";
  Result<Client> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE(client->connected());
}

TEST(ClientTest, ASilentHandshakeIsBoundedByTheConnectTimeout) {
  FakeServer server({[](FakeConnection& connection) {
    connection.WaitForClientClose();  // accepts, reads the hello, never answers
  }});
  ClientOptions options = OptionsFor(server);
  options.connect_timeout_ms = 300;
  options.io_timeout_ms = 4000;
  const Clock::time_point start = Clock::now();
  Result<Client> client = Client::Connect(options);
  const Clock::duration elapsed = Clock::now() - start;
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kTimeout) << client.status().ToString();
  EXPECT_NE(client.status().message().find("handshake"), std::string::npos)
      << client.status().ToString();
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(ClientTest, ASilentAuthIsBoundedByTheConnectTimeout) {
  FakeServer server({[](FakeConnection& connection) {
    EXPECT_EQ(connection.ReadRespRequests(1).size(), 1u);  // the AUTH, never answered
    connection.WaitForClientClose();
  }});
  ClientOptions options = OptionsFor(server);
  options.protocol = ClientProtocol::kResp;
  options.password = "secret";
  options.connect_timeout_ms = 300;
  options.io_timeout_ms = 4000;
  const Clock::time_point start = Clock::now();
  Result<Client> client = Client::Connect(options);
  const Clock::duration elapsed = Clock::now() - start;
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kTimeout) << client.status().ToString();
  EXPECT_NE(client.status().message().find("AUTH"), std::string::npos)
      << client.status().ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(ClientTest, AuthRefusedForAnotherReasonIsARefusedConnection) {
  // A RESP server past --maxclients answers the AUTH with its refusal line: the password was
  // not judged, so this is kConnectFailed (which reconnecting retries), not kAuthFailed.
  FakeServer server({[](FakeConnection& connection) {
    EXPECT_EQ(connection.ReadRespRequests(1).size(), 1u);
    connection.Write("-ERR max number of clients reached\r\n");
  }});
  ClientOptions options = OptionsFor(server);
  options.protocol = ClientProtocol::kResp;
  options.password = "secret";
  Result<Client> client = Client::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kConnectFailed) << client.status().ToString();
  EXPECT_NE(client.status().message().find("max number of clients reached"), std::string::npos)
      << client.status().ToString();
}

TEST(ClientTest, AuthRefusalsOfThePasswordAreAuthFailed) {
  for (const std::string_view line :
       {"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
        "-ERR invalid password\r\n", "-NOAUTH Authentication required.\r\n",
        "-ERR AUTH <password> called without any password configured for the default user.\r\n"}) {
    FakeServer server({[line](FakeConnection& connection) {
      EXPECT_EQ(connection.ReadRespRequests(1).size(), 1u);
      connection.Write(line);
      connection.WaitForClientClose();
    }});
    ClientOptions options = OptionsFor(server);
    options.protocol = ClientProtocol::kResp;
    options.password = "wrong";
    Result<Client> client = Client::Connect(options);
    ASSERT_FALSE(client.ok()) << line;
    EXPECT_EQ(client.status().code(), ErrorCode::kAuthFailed) << client.status().ToString();
  }
}

TEST(ClientTest, SetPasswordIsUsedByTheNextConnect) {
  FakeServer server({
      [](FakeConnection& connection) {
        ASSERT_TRUE(connection.AcceptHandshake());
        const auto requests = connection.ReadBinaryRequests(1);
        ASSERT_EQ(requests.size(), 1u);
        EXPECT_EQ(requests[0].opcode, Opcode::kPing);  // no AUTH: no password yet
        connection.Close();                            // the reply is lost
      },
      [](FakeConnection& connection) {
        ASSERT_TRUE(connection.AcceptHandshake());
        auto requests = connection.ReadBinaryRequests(1);
        ASSERT_EQ(requests.size(), 1u);
        EXPECT_EQ(requests[0].opcode, Opcode::kAuth);
        ASSERT_EQ(requests[0].args.size(), 1u);
        EXPECT_EQ(requests[0].args[0].bytes, "typed");
        connection.Write(BinaryReplyBytes(requests[0].request_id, ReplyValue::SimpleString("OK")));
        requests = connection.ReadBinaryRequests(1);
        ASSERT_EQ(requests.size(), 1u);
        EXPECT_EQ(requests[0].opcode, Opcode::kPing);
        connection.Write(
            BinaryReplyBytes(requests[0].request_id, ReplyValue::SimpleString("PONG")));
        connection.WaitForClientClose();
      },
  });
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ(client->SetPassword(std::string(kPasswordSizeBytesMax + 1, 'x')).code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(client->SetPassword("typed").ok());
  ASSERT_FALSE(client->Call(Opcode::kPing).ok());
  // The call after the lost one connects again, authenticates with the new password, and only
  // then sends its PING.
  Result<ReplyValue> reply = client->Call(Opcode::kPing);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, ReplyValue::SimpleString("PONG"));
}

TEST(ClientTest, WrongPasswordFailsTheConnect) {
  FakeServer server(
      {AnswerOne(Opcode::kAuth, ReplyValue::Error(StatusCode::kErr, "invalid password"))});
  ClientOptions options = OptionsFor(server);
  options.password = "wrong";
  Result<Client> client = Client::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), ErrorCode::kAuthFailed);
  EXPECT_NE(client.status().message().find("ERR invalid password"), std::string::npos);
}

TEST(ClientTest, ErrorReplyIsAValueAndKeepsTheConnection) {
  FakeServer server(
      {AnswerOne(Opcode::kStockReserve, ReplyValue::Error(StatusCode::kSoldOut, "3"))});
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ReplyValue> reply = client->Call(Opcode::kStockReserve, 1001, 5);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, ReplyValue::Error(StatusCode::kSoldOut, "3"));
  EXPECT_TRUE(client->connected());
}

TEST(ClientTest, ReplyTimeoutBreaksTheConnection) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    EXPECT_EQ(connection.ReadBinaryRequests(1).size(), 1u);
    connection.WaitForClientClose();  // never answers
  }});
  ClientOptions options = OptionsFor(server);
  options.io_timeout_ms = 200;
  options.reconnect_attempts = 0;
  Result<Client> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const Clock::time_point start = Clock::now();
  Result<ReplyValue> reply = client->Call(Opcode::kPing);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kTimeout);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(client->connected());
  reply = client->Call(Opcode::kPing);  // reconnect_attempts 0: stays broken
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kClosed);
}

TEST(ClientTest, ReconnectsAfterABrokenConnectionWithoutResending) {
  FakeServer server({
      [](FakeConnection& connection) {
        ASSERT_TRUE(connection.AcceptHandshake());
        EXPECT_EQ(connection.ReadBinaryRequests(1).size(), 1u);
        connection.Close();  // the reply is lost
      },
      [](FakeConnection& connection) {
        ASSERT_TRUE(connection.AcceptHandshake());
        const auto requests = connection.ReadBinaryRequests(1);
        ASSERT_EQ(requests.size(), 1u);
        // The second call's request, not the first one again.
        ASSERT_EQ(requests[0].args.size(), 1u);
        EXPECT_EQ(requests[0].args[0].bytes, "second");
        connection.Write(BinaryReplyBytes(requests[0].request_id, ReplyValue::Bytes("2")));
        connection.WaitForClientClose();
      },
  });
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ReplyValue> reply = client->Call(Opcode::kGet, "first");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kClosed) << reply.status().ToString();
  EXPECT_FALSE(client->connected());
  reply = client->Call(Opcode::kGet, "second");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, ReplyValue::Bytes("2"));
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(ClientTest, ServerProtocolErrorIsATransportFailure) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    EXPECT_EQ(connection.ReadBinaryRequests(1).size(), 1u);
    connection.Write(BinaryReplyBytes(
        0, ReplyValue::Error(StatusCode::kProtocol, "Protocol error: unknown argument type")));
    connection.Close();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Result<ReplyValue> reply = client->Call(Opcode::kPing);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kProtocol);
  EXPECT_NE(reply.status().message().find("unknown argument type"), std::string::npos);
  EXPECT_FALSE(client->connected());
}

TEST(ClientTest, RequestPastTheLimitsIsRefusedBeforeSending) {
  FakeServer server({[](FakeConnection& connection) {
    ASSERT_TRUE(connection.AcceptHandshake());
    connection.WaitForClientClose();
  }});
  Result<Client> client = Client::Connect(OptionsFor(server));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const std::string huge(protocol::kArgumentSizeBytesMax + 1, 'x');
  Result<ReplyValue> reply = client->Call(Opcode::kSet, "k", huge);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(client->connected());
}

}  // namespace
}  // namespace podium::client
