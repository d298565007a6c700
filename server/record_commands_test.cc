// Record commands, in-process: exact RESP replies, Redis's error texts, and that every error
// leaves the data as it was. Time is the harness's now_ms.
#include <gtest/gtest.h>

#include <string>

#include "server/command_test_util.h"
#include "storage/limits.h"

namespace podium::server {
namespace {

using testing::CommandHarness;
using testing::Int64Arg;
using testing::kRespEmptyArray;
using testing::kRespNil;
using testing::kRespNotInteger;
using testing::kRespOk;
using testing::kRespSyntaxError;
using testing::kRespWrongType;
using testing::RespArity;
using testing::RespBulk;
using testing::RespError;
using testing::RespInt;

class RecordCommandsTest : public ::testing::Test {
 protected:
  std::string Run(std::initializer_list<std::string_view> words) { return harness_.Run(words); }
  void MakeZSet(std::string_view key) { ASSERT_EQ(Run({"ZADD", key, "1", "m"}), RespInt(1)); }

  CommandHarness harness_;
};

TEST_F(RecordCommandsTest, GetAndSet) {
  EXPECT_EQ(Run({"GET", "k"}), kRespNil);
  EXPECT_EQ(Run({"SET", "k", "hello"}), kRespOk);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("hello"));
  EXPECT_EQ(Run({"SET", "k", ""}), kRespOk);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk(""));
  const std::string binary("a\0b\r\n", 5);
  EXPECT_EQ(Run({"SET", "k", binary}), kRespOk);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk(binary));
}

TEST_F(RecordCommandsTest, GetOnSortedSetIsWrongType) {
  MakeZSet("z");
  EXPECT_EQ(Run({"GET", "z"}), kRespWrongType);
}

TEST_F(RecordCommandsTest, SetReplacesSortedSet) {
  MakeZSet("z");
  EXPECT_EQ(Run({"SET", "z", "v"}), kRespOk);
  EXPECT_EQ(Run({"GET", "z"}), RespBulk("v"));
  EXPECT_EQ(Run({"ZCARD", "z"}), kRespWrongType);
}

TEST_F(RecordCommandsTest, SetWithBinaryNumberValueStoresItsText) {
  EXPECT_EQ(harness_.RunArgs("SET", {testing::BytesArg("k"), Int64Arg(-42)}), kRespOk);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("-42"));
  EXPECT_EQ(harness_.RunArgs("SET", {testing::BytesArg("k"), testing::Float64Arg(1.5)}), kRespOk);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("1.5"));
}

TEST_F(RecordCommandsTest, SetExAndPxExpire) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "10"}), kRespOk);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(10));
  EXPECT_EQ(Run({"PTTL", "k"}), RespInt(10000));
  EXPECT_EQ(Run({"SET", "p", "v", "px", "1500"}), kRespOk);
  EXPECT_EQ(Run({"PTTL", "p"}), RespInt(1500));
  harness_.now_ms += 1499;
  EXPECT_EQ(Run({"GET", "p"}), RespBulk("v"));
  harness_.now_ms += 1;
  EXPECT_EQ(Run({"GET", "p"}), kRespNil);
  EXPECT_EQ(Run({"EXISTS", "p"}), RespInt(0));
  // A later EX replaces an earlier one, as in Redis.
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "5", "EX", "7"}), kRespOk);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(7));
  // A plain SET clears the TTL.
  EXPECT_EQ(Run({"SET", "k", "v"}), kRespOk);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(-1));
}

