// The data commands of issue 3 through the C++ client against the real podium-server, once
// over the binary protocol and once over RESP: records and TTLs, counters, stock, sorted sets,
// WRONGTYPE. Every reply is compared whole with what docs/protocol.md (and Redis, for the
// commands named after Redis's) says it is. Connection commands, AUTH, pipelines and
// reconnecting: real_server_connection_test.cc.
//
// One server serves the whole suite; each protocol's run uses its own keys and product ids,
// so the two runs (and the tests within one) cannot see each other's data.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/client.h"
#include "client/real_server.h"

namespace podium::client {
namespace {

using protocol::ReplyValue;
using protocol::StatusCode;
using testing::Array;
using testing::Bytes;
using testing::ExpectedError;
using testing::ExpectedScore;
using testing::Int;
using testing::Ok;
using testing::RealServer;

using Clock = std::chrono::steady_clock;

constexpr std::string_view kWrongType = "Operation against a key holding the wrong kind of value";
constexpr std::string_view kNotInteger = "value is not an integer or out of range";

ReplyValue Nil() { return ReplyValue::Nil(); }

ReplyValue Members(const std::vector<std::string_view>& members) {
  std::vector<ReplyValue> elements;
  for (std::string_view member : members) elements.push_back(Bytes(member));
  return Array(std::move(elements));
}

std::string ProtocolName(const ::testing::TestParamInfo<ClientProtocol>& info) {
  return testing::ProtocolSuffix(info.param);
}

class RealServerCommandsTest : public ::testing::TestWithParam<ClientProtocol> {
 protected:
  static void SetUpTestSuite() {
    server_ = new RealServer();
    const std::string error = server_->Start();
    if (!error.empty()) {
      delete server_;
      server_ = nullptr;
      FAIL() << error;
    }
  }

  static void TearDownTestSuite() {
    if (server_ == nullptr) return;
    EXPECT_EQ(server_->Stop(), 0) << "no clean shutdown; output:\n" << server_->log();
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "the server did not start";
    Result<Client> client = Client::Connect(server_->Options(GetParam()));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::make_unique<Client>(std::move(client).value());
  }

  // The reply, or (after a test failure) an error value naming the transport failure.
  template <typename... Args>
  ReplyValue Call(std::string_view name, const Args&... args) {
    Result<ReplyValue> reply = [&] {
      if constexpr (sizeof...(Args) == 0) {
        return client_->Call(name);
      } else {
        return client_->Call(name, args...);
      }
    }();
    if (!reply.ok()) {
      ADD_FAILURE() << name << ": " << reply.status().ToString() << "\nserver output:\n"
                    << server_->log();
      return ReplyValue::Error(StatusCode::kProtocol, reply.status().ToString());
    }
    return std::move(reply).value();
  }

  // This protocol's own key, so that the binary and RESP runs do not share data.
  std::string Key(std::string_view name) const {
    return (GetParam() == ClientProtocol::kBinary ? "bin:" : "resp:") + std::string(name);
  }
  // Stock counters are per product id, not per key: each run takes its own range.
  int64_t Product(int64_t id) const {
    return (GetParam() == ClientProtocol::kBinary ? 1'000'000 : 2'000'000) + id;
  }

  ReplyValue Score(double score) const { return ExpectedScore(GetParam(), score); }
  ReplyValue Error(StatusCode status, std::string_view message) const {
    return ExpectedError(GetParam(), status, message);
  }
  // member, score, member, score, ...: a WITHSCORES reply.
  ReplyValue WithScores(const std::vector<std::pair<std::string_view, double>>& pairs) const {
    std::vector<ReplyValue> elements;
    for (const auto& [member, score] : pairs) {
      elements.push_back(Bytes(member));
      elements.push_back(Score(score));
    }
    return Array(std::move(elements));
  }

  // An int64 reply's value, failing the test for anything else.
  int64_t Integer(const ReplyValue& reply) {
    EXPECT_EQ(reply.type, protocol::ValueType::kInt64) << reply.ToString();
    return reply.int64;
  }

  // Polls until EXISTS `key` is 0: the key's TTL ran out. Bounded by `timeout`.
  bool ExpiresWithin(const std::string& key, std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    while (Call("EXISTS", key) != Int(0)) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  static RealServer* server_;
  std::unique_ptr<Client> client_;
};

RealServer* RealServerCommandsTest::server_ = nullptr;

TEST_P(RealServerCommandsTest, GetSetDelExists) {
  const std::string a = Key("rec:a"), b = Key("rec:b"), missing = Key("rec:missing");
  EXPECT_EQ(Call("GET", missing), Nil());
  EXPECT_EQ(Call("SET", a, "hello"), Ok());
  EXPECT_EQ(Call("GET", a), Bytes("hello"));
  EXPECT_EQ(Call("SET", a, "world"), Ok());
  EXPECT_EQ(Call("GET", a), Bytes("world"));
  // A number as the value (an int64 argument over binary) is stored as its decimal text.
  EXPECT_EQ(Call("SET", b, 42), Ok());
  EXPECT_EQ(Call("GET", b), Bytes("42"));
  EXPECT_EQ(Call("EXISTS", a, b, missing), Int(2));
  EXPECT_EQ(Call("EXISTS", a, a), Int(2));  // counted once per mention, as in Redis
  EXPECT_EQ(Call("DEL", a, missing), Int(1));
  EXPECT_EQ(Call("DEL", a), Int(0));
  EXPECT_EQ(Call("GET", a), Nil());
  EXPECT_EQ(Call("EXISTS", a), Int(0));
  EXPECT_EQ(Call("DEL", b), Int(1));
  EXPECT_EQ(Call("GET"), Error(StatusCode::kErr, "wrong number of arguments for 'get' command"));
  EXPECT_EQ(Call("SET", a, "v", "NOPE"), Error(StatusCode::kErr, "syntax error"));
  EXPECT_EQ(Call("GET", a), Nil());  // the refused SET set nothing
}

TEST_P(RealServerCommandsTest, SetWithExAndPxAndTtls) {
  const std::string key = Key("ttl:set"), plain = Key("ttl:plain"), missing = Key("ttl:missing");
  EXPECT_EQ(Call("TTL", missing), Int(-2));
  EXPECT_EQ(Call("PTTL", missing), Int(-2));
  EXPECT_EQ(Call("SET", plain, "v"), Ok());
  EXPECT_EQ(Call("TTL", plain), Int(-1));
  EXPECT_EQ(Call("PTTL", plain), Int(-1));

  EXPECT_EQ(Call("SET", key, "v", "EX", 100), Ok());
  const int64_t ttl = Integer(Call("TTL", key));  // rounded to the nearest second
  EXPECT_TRUE(ttl == 100 || ttl == 99) << ttl;
  const int64_t pttl = Integer(Call("PTTL", key));
  EXPECT_GT(pttl, 98'000);
  EXPECT_LE(pttl, 100'000);

  EXPECT_EQ(Call("SET", key, "v", "PX", 1'500), Ok());
  const int64_t pttl_px = Integer(Call("PTTL", key));
  EXPECT_GT(pttl_px, 0);
  EXPECT_LE(pttl_px, 1'500);
  const int64_t ttl_px = Integer(Call("TTL", key));
  EXPECT_TRUE(ttl_px == 1 || ttl_px == 2) << ttl_px;

  // A SET without KEEPTTL drops the TTL, as in Redis.
  EXPECT_EQ(Call("SET", key, "v2"), Ok());
  EXPECT_EQ(Call("TTL", key), Int(-1));

  EXPECT_EQ(Call("SET", key, "short", "PX", 30), Ok());
  EXPECT_TRUE(ExpiresWithin(key, std::chrono::seconds(3)));
  EXPECT_EQ(Call("GET", key), Nil());
  EXPECT_EQ(Call("TTL", key), Int(-2));
  EXPECT_EQ(Call("PTTL", key), Int(-2));

  EXPECT_EQ(Call("SET", key, "v", "EX", 0),
            Error(StatusCode::kErr, "invalid expire time in 'set' command"));
  EXPECT_EQ(Call("SET", key, "v", "PX", -5),
            Error(StatusCode::kErr, "invalid expire time in 'set' command"));
  EXPECT_EQ(Call("SET", key, "v", "EX", "soon"), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("SET", key, "v", "EX"), Error(StatusCode::kErr, "syntax error"));
  EXPECT_EQ(Call("EXISTS", key), Int(0));  // none of the refused SETs set anything
}

TEST_P(RealServerCommandsTest, ExpireAndPExpire) {
  const std::string key = Key("exp:key"), set = Key("exp:zset"), missing = Key("exp:missing");
  EXPECT_EQ(Call("EXPIRE", missing, 10), Int(0));
  EXPECT_EQ(Call("PEXPIRE", missing, 10'000), Int(0));
  EXPECT_EQ(Call("TTL", missing), Int(-2));

  EXPECT_EQ(Call("SET", key, "v"), Ok());
  EXPECT_EQ(Call("EXPIRE", key, 100), Int(1));
  const int64_t ttl = Integer(Call("TTL", key));
  EXPECT_TRUE(ttl == 100 || ttl == 99) << ttl;
  EXPECT_EQ(Call("PEXPIRE", key, 200'000), Int(1));
  const int64_t pttl = Integer(Call("PTTL", key));
  EXPECT_GT(pttl, 198'000);
  EXPECT_LE(pttl, 200'000);
  EXPECT_EQ(Call("TTL", key), Int(200));

  // NX / XX / GT / LT, Redis 7's conditions.
  EXPECT_EQ(Call("EXPIRE", key, 50, "NX"), Int(0));  // it has a TTL already
  EXPECT_EQ(Call("EXPIRE", key, 50, "GT"), Int(0));  // 50 s is not greater than 200 s
  EXPECT_EQ(Call("EXPIRE", key, 50, "LT"), Int(1));
  EXPECT_EQ(Call("TTL", key), Int(50));
  EXPECT_EQ(
      Call("EXPIRE", key, 10, "NX", "XX"),
      Error(StatusCode::kErr, "NX and XX, GT or LT options at the same time are not compatible"));

  // TTLs work on every type of key, not only strings.
  EXPECT_EQ(Call("ZADD", set, 1, "m"), Int(1));
  EXPECT_EQ(Call("TTL", set), Int(-1));
  EXPECT_EQ(Call("EXPIRE", set, 100), Int(1));
  EXPECT_EQ(Call("TTL", set), Int(100));
  EXPECT_EQ(Call("PEXPIRE", set, 20), Int(1));
  EXPECT_TRUE(ExpiresWithin(set, std::chrono::seconds(3)));
  EXPECT_EQ(Call("ZCARD", set), Int(0));
  EXPECT_EQ(Call("PTTL", set), Int(-2));

  // A time <= 0 deletes the key at once, as in Redis.
  EXPECT_EQ(Call("EXPIRE", key, -1), Int(1));
  EXPECT_EQ(Call("EXISTS", key), Int(0));
  EXPECT_EQ(Call("TTL", key), Int(-2));

  EXPECT_EQ(Call("SET", key, "v"), Ok());
  EXPECT_EQ(Call("EXPIRE", key, "later"), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("PEXPIRE", key),
            Error(StatusCode::kErr, "wrong number of arguments for 'pexpire' command"));
  EXPECT_EQ(Call("TTL", key), Int(-1));  // the refused ones changed nothing
}

TEST_P(RealServerCommandsTest, IncrByAndDecrBy) {
  const std::string counter = Key("cnt:c"), text = Key("cnt:text");
  EXPECT_EQ(Call("INCRBY", counter, 5), Int(5));  // a missing key counts from 0
  EXPECT_EQ(Call("DECRBY", counter, 8), Int(-3));
  EXPECT_EQ(Call("INCRBY", counter, -2), Int(-5));
  EXPECT_EQ(Call("DECRBY", counter, -15), Int(10));
  EXPECT_EQ(Call("INCRBY", counter, "7"), Int(17));  // decimal text, over both protocols
  EXPECT_EQ(Call("GET", counter), Bytes("17"));

  EXPECT_EQ(Call("SET", text, "abc"), Ok());
  EXPECT_EQ(Call("INCRBY", text, 1), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("DECRBY", text, 1), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("GET", text), Bytes("abc"));
  EXPECT_EQ(Call("INCRBY", counter, "ten"), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("DECRBY", counter, "1.5"), Error(StatusCode::kErr, kNotInteger));
  // A float64 for an integer parameter (docs/protocol.md, "Arguments"); over RESP "2.5".
  EXPECT_EQ(Call("INCRBY", counter, 2.5), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("GET", counter), Bytes("17"));

  EXPECT_EQ(Call("SET", counter, "9223372036854775806"), Ok());
  EXPECT_EQ(Call("INCRBY", counter, 1), Int(INT64_MAX));
  EXPECT_EQ(Call("INCRBY", counter, 1),
            Error(StatusCode::kErr, "increment or decrement would overflow"));
  EXPECT_EQ(Call("DECRBY", counter, INT64_MIN),
            Error(StatusCode::kErr, "decrement would overflow"));
  EXPECT_EQ(Call("GET", counter), Bytes("9223372036854775807"));
}

TEST_P(RealServerCommandsTest, StockCommandsAndSoldOut) {
  const int64_t product = Product(1);
  EXPECT_EQ(Call("STOCK.GET", product), Nil());
  EXPECT_EQ(Call("STOCK.SET", product, 10), Int(10));
  EXPECT_EQ(Call("STOCK.GET", product), Int(10));
  EXPECT_EQ(Call("STOCK.ADD", product, 5), Int(15));
  EXPECT_EQ(Call("STOCK.RESERVE", product, 4), Int(11));

  // SOLDOUT carries the units available and takes nothing.
  EXPECT_EQ(Call("STOCK.RESERVE", product, 12), Error(StatusCode::kSoldOut, "11"));
  EXPECT_EQ(Call("STOCK.GET", product), Int(11));
  EXPECT_EQ(Call("STOCK.RESERVE", product, 11), Int(0));
  EXPECT_EQ(Call("STOCK.RESERVE", product, 1), Error(StatusCode::kSoldOut, "0"));
  EXPECT_EQ(Call("STOCK.GET", product), Int(0));

  EXPECT_EQ(Call("STOCK.RELEASE", product, 3), Int(3));
  EXPECT_EQ(Call("STOCK.RESERVE", product, 2), Int(1));
  EXPECT_EQ(Call("STOCK.SET", product, 7), Int(7));  // a set replaces, whatever was there
  EXPECT_EQ(Call("STOCK.GET", product), Int(7));

  // The product id as decimal text names the same counter.
  EXPECT_EQ(Call("STOCK.GET", std::to_string(product)), Int(7));
  // STOCK.ADD creates a missing counter; RESERVE and RELEASE need one.
  const int64_t fresh = Product(2), unknown = Product(3);
  EXPECT_EQ(Call("STOCK.ADD", fresh, 4), Int(4));
  EXPECT_EQ(
      Call("STOCK.RESERVE", unknown, 1),
      Error(StatusCode::kNotFound, "no stock counter for product " + std::to_string(unknown)));
  EXPECT_EQ(
      Call("STOCK.RELEASE", unknown, 1),
      Error(StatusCode::kNotFound, "no stock counter for product " + std::to_string(unknown)));
  EXPECT_EQ(Call("STOCK.GET", unknown), Nil());

  EXPECT_EQ(Call("STOCK.RESERVE", product, "two"), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("STOCK.GET", "shoe"),
            Error(StatusCode::kErr, "product id must be an integer in [0, 2^63-1]"));
  EXPECT_EQ(Call("STOCK.SET", product),
            Error(StatusCode::kErr, "wrong number of arguments for 'stock.set' command"));
  EXPECT_EQ(Call("STOCK.GET", product), Int(7));
}

TEST_P(RealServerCommandsTest, ZAddZIncrByAndScores) {
  const std::string board = Key("z:scores"), missing = Key("z:missing");
  EXPECT_EQ(Call("ZADD", board, 1, "a", 2, "b", 3, "c"), Int(3));
  EXPECT_EQ(Call("ZADD", board, 5, "a", 4, "d"), Int(1));        // counts added, not updated
  EXPECT_EQ(Call("ZADD", board, "CH", 6, "a", 4, "d"), Int(1));  // CH: changed
  EXPECT_EQ(Call("ZADD", board, "NX", 100, "a"), Int(0));
  EXPECT_EQ(Call("ZADD", board, "INCR", 0.5, "b"), Score(2.5));
  EXPECT_EQ(Call("ZCARD", board), Int(4));
  EXPECT_EQ(Call("ZSCORE", board, "a"), Score(6));
  EXPECT_EQ(Call("ZSCORE", board, "nobody"), Nil());
  EXPECT_EQ(Call("ZSCORE", missing, "a"), Nil());
  EXPECT_EQ(Call("ZINCRBY", board, 2, "b"), Score(4.5));
  EXPECT_EQ(Call("ZINCRBY", board, "1", "e"), Score(1));  // creates the member
  EXPECT_EQ(Call("ZINCRBY", board, 0.1, "e"), Score(1.1));
  EXPECT_EQ(Call("ZINCRBY", board, -0.1, "e"), Score(1.1 - 0.1));
  EXPECT_EQ(Call("ZADD", board, 1, "e"), Int(0));
  EXPECT_EQ(Call("ZMSCORE", board, "a", "nobody", "b"), Array({Score(6), Nil(), Score(4.5)}));
  EXPECT_EQ(Call("ZMSCORE", missing, "a"), Array({Nil()}));
  EXPECT_EQ(Call("ZCARD", board), Int(5));
  EXPECT_EQ(Call("ZCARD", missing), Int(0));

  EXPECT_EQ(Call("ZRANK", board, "e"), Int(0));
  EXPECT_EQ(Call("ZRANK", board, "a"), Int(4));
  EXPECT_EQ(Call("ZREVRANK", board, "a"), Int(0));
  EXPECT_EQ(Call("ZREVRANK", board, "e"), Int(4));
  EXPECT_EQ(Call("ZRANK", board, "d"), Int(2));
  EXPECT_EQ(Call("ZRANK", board, "b", "WITHSCORE"), Array({Int(3), Score(4.5)}));
  EXPECT_EQ(Call("ZREVRANK", board, "b", "WITHSCORE"), Array({Int(1), Score(4.5)}));
  EXPECT_EQ(Call("ZRANK", board, "nobody"), Nil());
  EXPECT_EQ(Call("ZREVRANK", missing, "a"), Nil());

  EXPECT_EQ(Call("ZADD", board, "high", "a"),
            Error(StatusCode::kErr, "value is not a valid float"));
  EXPECT_EQ(Call("ZINCRBY", board, "x", "a"),
            Error(StatusCode::kErr, "value is not a valid float"));
  EXPECT_EQ(Call("ZADD", board, 1, "a", 2), Error(StatusCode::kErr, "syntax error"));
  EXPECT_EQ(Call("ZSCORE", board, "a"), Score(6));  // unchanged by the refused ones
}

TEST_P(RealServerCommandsTest, ZRangeAndZRevRange) {
  const std::string board = Key("z:range"), missing = Key("z:missing");
  ASSERT_EQ(Call("ZADD", board, 6, "a", 4.5, "b", 3, "c", 4, "d", 1, "e"), Int(5));

  EXPECT_EQ(Call("ZRANGE", board, 0, -1), Members({"e", "c", "d", "b", "a"}));
  EXPECT_EQ(Call("ZRANGE", board, 0, 1, "WITHSCORES"), WithScores({{"e", 1}, {"c", 3}}));
  EXPECT_EQ(Call("ZRANGE", board, -2, -1), Members({"b", "a"}));
  EXPECT_EQ(Call("ZRANGE", board, 0, 1, "REV"), Members({"a", "b"}));
  EXPECT_EQ(Call("ZRANGE", board, 0, -1, "REV", "WITHSCORES"),
            WithScores({{"a", 6}, {"b", 4.5}, {"d", 4}, {"c", 3}, {"e", 1}}));
  EXPECT_EQ(Call("ZRANGE", board, 3, 4, "BYSCORE"), Members({"c", "d"}));
  EXPECT_EQ(Call("ZRANGE", board, "(3", "+inf", "BYSCORE", "WITHSCORES"),
            WithScores({{"d", 4}, {"b", 4.5}, {"a", 6}}));
  EXPECT_EQ(Call("ZRANGE", board, "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 1, 2),
            Members({"b", "d"}));
  EXPECT_EQ(Call("ZRANGE", board, 5, 10), Members({}));
  EXPECT_EQ(Call("ZRANGE", missing, 0, -1), Members({}));

  EXPECT_EQ(Call("ZREVRANGE", board, 0, 2), Members({"a", "b", "d"}));
  EXPECT_EQ(Call("ZREVRANGE", board, 0, 0, "WITHSCORES"), WithScores({{"a", 6}}));
  EXPECT_EQ(Call("ZREVRANGE", board, -1, -1, "WITHSCORES"), WithScores({{"e", 1}}));
  EXPECT_EQ(Call("ZREVRANGE", missing, 0, 9, "WITHSCORES"), Members({}));

  EXPECT_EQ(Call("ZRANGE", board, "a", "b"), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("ZRANGE", board, 0, -1, "SIDEWAYS"), Error(StatusCode::kErr, "syntax error"));
  EXPECT_EQ(Call("ZRANGE", board, 0),
            Error(StatusCode::kErr, "wrong number of arguments for 'zrange' command"));
}

TEST_P(RealServerCommandsTest, IntegerMembersReadBackAsTheirText) {
  // A member that is the decimal form of a non-negative integer (a product id) is stored as
  // that integer: int64 42 and the bytes "42" name one member, read back as bytes.
  const std::string board = Key("z:products");
  EXPECT_EQ(Call("ZADD", board, 2, 42, 1, "7"), Int(2));
  EXPECT_EQ(Call("ZINCRBY", board, 3, "42"), Score(5));
  EXPECT_EQ(Call("ZSCORE", board, 42), Score(5));
  EXPECT_EQ(Call("ZRANGE", board, 0, -1, "WITHSCORES"), WithScores({{"7", 1}, {"42", 5}}));
  EXPECT_EQ(Call("ZREM", board, 7), Int(1));
  EXPECT_EQ(Call("ZCARD", board), Int(1));
}

TEST_P(RealServerCommandsTest, ZRem) {
  const std::string board = Key("z:rem"), missing = Key("z:missing");
  ASSERT_EQ(Call("ZADD", board, 1, "a", 2, "b", 3, "c"), Int(3));
  EXPECT_EQ(Call("ZREM", board, "a", "nobody", "b"), Int(2));
  EXPECT_EQ(Call("ZRANGE", board, 0, -1, "WITHSCORES"), WithScores({{"c", 3}}));
  EXPECT_EQ(Call("ZREM", board, "a"), Int(0));
  EXPECT_EQ(Call("ZREM", missing, "a"), Int(0));
  // Removing the last member removes the key.
  EXPECT_EQ(Call("ZREM", board, "c"), Int(1));
  EXPECT_EQ(Call("EXISTS", board), Int(0));
  EXPECT_EQ(Call("ZREM", board),
            Error(StatusCode::kErr, "wrong number of arguments for 'zrem' command"));
}

TEST_P(RealServerCommandsTest, ZUnionStoreWithWeights) {
  const std::string one = Key("u:one"), two = Key("u:two"), dest = Key("u:dest"),
                    missing = Key("u:missing"), text = Key("u:text");
  ASSERT_EQ(Call("ZADD", one, 1, "a", 2, "b"), Int(2));
  ASSERT_EQ(Call("ZADD", two, 10, "b", 20, "c"), Int(2));

  EXPECT_EQ(Call("ZUNIONSTORE", dest, 2, one, two, "WEIGHTS", 2, 3), Int(3));
  EXPECT_EQ(Call("ZRANGE", dest, 0, -1, "WITHSCORES"),
            WithScores({{"a", 2}, {"b", 34}, {"c", 60}}));
  EXPECT_EQ(Call("ZUNIONSTORE", dest, 2, one, two, "WEIGHTS", 1, 0.5, "AGGREGATE", "MAX"), Int(3));
  EXPECT_EQ(Call("ZRANGE", dest, 0, -1, "WITHSCORES"), WithScores({{"a", 1}, {"b", 5}, {"c", 10}}));
  EXPECT_EQ(Call("ZUNIONSTORE", dest, 2, one, missing), Int(2));  // missing: an empty set
  EXPECT_EQ(Call("ZRANGE", dest, 0, -1, "WITHSCORES"), WithScores({{"a", 1}, {"b", 2}}));
  // An empty union deletes the destination.
  EXPECT_EQ(Call("ZUNIONSTORE", dest, 1, missing), Int(0));
  EXPECT_EQ(Call("EXISTS", dest), Int(0));
  // The destination is replaced whatever it held, as in Redis.
  EXPECT_EQ(Call("SET", text, "v"), Ok());
  EXPECT_EQ(Call("ZUNIONSTORE", text, 1, one), Int(2));
  EXPECT_EQ(Call("ZCARD", text), Int(2));

  EXPECT_EQ(Call("ZUNIONSTORE", dest, 2, one, two, "WEIGHTS", 1),
            Error(StatusCode::kErr, "syntax error"));
  EXPECT_EQ(Call("ZUNIONSTORE", dest, 2, one, two, "WEIGHTS", 1, "heavy"),
            Error(StatusCode::kErr, "weight value is not a float"));
  EXPECT_EQ(Call("EXISTS", dest), Int(0));  // nothing stored by the refused ones
}

TEST_P(RealServerCommandsTest, ZUnionStoreOfBigSetsIsExact) {
  // Unions past 4,096 entries are built on a worker thread (docs/protocol.md); the result
  // must be the same as inline. Two sets of 3,000 members overlapping in 1,000.
  const std::string left = Key("big:left"), right = Key("big:right"), dest = Key("big:dest");
  constexpr int kMembers = 3'000, kOverlap = 1'000;
  std::vector<std::string> words_left = {"ZADD", left}, words_right = {"ZADD", right};
  for (int i = 0; i < kMembers; ++i) {
    words_left.push_back(std::to_string(i));
    words_left.push_back("m" + std::to_string(i));
    words_right.push_back(std::to_string(2 * i));
    words_right.push_back("m" + std::to_string(kMembers - kOverlap + i));
  }
  for (const auto* words : {&words_left, &words_right}) {
    const std::vector<std::string_view> views(words->begin(), words->end());
    Result<ReplyValue> added = client_->CallWords(views);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    EXPECT_EQ(*added, Int(kMembers));
  }
  EXPECT_EQ(Call("ZUNIONSTORE", dest, 2, left, right, "WEIGHTS", 1, 10),
            Int(2 * kMembers - kOverlap));
  EXPECT_EQ(Call("ZCARD", dest), Int(2 * kMembers - kOverlap));
  // m2500: 2500 in left, 2 * 500 in right -> 2500 + 10 * 1000.
  EXPECT_EQ(Call("ZSCORE", dest, "m2500"), Score(2'500 + 10 * 1'000));
  EXPECT_EQ(Call("ZSCORE", dest, "m10"), Score(10));
  EXPECT_EQ(Call("ZSCORE", dest, "m4999"), Score(10 * 2 * 2'999));
  EXPECT_EQ(Call("ZRANGE", dest, 0, 1, "WITHSCORES"), WithScores({{"m0", 0}, {"m1", 1}}));
  EXPECT_EQ(Call("ZREVRANGE", dest, 0, 0, "WITHSCORES"), WithScores({{"m4999", 59'980}}));
}

TEST_P(RealServerCommandsTest, WrongType) {
  const std::string text = Key("wt:text"), board = Key("wt:board"), dest = Key("wt:dest");
  ASSERT_EQ(Call("SET", text, "v"), Ok());
  ASSERT_EQ(Call("ZADD", board, 1, "m"), Int(1));
  const ReplyValue wrong_type = Error(StatusCode::kWrongType, kWrongType);

  EXPECT_EQ(Call("ZADD", text, 1, "m"), wrong_type);
  EXPECT_EQ(Call("ZINCRBY", text, 1, "m"), wrong_type);
  EXPECT_EQ(Call("ZSCORE", text, "m"), wrong_type);
  EXPECT_EQ(Call("ZMSCORE", text, "m"), wrong_type);
  EXPECT_EQ(Call("ZRANK", text, "m"), wrong_type);
  EXPECT_EQ(Call("ZREVRANK", text, "m"), wrong_type);
  EXPECT_EQ(Call("ZRANGE", text, 0, -1), wrong_type);
  EXPECT_EQ(Call("ZREVRANGE", text, 0, -1), wrong_type);
  EXPECT_EQ(Call("ZCARD", text), wrong_type);
  EXPECT_EQ(Call("ZREM", text, "m"), wrong_type);
  EXPECT_EQ(Call("ZUNIONSTORE", dest, 2, board, text), wrong_type);
  EXPECT_EQ(Call("EXISTS", dest), Int(0));

  EXPECT_EQ(Call("GET", board), wrong_type);
  EXPECT_EQ(Call("INCRBY", board, 1), wrong_type);
  EXPECT_EQ(Call("DECRBY", board, 1), wrong_type);
  EXPECT_EQ(Call("SET", board, "v", "GET"), wrong_type);
  // Nothing changed: the string and the set are as they were.
  EXPECT_EQ(Call("GET", text), Bytes("v"));
  EXPECT_EQ(Call("ZRANGE", board, 0, -1, "WITHSCORES"), WithScores({{"m", 1}}));

  // Type-generic commands work on both; a plain SET replaces a set, as in Redis.
  EXPECT_EQ(Call("EXISTS", text, board), Int(2));
  EXPECT_EQ(Call("TTL", board), Int(-1));
  EXPECT_EQ(Call("SET", board, "now text"), Ok());
  EXPECT_EQ(Call("GET", board), Bytes("now text"));
  EXPECT_EQ(Call("DEL", text, board), Int(2));
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerCommandsTest,
                         ::testing::Values(ClientProtocol::kBinary, ClientProtocol::kResp),
                         ProtocolName);

// Typed arguments exist only in binary frames (docs/protocol.md, "Arguments"); over RESP every
// argument is text and these cases cannot be written, so this suite runs over binary alone.
class RealServerBinaryArgumentsTest : public RealServerCommandsTest {};

TEST_P(RealServerBinaryArgumentsTest, NumbersWhereBytesBelongAndBack) {
  const std::string board = Key("z:typed");
  EXPECT_EQ(Call("ZADD", board, 1, -5), Error(StatusCode::kErr,
                                              "a member must be a byte string or a non-negative "
                                              "integer"));
  EXPECT_EQ(Call("ZADD", board, std::nan(""), "m"),
            Error(StatusCode::kErr, "value is not a valid float"));
  EXPECT_EQ(Call("GET", 12), Error(StatusCode::kErr, "a key must be a byte string"));
  EXPECT_EQ(Call("EXPIRE", board, 1.5), Error(StatusCode::kErr, kNotInteger));
  EXPECT_EQ(Call("ZADD", board, int64_t{3}, "m"), Int(1));  // an int64 score is a number too
  EXPECT_EQ(Call("ZSCORE", board, "m"), Score(3));
  EXPECT_EQ(Call("SET", Key("typed:f"), 0.1), Ok());  // a float64 value: its shortest text
  EXPECT_EQ(Call("GET", Key("typed:f")), Bytes("0.1"));
}

INSTANTIATE_TEST_SUITE_P(Protocols, RealServerBinaryArgumentsTest,
                         ::testing::Values(ClientProtocol::kBinary), ProtocolName);

}  // namespace
}  // namespace podium::client