TEST_F(RecordCommandsTest, SetExpireErrorsChangeNothing) {
  ASSERT_EQ(Run({"SET", "k", "old"}), kRespOk);
  const std::string invalid = RespError("ERR invalid expire time in 'set' command");
  EXPECT_EQ(Run({"SET", "k", "new", "EX", "0"}), invalid);
  EXPECT_EQ(Run({"SET", "k", "new", "EX", "-5"}), invalid);
  EXPECT_EQ(Run({"SET", "k", "new", "PX", "0"}), invalid);
  const std::string past_limit = std::to_string(storage::kTtlMsMax + 1);
  EXPECT_EQ(Run({"SET", "k", "new", "PX", past_limit}), invalid);
  EXPECT_EQ(Run({"SET", "k", "new", "EX", "9223372036854775807"}), invalid);
  EXPECT_EQ(Run({"SET", "k", "new", "EX", "abc"}), kRespNotInteger);
  EXPECT_EQ(Run({"SET", "k", "new", "EX", "1.5"}), kRespNotInteger);
  EXPECT_EQ(Run({"SET", "k", "new", "EX"}), kRespSyntaxError);
  EXPECT_EQ(Run({"SET", "k", "new", "EX", "10", "PX", "100"}), kRespSyntaxError);
  EXPECT_EQ(Run({"SET", "k", "new", "PX", "100", "EX", "10"}), kRespSyntaxError);
  EXPECT_EQ(Run({"SET", "k", "new", "EX", "10", "KEEPTTL"}), kRespSyntaxError);
  EXPECT_EQ(Run({"SET", "k", "new", "KEEPTTL", "PX", "10"}), kRespSyntaxError);
  EXPECT_EQ(Run({"SET", "k", "new", "NX", "XX"}), kRespSyntaxError);
  EXPECT_EQ(Run({"SET", "k", "new", "XX", "NX"}), kRespSyntaxError);
  EXPECT_EQ(Run({"SET", "k", "new", "BOGUS"}), kRespSyntaxError);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("old"));
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(-1));
}

TEST_F(RecordCommandsTest, SetNxXx) {
  EXPECT_EQ(Run({"SET", "k", "v1", "XX"}), kRespNil);
  EXPECT_EQ(Run({"EXISTS", "k"}), RespInt(0));
  EXPECT_EQ(Run({"SET", "k", "v1", "NX"}), kRespOk);
  EXPECT_EQ(Run({"SET", "k", "v2", "NX"}), kRespNil);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("v1"));
  EXPECT_EQ(Run({"SET", "k", "v3", "xx", "px", "100"}), kRespOk);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("v3"));
  EXPECT_EQ(Run({"PTTL", "k"}), RespInt(100));
  // NX sees a key of any type; XX may replace a sorted set.
  MakeZSet("z");
  EXPECT_EQ(Run({"SET", "z", "v", "NX"}), kRespNil);
  EXPECT_EQ(Run({"SET", "z", "v", "XX"}), kRespOk);
  EXPECT_EQ(Run({"GET", "z"}), RespBulk("v"));
}

TEST_F(RecordCommandsTest, SetGet) {
  EXPECT_EQ(Run({"SET", "k", "v1", "GET"}), kRespNil);
  EXPECT_EQ(Run({"SET", "k", "v2", "GET"}), RespBulk("v1"));
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("v2"));
  // With NX the old value comes back whether or not the set happened.
  EXPECT_EQ(Run({"SET", "k", "v3", "NX", "GET"}), RespBulk("v2"));
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("v2"));
  EXPECT_EQ(Run({"SET", "n", "v", "XX", "GET"}), kRespNil);
  EXPECT_EQ(Run({"EXISTS", "n"}), RespInt(0));
  // GET on a sorted set is WRONGTYPE and the set stays.
  MakeZSet("z");
  EXPECT_EQ(Run({"SET", "z", "v", "GET"}), kRespWrongType);
  EXPECT_EQ(Run({"ZCARD", "z"}), RespInt(1));
}

TEST_F(RecordCommandsTest, SetKeepTtl) {
  ASSERT_EQ(Run({"SET", "k", "v", "PX", "5000"}), kRespOk);
  harness_.now_ms += 1000;
  EXPECT_EQ(Run({"SET", "k", "w", "KEEPTTL"}), kRespOk);
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("w"));
  EXPECT_EQ(Run({"PTTL", "k"}), RespInt(4000));
  EXPECT_EQ(Run({"SET", "n", "v", "KEEPTTL"}), kRespOk);
  EXPECT_EQ(Run({"PTTL", "n"}), RespInt(-1));
}

TEST_F(RecordCommandsTest, KeyLimits) {
  const std::string long_key(storage::kKeySizeBytesMax + 1, 'k');
  EXPECT_EQ(Run({"SET", long_key, "v"}), RespError("LIMIT key must be 1 to 1024 bytes"));
  EXPECT_EQ(Run({"GET", ""}), RespError("LIMIT key must be 1 to 1024 bytes"));
  const std::string max_key(storage::kKeySizeBytesMax, 'k');
  EXPECT_EQ(Run({"SET", max_key, "v"}), kRespOk);
  EXPECT_EQ(Run({"GET", max_key}), RespBulk("v"));
}

TEST_F(RecordCommandsTest, ValueLimit) {
  ASSERT_EQ(Run({"SET", "k", "old"}), kRespOk);
  const std::string too_big(storage::kValueSizeBytesMax + 1, 'v');
  EXPECT_EQ(Run({"SET", "k", too_big}),
            RespError("LIMIT value is 8388609 bytes; the limit is 8388608"));
  EXPECT_EQ(Run({"SET", "k", too_big, "GET"}),
            RespError("LIMIT value is 8388609 bytes; the limit is 8388608"));
  EXPECT_EQ(Run({"GET", "k"}), RespBulk("old"));
}

TEST_F(RecordCommandsTest, Arity) {
  EXPECT_EQ(Run({"GET"}), RespArity("get"));
  EXPECT_EQ(Run({"GET", "a", "b"}), RespArity("get"));
  EXPECT_EQ(Run({"SET", "k"}), RespArity("set"));
  EXPECT_EQ(Run({"DEL"}), RespArity("del"));
  EXPECT_EQ(Run({"EXPIRE", "k"}), RespArity("expire"));
  EXPECT_EQ(Run({"INCR"}), RespArity("incr"));
  EXPECT_EQ(Run({"INCRBY", "k"}), RespArity("incrby"));
  EXPECT_EQ(Run({"TTL", "a", "b"}), RespArity("ttl"));
}

TEST_F(RecordCommandsTest, DelAndExists) {
  ASSERT_EQ(Run({"SET", "a", "1"}), kRespOk);
  ASSERT_EQ(Run({"SET", "b", "2"}), kRespOk);
  MakeZSet("z");
  EXPECT_EQ(Run({"EXISTS", "a", "a", "b", "z", "missing"}), RespInt(4));
  EXPECT_EQ(Run({"DEL", "a", "a", "z", "missing"}), RespInt(2));
  EXPECT_EQ(Run({"EXISTS", "a", "z"}), RespInt(0));
  EXPECT_EQ(Run({"EXISTS", "b"}), RespInt(1));
  EXPECT_EQ(Run({"DEL", "b"}), RespInt(1));
  EXPECT_EQ(Run({"DEL", "b"}), RespInt(0));
}

TEST_F(RecordCommandsTest, DelWithABadKeyDeletesNothing) {
  ASSERT_EQ(Run({"SET", "a", "1"}), kRespOk);
  EXPECT_EQ(Run({"DEL", "a", ""}), RespError("LIMIT key must be 1 to 1024 bytes"));
  EXPECT_EQ(Run({"EXISTS", "a"}), RespInt(1));
}

TEST_F(RecordCommandsTest, ExpireAndPExpire) {
  EXPECT_EQ(Run({"EXPIRE", "missing", "10"}), RespInt(0));
  ASSERT_EQ(Run({"SET", "k", "v"}), kRespOk);
  EXPECT_EQ(Run({"EXPIRE", "k", "10"}), RespInt(1));
  EXPECT_EQ(Run({"PTTL", "k"}), RespInt(10000));
  EXPECT_EQ(Run({"PEXPIRE", "k", "2500"}), RespInt(1));
  EXPECT_EQ(Run({"PTTL", "k"}), RespInt(2500));
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(3));  // (2500 + 500) / 1000
  harness_.now_ms += 2500;
  EXPECT_EQ(Run({"GET", "k"}), kRespNil);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(-2));
  // Sorted sets expire too.
  MakeZSet("z");
  EXPECT_EQ(Run({"PEXPIRE", "z", "100"}), RespInt(1));
  EXPECT_EQ(Run({"PTTL", "z"}), RespInt(100));
  harness_.now_ms += 100;
  EXPECT_EQ(Run({"ZCARD", "z"}), RespInt(0));
  EXPECT_EQ(Run({"EXISTS", "z"}), RespInt(0));
}

TEST_F(RecordCommandsTest, ExpireNotPositiveDeletes) {
  ASSERT_EQ(Run({"SET", "k", "v"}), kRespOk);
  EXPECT_EQ(Run({"EXPIRE", "k", "0"}), RespInt(1));
  EXPECT_EQ(Run({"EXISTS", "k"}), RespInt(0));
  ASSERT_EQ(Run({"SET", "k", "v"}), kRespOk);
  EXPECT_EQ(Run({"PEXPIRE", "k", "-100"}), RespInt(1));
  EXPECT_EQ(Run({"EXISTS", "k"}), RespInt(0));
  MakeZSet("z");
  EXPECT_EQ(Run({"EXPIRE", "z", "-1"}), RespInt(1));
  EXPECT_EQ(Run({"EXISTS", "z"}), RespInt(0));
}

TEST_F(RecordCommandsTest, ExpireOptions) {
  ASSERT_EQ(Run({"SET", "k", "v"}), kRespOk);
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "XX"}), RespInt(0));  // no TTL yet
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "GT"}), RespInt(0));  // no TTL counts as infinite
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(-1));
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "NX"}), RespInt(1));
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "NX"}), RespInt(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "GT"}), RespInt(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "GT"}), RespInt(0));  // equal is not greater
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "gt"}), RespInt(1));
  EXPECT_EQ(Run({"EXPIRE", "k", "300", "LT"}), RespInt(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "150", "LT", "XX"}), RespInt(1));
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(150));
  ASSERT_EQ(Run({"SET", "n", "v"}), kRespOk);
  EXPECT_EQ(Run({"PEXPIRE", "n", "100", "LT"}), RespInt(1));  // infinite > anything
  EXPECT_EQ(Run({"PTTL", "n"}), RespInt(100));
}

TEST_F(RecordCommandsTest, ExpireErrorsChangeNothing) {
  ASSERT_EQ(Run({"SET", "k", "v", "EX", "100"}), kRespOk);
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "NX", "XX"}),
            RespError("ERR NX and XX, GT or LT options at the same time are not compatible"));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "NX", "GT"}),
            RespError("ERR NX and XX, GT or LT options at the same time are not compatible"));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "GT", "LT"}),
            RespError("ERR GT and LT options at the same time are not compatible"));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "FOO"}), RespError("ERR Unsupported option FOO"));
  EXPECT_EQ(Run({"EXPIRE", "k", "ten"}), kRespNotInteger);
  EXPECT_EQ(Run({"EXPIRE", "k", "9223372036854775807"}),
            RespError("ERR invalid expire time in 'expire' command"));
  EXPECT_EQ(Run({"EXPIRE", "k", "-9223372036854775808"}),
            RespError("ERR invalid expire time in 'expire' command"));
  EXPECT_EQ(Run({"PEXPIRE", "k", std::to_string(storage::kTtlMsMax + 1)}),
            RespError("ERR invalid expire time in 'pexpire' command"));
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(100));
}

TEST_F(RecordCommandsTest, TtlRounding) {
  EXPECT_EQ(Run({"TTL", "missing"}), RespInt(-2));
  EXPECT_EQ(Run({"PTTL", "missing"}), RespInt(-2));
  ASSERT_EQ(Run({"SET", "k", "v"}), kRespOk);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(-1));
  EXPECT_EQ(Run({"PTTL", "k"}), RespInt(-1));
  ASSERT_EQ(Run({"SET", "k", "v", "PX", "1499"}), kRespOk);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(1));
  ASSERT_EQ(Run({"SET", "k", "v", "PX", "1500"}), kRespOk);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(2));
  ASSERT_EQ(Run({"SET", "k", "v", "PX", "1"}), kRespOk);
  EXPECT_EQ(Run({"TTL", "k"}), RespInt(0));
  EXPECT_EQ(Run({"PTTL", "k"}), RespInt(1));
}

TEST_F(RecordCommandsTest, IncrementFamily) {
  EXPECT_EQ(Run({"INCR", "c"}), RespInt(1));
  EXPECT_EQ(Run({"INCRBY", "c", "10"}), RespInt(11));
  EXPECT_EQ(Run({"DECR", "c"}), RespInt(10));
  EXPECT_EQ(Run({"DECRBY", "c", "15"}), RespInt(-5));
  EXPECT_EQ(Run({"DECRBY", "c", "-5"}), RespInt(0));
  EXPECT_EQ(Run({"GET", "c"}), RespBulk("0"));
  EXPECT_EQ(Run({"DECR", "d"}), RespInt(-1));
  EXPECT_EQ(harness_.RunArgs("INCRBY", {testing::BytesArg("c"), Int64Arg(7)}), RespInt(7));
}

TEST_F(RecordCommandsTest, IncrementKeepsTtl) {
  ASSERT_EQ(Run({"SET", "c", "5", "PX", "1000"}), kRespOk);
  EXPECT_EQ(Run({"INCR", "c"}), RespInt(6));
  EXPECT_EQ(Run({"PTTL", "c"}), RespInt(1000));
}

TEST_F(RecordCommandsTest, IncrementErrorsChangeNothing) {
  ASSERT_EQ(Run({"SET", "s", "abc"}), kRespOk);
  EXPECT_EQ(Run({"INCR", "s"}), kRespNotInteger);
  ASSERT_EQ(Run({"SET", "s", "007"}), kRespOk);
  EXPECT_EQ(Run({"INCRBY", "s", "1"}), kRespNotInteger);
  EXPECT_EQ(Run({"GET", "s"}), RespBulk("007"));

  ASSERT_EQ(Run({"SET", "c", "9223372036854775807"}), kRespOk);
  EXPECT_EQ(Run({"INCR", "c"}), RespError("ERR increment or decrement would overflow"));
  ASSERT_EQ(Run({"SET", "c", "-9223372036854775808"}), kRespOk);
  EXPECT_EQ(Run({"DECR", "c"}), RespError("ERR increment or decrement would overflow"));
  EXPECT_EQ(Run({"GET", "c"}), RespBulk("-9223372036854775808"));

  ASSERT_EQ(Run({"SET", "c", "1"}), kRespOk);
  EXPECT_EQ(Run({"DECRBY", "c", "-9223372036854775808"}),
            RespError("ERR decrement would overflow"));
  EXPECT_EQ(Run({"INCRBY", "c", "1.5"}), kRespNotInteger);
  EXPECT_EQ(Run({"INCRBY", "c", "9223372036854775808"}), kRespNotInteger);
  EXPECT_EQ(Run({"DECRBY", "c", "x"}), kRespNotInteger);
  EXPECT_EQ(Run({"GET", "c"}), RespBulk("1"));

  MakeZSet("z");
  EXPECT_EQ(Run({"INCRBY", "z", "1"}), kRespWrongType);
  EXPECT_EQ(Run({"DECR", "z"}), kRespWrongType);
  EXPECT_EQ(Run({"ZCARD", "z"}), RespInt(1));
}

TEST_F(RecordCommandsTest, ExpiredKeysAreGoneForEveryCommand) {
  ASSERT_EQ(Run({"SET", "c", "41", "PX", "10"}), kRespOk);
  harness_.now_ms += 10;
  EXPECT_EQ(Run({"INCR", "c"}), RespInt(1));  // a fresh counter, without the old TTL
  EXPECT_EQ(Run({"TTL", "c"}), RespInt(-1));
  ASSERT_EQ(Run({"SET", "k", "v", "PX", "10"}), kRespOk);
  harness_.now_ms += 10;
  EXPECT_EQ(Run({"DEL", "k"}), RespInt(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "10"}), RespInt(0));
  EXPECT_EQ(Run({"ZRANGE", "nothing", "0", "-1"}), kRespEmptyArray);
}

}  // namespace
}  // namespace podium::server
