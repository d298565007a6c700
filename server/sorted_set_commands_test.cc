// Sorted-set commands, in-process: exact RESP replies, Redis's option rules and error texts,
// that every error changes nothing, and a randomized run against a std::map model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "protocol/binary_reply_writer.h"
#include "protocol/number_text.h"
#include "protocol/resp_reply_writer.h"
#include "server/command_test_util.h"
#include "server/sorted_set_range_commands.h"
#include "storage/effects.h"
#include "storage/limits.h"

namespace podium::server {
namespace {

using testing::BytesArg;
using testing::CommandHarness;
using testing::Float64Arg;
using testing::Int64Arg;
using testing::kRespEmptyArray;
using testing::kRespNil;
using testing::kRespNotFloat;
using testing::kRespNotInteger;
using testing::kRespOk;
using testing::kRespSyntaxError;
using testing::kRespWrongType;
using testing::RespArity;
using testing::RespArray;
using testing::RespArrayOf;
using testing::RespBulk;
using testing::RespError;
using testing::RespInt;

const std::string kNotCompatibleNxXx =
    RespError("ERR XX and NX options at the same time are not compatible");
const std::string kNotCompatibleGtLtNx =
    RespError("ERR GT, LT, and/or NX options at the same time are not compatible");
const std::string kNanResult = RespError("ERR resulting score is not a number (NaN)");
const std::string kNotFloatRange = RespError("ERR min or max is not a float");

// A score as replies print it (protocol::FormatDouble).
std::string FormatScore(double score) {
  char text[protocol::kNumberTextBytesMax];
  return std::string(text, protocol::FormatDouble(score, text));
}

class SortedSetCommandsTest : public ::testing::Test {
 protected:
  std::string Run(std::initializer_list<std::string_view> words) { return harness_.Run(words); }
  std::string All(std::string_view key) { return Run({"ZRANGE", key, "0", "-1", "WITHSCORES"}); }
  // board: a=1 b=2 c=3 d=4 e=5.
  void MakeBoard() {
    ASSERT_EQ(Run({"ZADD", "board", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"}), RespInt(5));
  }

  CommandHarness harness_;
};

// ---- ZADD ------------------------------------------------------------------------------------

TEST_F(SortedSetCommandsTest, ZAddAddsAndUpdates) {
  EXPECT_EQ(Run({"ZADD", "z", "1", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "2", "a", "3", "b"}), RespInt(1));
  EXPECT_EQ(All("z"), RespArray({"a", "2", "b", "3"}));
  EXPECT_EQ(Run({"ZADD", "z", "2", "a"}), RespInt(0));
  // A member named twice: added, then updated.
  EXPECT_EQ(Run({"ZADD", "z", "5", "c", "0.5", "c"}), RespInt(1));
  EXPECT_EQ(All("z"), RespArray({"c", "0.5", "a", "2", "b", "3"}));
}

TEST_F(SortedSetCommandsTest, ZAddScoresFormatsAndInfinities) {
  EXPECT_EQ(Run({"ZADD", "z", "-inf", "lo", "+inf", "hi", "1e3", "k", "-0.25", "q"}), RespInt(4));
  EXPECT_EQ(All("z"), RespArray({"lo", "-inf", "q", "-0.25", "k", "1000", "hi", "inf"}));
  EXPECT_EQ(Run({"ZSCORE", "z", "hi"}), RespBulk("inf"));
}

TEST_F(SortedSetCommandsTest, NegativeZeroIsStoredAsZero) {
  EXPECT_EQ(Run({"ZADD", "z", "-0", "a", "-0.0", "b"}), RespInt(2));
  EXPECT_EQ(Run({"ZINCRBY", "z", "-0", "c"}), RespBulk("0"));
  EXPECT_EQ(Run({"ZADD", "z", "INCR", "-0", "d"}), RespBulk("0"));
  EXPECT_EQ(All("z"), RespArray({"a", "0", "b", "0", "c", "0", "d", "0"}));
  EXPECT_EQ(Run({"ZUNIONSTORE", "u", "1", "z", "WEIGHTS", "-1"}), RespInt(4));
  EXPECT_EQ(All("u"), RespArray({"a", "0", "b", "0", "c", "0", "d", "0"}));
}

TEST_F(SortedSetCommandsTest, ZAddTiesOrderByMemberBytes) {
  // Integer members are kept as integers but sort as their text: "10" < "9" < "a".
  EXPECT_EQ(Run({"ZADD", "z", "1", "a", "1", "9", "1", "10", "0", "z"}), RespInt(4));
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1"}), RespArray({"z", "10", "9", "a"}));
}

TEST_F(SortedSetCommandsTest, ZAddNxXx) {
  EXPECT_EQ(Run({"ZADD", "z", "XX", "1", "a"}), RespInt(0));
  EXPECT_EQ(Run({"EXISTS", "z"}), RespInt(0));  // XX never creates the key
  EXPECT_EQ(Run({"ZADD", "z", "1", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "NX", "5", "a", "2", "b"}), RespInt(1));
  EXPECT_EQ(All("z"), RespArray({"a", "1", "b", "2"}));
  EXPECT_EQ(Run({"ZADD", "z", "xx", "7", "a", "3", "c"}), RespInt(0));
  EXPECT_EQ(All("z"), RespArray({"b", "2", "a", "7"}));
}

TEST_F(SortedSetCommandsTest, ZAddCh) {
  ASSERT_EQ(Run({"ZADD", "z", "1", "a", "2", "b"}), RespInt(2));
  EXPECT_EQ(Run({"ZADD", "z", "CH", "1", "a", "3", "b", "4", "c"}), RespInt(2));
  EXPECT_EQ(Run({"ZADD", "z", "CH", "XX", "1", "a", "9", "b", "9", "d"}), RespInt(1));
  EXPECT_EQ(All("z"), RespArray({"a", "1", "c", "4", "b", "9"}));
}

TEST_F(SortedSetCommandsTest, ZAddGtLt) {
  ASSERT_EQ(Run({"ZADD", "z", "5", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "GT", "CH", "3", "a"}), RespInt(0));
  EXPECT_EQ(Run({"ZADD", "z", "GT", "CH", "5", "a"}), RespInt(0));
  EXPECT_EQ(Run({"ZADD", "z", "GT", "CH", "6", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "LT", "CH", "7", "a"}), RespInt(0));
  EXPECT_EQ(Run({"ZADD", "z", "LT", "CH", "2", "a"}), RespInt(1));
  // GT and LT do not stop new members; XX combines with them.
  EXPECT_EQ(Run({"ZADD", "z", "GT", "1", "b"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "XX", "GT", "CH", "3", "a", "9", "new"}), RespInt(1));
  EXPECT_EQ(All("z"), RespArray({"b", "1", "a", "3"}));
}

TEST_F(SortedSetCommandsTest, ZAddIncr) {
  EXPECT_EQ(Run({"ZADD", "z", "INCR", "2.5", "a"}), RespBulk("2.5"));
  EXPECT_EQ(Run({"ZADD", "z", "INCR", "1", "a"}), RespBulk("3.5"));
  EXPECT_EQ(Run({"ZADD", "z", "NX", "INCR", "1", "a"}), kRespNil);
  EXPECT_EQ(Run({"ZADD", "z", "XX", "INCR", "1", "missing"}), kRespNil);
  EXPECT_EQ(Run({"ZADD", "z", "GT", "INCR", "-1", "a"}), kRespNil);
  EXPECT_EQ(Run({"ZADD", "z", "LT", "INCR", "-1", "a"}), RespBulk("2.5"));
  EXPECT_EQ(Run({"ZADD", "none", "XX", "INCR", "1", "a"}), kRespNil);
  EXPECT_EQ(Run({"EXISTS", "none"}), RespInt(0));
  EXPECT_EQ(All("z"), RespArray({"a", "2.5"}));
}

TEST_F(SortedSetCommandsTest, ZAddOptionErrorsChangeNothing) {
  ASSERT_EQ(Run({"ZADD", "z", "1", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "NX", "XX", "2", "a"}), kNotCompatibleNxXx);
  EXPECT_EQ(Run({"ZADD", "z", "GT", "LT", "2", "a"}), kNotCompatibleGtLtNx);
  EXPECT_EQ(Run({"ZADD", "z", "GT", "NX", "2", "a"}), kNotCompatibleGtLtNx);
  EXPECT_EQ(Run({"ZADD", "z", "LT", "NX", "2", "a"}), kNotCompatibleGtLtNx);
  EXPECT_EQ(Run({"ZADD", "z", "INCR", "2", "a", "3", "b"}),
            RespError("ERR INCR option supports a single increment-element pair"));
  EXPECT_EQ(Run({"ZADD", "z", "2", "a", "3"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZADD", "z", "NX", "2"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZADD", "z", "CH", "NX"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZADD", "z"}), RespArity("zadd"));
  EXPECT_EQ(Run({"ZADD", "z", "1"}), RespArity("zadd"));
  EXPECT_EQ(All("z"), RespArray({"a", "1"}));
}

TEST_F(SortedSetCommandsTest, ZAddBadScoreAnywhereChangesNothing) {
  ASSERT_EQ(Run({"ZADD", "z", "1", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "x", "b", "2", "c"}), kRespNotFloat);
  EXPECT_EQ(Run({"ZADD", "z", "2", "b", "3", "c", "nan", "d"}), kRespNotFloat);
  EXPECT_EQ(Run({"ZADD", "z", "5", "a", "1.5.2", "e"}), kRespNotFloat);
  EXPECT_EQ(Run({"ZADD", "z", "5", "a", "", "e"}), kRespNotFloat);
  EXPECT_EQ(Run({"ZADD", "new", "1", "a", "bad", "b"}), kRespNotFloat);
  EXPECT_EQ(All("z"), RespArray({"a", "1"}));
  EXPECT_EQ(Run({"EXISTS", "new"}), RespInt(0));
}

TEST_F(SortedSetCommandsTest, ZAddBadMemberChangesNothing) {
  ASSERT_EQ(Run({"ZADD", "z", "1", "a"}), RespInt(1));
  const std::string long_member(storage::kMemberSizeBytesMax + 1, 'm');
  EXPECT_EQ(Run({"ZADD", "z", "2", "a", "3", long_member}),
            RespError("LIMIT member is longer than 1024 bytes"));
  EXPECT_EQ(All("z"), RespArray({"a", "1"}));
  const std::string max_member(storage::kMemberSizeBytesMax, 'm');
  EXPECT_EQ(Run({"ZADD", "z", "3", max_member}), RespInt(1));
}

TEST_F(SortedSetCommandsTest, ZAddIncrNanChangesNothing) {
  ASSERT_EQ(Run({"ZADD", "z", "+inf", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZADD", "z", "INCR", "-inf", "a"}), kNanResult);
  EXPECT_EQ(All("z"), RespArray({"a", "inf"}));
}

TEST_F(SortedSetCommandsTest, WrongTypeOnStringKey) {
  ASSERT_EQ(Run({"SET", "s", "v"}), kRespOk);
  EXPECT_EQ(Run({"ZADD", "s", "1", "a"}), kRespWrongType);
  EXPECT_EQ(Run({"ZINCRBY", "s", "1", "a"}), kRespWrongType);
  EXPECT_EQ(Run({"ZSCORE", "s", "a"}), kRespWrongType);
  EXPECT_EQ(Run({"ZMSCORE", "s", "a"}), kRespWrongType);
  EXPECT_EQ(Run({"ZRANK", "s", "a"}), kRespWrongType);
  EXPECT_EQ(Run({"ZREVRANK", "s", "a"}), kRespWrongType);
  EXPECT_EQ(Run({"ZRANGE", "s", "0", "-1"}), kRespWrongType);
  EXPECT_EQ(Run({"ZREVRANGE", "s", "0", "-1"}), kRespWrongType);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "s", "-inf", "inf"}), kRespWrongType);
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "s", "inf", "-inf"}), kRespWrongType);
  EXPECT_EQ(Run({"ZCARD", "s"}), kRespWrongType);
  EXPECT_EQ(Run({"ZCOUNT", "s", "-inf", "inf"}), kRespWrongType);
  EXPECT_EQ(Run({"ZREM", "s", "a"}), kRespWrongType);
  EXPECT_EQ(Run({"ZUNIONSTORE", "d", "1", "s"}), kRespWrongType);
  EXPECT_EQ(Run({"GET", "s"}), RespBulk("v"));
  EXPECT_EQ(Run({"EXISTS", "d"}), RespInt(0));
}

TEST_F(SortedSetCommandsTest, BinaryArguments) {
  // A float64 score and an int64 member, as a binary client sends them.
  EXPECT_EQ(harness_.RunArgs("ZADD", {BytesArg("z"), Float64Arg(1.5), Int64Arg(42)}), RespInt(1));
  EXPECT_EQ(harness_.RunArgs("ZADD", {BytesArg("z"), Int64Arg(2), BytesArg("7")}), RespInt(1));
  EXPECT_EQ(Run({"ZSCORE", "z", "42"}), RespBulk("1.5"));
  EXPECT_EQ(harness_.RunArgs("ZINCRBY", {BytesArg("z"), Float64Arg(1), Int64Arg(42)}),
            RespBulk("2.5"));
  EXPECT_EQ(harness_.RunArgs("ZSCORE", {BytesArg("z"), Int64Arg(7)}), RespBulk("2"));
  EXPECT_EQ(harness_.RunArgs("ZRANGEBYSCORE", {BytesArg("z"), Float64Arg(2), Int64Arg(3)}),
            RespArray({"7", "42"}));
  EXPECT_EQ(harness_.RunArgs("ZADD", {BytesArg("z"), Float64Arg(NAN), BytesArg("m")}),
            kRespNotFloat);
  EXPECT_EQ(harness_.RunArgs("ZADD", {BytesArg("z"), Float64Arg(1), Int64Arg(-1)}),
            RespError("ERR a member must be a byte string or a non-negative integer"));
  EXPECT_EQ(harness_.RunArgs("ZADD", {Int64Arg(1), Float64Arg(1), BytesArg("m")}),
            RespError("ERR a key must be a byte string"));
  EXPECT_EQ(All("z"), RespArray({"7", "2", "42", "2.5"}));
}

// ---- ZINCRBY, ZSCORE, ZMSCORE ----------------------------------------------------------------

TEST_F(SortedSetCommandsTest, ZIncrBy) {
  EXPECT_EQ(Run({"ZINCRBY", "z", "2", "a"}), RespBulk("2"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "-0.5", "a"}), RespBulk("1.5"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "0.1", "b"}), RespBulk("0.1"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "0.2", "b"}), RespBulk("0.30000000000000004"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "x", "a"}), kRespNotFloat);
  EXPECT_EQ(Run({"ZINCRBY", "z", "nan", "a"}), kRespNotFloat);
  ASSERT_EQ(Run({"ZINCRBY", "z", "inf", "a"}), RespBulk("inf"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "-inf", "a"}), kNanResult);
  EXPECT_EQ(All("z"), RespArray({"b", "0.30000000000000004", "a", "inf"}));
  EXPECT_EQ(Run({"ZINCRBY", "z", "1"}), RespArity("zincrby"));
}

TEST_F(SortedSetCommandsTest, ZScoreAndZMScore) {
  MakeBoard();
  EXPECT_EQ(Run({"ZSCORE", "board", "c"}), RespBulk("3"));
  EXPECT_EQ(Run({"ZSCORE", "board", "zz"}), kRespNil);
  EXPECT_EQ(Run({"ZSCORE", "missing", "a"}), kRespNil);
  EXPECT_EQ(Run({"ZMSCORE", "board", "a", "zz", "e", "a"}),
            RespArrayOf({RespBulk("1"), kRespNil, RespBulk("5"), RespBulk("1")}));
  EXPECT_EQ(Run({"ZMSCORE", "missing", "a", "b"}), RespArrayOf({kRespNil, kRespNil}));
  EXPECT_EQ(Run({"ZMSCORE", "board"}), RespArity("zmscore"));
  EXPECT_EQ(Run({"ZSCORE", "board"}), RespArity("zscore"));
}

// ---- ZRANK, ZREVRANK, ZCARD, ZCOUNT ----------------------------------------------------------

TEST_F(SortedSetCommandsTest, ZRankAndZRevRank) {
  MakeBoard();
  EXPECT_EQ(Run({"ZRANK", "board", "a"}), RespInt(0));
  EXPECT_EQ(Run({"ZRANK", "board", "e"}), RespInt(4));
  EXPECT_EQ(Run({"ZREVRANK", "board", "a"}), RespInt(4));
  EXPECT_EQ(Run({"ZREVRANK", "board", "d"}), RespInt(1));
  EXPECT_EQ(Run({"ZRANK", "board", "zz"}), kRespNil);
  EXPECT_EQ(Run({"ZREVRANK", "missing", "a"}), kRespNil);
  EXPECT_EQ(Run({"ZRANK", "board", "c", "WITHSCORE"}), RespArrayOf({RespInt(2), RespBulk("3")}));
  EXPECT_EQ(Run({"ZREVRANK", "board", "c", "withscore"}), RespArrayOf({RespInt(2), RespBulk("3")}));
  EXPECT_EQ(Run({"ZRANK", "board", "zz", "WITHSCORE"}), kRespNil);
  EXPECT_EQ(Run({"ZRANK", "board", "c", "WITHSCORES"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANK", "board", "c", "WITHSCORE", "x"}), RespArity("zrank"));
  EXPECT_EQ(Run({"ZREVRANK", "board"}), RespArity("zrevrank"));
}

TEST_F(SortedSetCommandsTest, ZCardAndZCount) {
  EXPECT_EQ(Run({"ZCARD", "board"}), RespInt(0));
  EXPECT_EQ(Run({"ZCOUNT", "board", "-inf", "+inf"}), RespInt(0));
  MakeBoard();
  EXPECT_EQ(Run({"ZCARD", "board"}), RespInt(5));
  EXPECT_EQ(Run({"ZCOUNT", "board", "-inf", "+inf"}), RespInt(5));
  EXPECT_EQ(Run({"ZCOUNT", "board", "2", "4"}), RespInt(3));
  EXPECT_EQ(Run({"ZCOUNT", "board", "(2", "4"}), RespInt(2));
  EXPECT_EQ(Run({"ZCOUNT", "board", "(2", "(4"}), RespInt(1));
  EXPECT_EQ(Run({"ZCOUNT", "board", "2.5", "inf"}), RespInt(3));
  EXPECT_EQ(Run({"ZCOUNT", "board", "4", "2"}), RespInt(0));
  EXPECT_EQ(Run({"ZCOUNT", "board", "(3", "3"}), RespInt(0));
  EXPECT_EQ(Run({"ZCOUNT", "board", "3", "3"}), RespInt(1));
  EXPECT_EQ(Run({"ZCOUNT", "board", "x", "3"}), kNotFloatRange);
  EXPECT_EQ(Run({"ZCOUNT", "board", "1", "(x"}), kNotFloatRange);
  EXPECT_EQ(Run({"ZCOUNT", "board", "(", "3"}), kNotFloatRange);
  EXPECT_EQ(Run({"ZCOUNT", "board", "nan", "3"}), kNotFloatRange);
  EXPECT_EQ(Run({"ZCOUNT", "board", "1"}), RespArity("zcount"));
  EXPECT_EQ(Run({"ZCARD"}), RespArity("zcard"));
}

// ---- Ranges ----------------------------------------------------------------------------------

TEST_F(SortedSetCommandsTest, ZRangeByRank) {
  MakeBoard();
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "-1"}), RespArray({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "1", "2"}), RespArray({"b", "c"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "-2", "-1"}), RespArray({"d", "e"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "-100", "0"}), RespArray({"a"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "3", "100"}), RespArray({"d", "e"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "5", "10"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGE", "board", "2", "1"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "-6"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "WITHSCORES"}), RespArray({"a", "1", "b", "2"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "REV"}), RespArray({"e", "d"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "-1", "-1", "rev", "withscores"}), RespArray({"a", "1"}));
  EXPECT_EQ(Run({"ZRANGE", "missing", "0", "-1"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGE", "board", "-9223372036854775808", "9223372036854775807"}),
            RespArray({"a", "b", "c", "d", "e"}));
}

TEST_F(SortedSetCommandsTest, ZRevRange) {
  MakeBoard();
  EXPECT_EQ(Run({"ZREVRANGE", "board", "0", "-1"}), RespArray({"e", "d", "c", "b", "a"}));
  EXPECT_EQ(Run({"ZREVRANGE", "board", "1", "2", "WITHSCORES"}), RespArray({"d", "4", "c", "3"}));
  EXPECT_EQ(Run({"ZREVRANGE", "board", "0", "0", "REV"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZREVRANGE", "board", "0", "0", "BYSCORE"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZREVRANGE", "board", "0"}), RespArity("zrevrange"));
}

TEST_F(SortedSetCommandsTest, ZRangeByScoreThroughZRange) {
  MakeBoard();
  EXPECT_EQ(Run({"ZRANGE", "board", "2", "4", "BYSCORE"}), RespArray({"b", "c", "d"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "(2", "(4", "BYSCORE"}), RespArray({"c"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"}),
            RespArray({"b", "c"}));
  // With REV the range is written max first.
  EXPECT_EQ(Run({"ZRANGE", "board", "4", "2", "BYSCORE", "REV"}), RespArray({"d", "c", "b"}));
  EXPECT_EQ(Run({"ZRANGE", "board", "2", "4", "BYSCORE", "REV"}), kRespEmptyArray);
  EXPECT_EQ(
      Run({"ZRANGE", "board", "+inf", "(1", "REV", "BYSCORE", "WITHSCORES", "LIMIT", "1", "2"}),
      RespArray({"d", "4", "c", "3"}));
}

TEST_F(SortedSetCommandsTest, ZRangeByScoreAndZRevRangeByScore) {
  MakeBoard();
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "-inf", "+inf"}), RespArray({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "(1", "3", "WITHSCORES"}),
            RespArray({"b", "2", "c", "3"}));
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "3", "1"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "1", "5", "LIMIT", "2", "10"}),
            RespArray({"c", "d", "e"}));
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "1", "5", "LIMIT", "1", "-1"}),
            RespArray({"b", "c", "d", "e"}));
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "1", "5", "LIMIT", "1", "0"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "1", "5", "LIMIT", "-1", "2"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "1", "5", "LIMIT", "5", "2"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "1", "5", "WITHSCORES", "LIMIT", "4", "2"}),
            RespArray({"e", "5"}));
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "board", "+inf", "-inf"}),
            RespArray({"e", "d", "c", "b", "a"}));
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "board", "(5", "(1", "WITHSCORES", "LIMIT", "1", "5"}),
            RespArray({"c", "3", "b", "2"}));
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "board", "1", "5"}), kRespEmptyArray);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "missing", "-inf", "inf"}), kRespEmptyArray);
}

TEST_F(SortedSetCommandsTest, RangeErrors) {
  MakeBoard();
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "BYLEX"}), RespError("ERR BYLEX is not supported"));
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "LIMIT", "0", "1"}),
            RespError("ERR syntax error, LIMIT is only supported in combination with either "
                      "BYSCORE or BYLEX"));
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "LIMIT", "0"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "BYSCORE", "LIMIT", "x", "1"}), kRespNotInteger);
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "BYSCORE", "BYSCORE"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "REV", "REV"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1", "BOGUS"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANGE", "board", "a", "1"}), kRespNotInteger);
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "1.5"}), kRespNotInteger);
  EXPECT_EQ(Run({"ZRANGE", "board", "x", "1", "BYSCORE"}), kNotFloatRange);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "0", "1", "REV"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "0", "1", "BYSCORE"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "0", "((1"}), kNotFloatRange);
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "board", "0", "1", "LIMIT", "0"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZRANGE", "board", "0"}), RespArity("zrange"));
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "board", "0"}), RespArity("zrangebyscore"));
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "board", "0"}), RespArity("zrevrangebyscore"));
}

TEST_F(SortedSetCommandsTest, RangeRepliesAreBounded) {
  // Filled through storage: a million ZADDs through commands would only slow the test down.
  const size_t members = kRangeReplyEntriesMax + 1;
  harness_.db().WithKey("big", [&](storage::Keyspace& keys) {
    storage::SortedSet* set = *keys.FindOrCreateSortedSet("big", harness_.now_ms);
    for (size_t i = 0; i < members; ++i) {
      ASSERT_TRUE(set->Set(storage::MemberKey::FromInteger(i), static_cast<double>(i)).ok());
    }
  });
  const std::string too_big = RespError(
      "LIMIT range of 1000001 entries exceeds the limit of 1000000 per reply; ask for a smaller "
      "range or use LIMIT");
  EXPECT_EQ(Run({"ZRANGE", "big", "0", "-1"}), too_big);
  EXPECT_EQ(Run({"ZREVRANGE", "big", "0", "-1", "WITHSCORES"}), too_big);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "big", "-inf", "+inf"}), too_big);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "big", "-inf", "+inf", "LIMIT", "0", "-1"}), too_big);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "big", "-inf", "+inf", "LIMIT", "1000000", "3"}),
            RespArray({"1000000"}));
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "big", "+inf", "-inf", "LIMIT", "0", "2"}),
            RespArray({"1000000", "999999"}));
  EXPECT_EQ(Run({"ZRANGE", "big", "-2", "-1", "WITHSCORES"}),
            RespArray({"999999", "999999", "1000000", FormatScore(1000000)}));
  EXPECT_EQ(Run({"ZCOUNT", "big", "-inf", "+inf"}), RespInt(static_cast<int64_t>(members)));
}

// A range command run as a connection of either protocol would run it, through a writer with
// the reply size limit `limit` (the harness's writer has the default limit).
struct LimitedReply {
  std::string bytes;
  size_t buffer_capacity = 0;  // what the output buffer grew to, however long the reply kept
};

LimitedReply RunWithReplyLimit(Database& db, const std::vector<std::string_view>& words,
                               bool binary, size_t limit) {
  const protocol::CommandName* command = protocol::FindCommand(*words.begin());
  const CommandSpec* spec = CommandTable::Get().Find(command->opcode);
  protocol::Request request;
  request.opcode = command->opcode;
  for (auto word = words.begin() + 1; word != words.end(); ++word) {
    request.args.push_back(protocol::Argument::Bytes(*word));
  }
  LimitedReply reply;
  std::unique_ptr<protocol::ReplyWriter> writer;
  if (binary) {
    writer = std::make_unique<protocol::BinaryReplyWriter>(&reply.bytes, limit);
  } else {
    writer = std::make_unique<protocol::RespReplyWriter>(&reply.bytes, limit);
  }
  ServerInfo server(ServerSettings{}, CommandTable::Get().size());
  Session session;
  writer->BeginReply(7);
  CommandContext context{db, request, *writer, session, server, CommandHarness::kStartMs};
  spec->handler(context);
  writer->EndReply();
  reply.buffer_capacity = reply.bytes.capacity();
  return reply;
}

// The LIMIT error a reply of `size` bytes gets under a limit of `limit`.
std::string TooLargeReply(bool binary, size_t size, size_t limit) {
  const std::string message = "reply of " + std::to_string(size) + " bytes exceeds the limit of " +
                              std::to_string(limit) + " bytes";
  if (!binary) return RespError("LIMIT " + message);
  std::string out;
  protocol::BinaryReplyWriter writer(&out);
  writer.BeginReply(7);
  writer.Error(protocol::StatusCode::kLimit, message);
  writer.EndReply();
  return out;
}

// A range whose reply would pass the reply size limit gets the LIMIT error EndReply would give
// it, but is refused before it is built: the output buffer never holds it (EndReply alone would
// drop it only after it sat there whole, and the shard lock was held while it was built). A
// range that just fits is unchanged. Member lengths near kMemberSizeBytesMax make few entries
// too many, past the quick bound that spares small ranges the measuring.
TEST_F(SortedSetCommandsTest, RangeRepliesPastTheReplySizeLimitAreRefusedBeforeTheyAreBuilt) {
  constexpr size_t kMembers = 1000;
  std::vector<std::string> zadd = {"ZADD", "long"};
  for (size_t i = 0; i < kMembers; ++i) {
    zadd.push_back(std::to_string(i) + ".5");
    zadd.push_back(std::string(storage::kMemberSizeBytesMax - 8, 'm') + std::to_string(10000 + i));
  }
  ASSERT_EQ(harness_.Run(zadd), RespInt(kMembers));
  const std::vector<std::vector<std::string_view>> queries = {
      {"ZRANGE", "long", "0", "-1"},
      {"ZRANGE", "long", "0", "-1", "WITHSCORES"},
      {"ZREVRANGE", "long", "10", "-1", "WITHSCORES"},
      {"ZRANGEBYSCORE", "long", "-inf", "+inf", "WITHSCORES", "LIMIT", "0", "900"},
      {"ZREVRANGEBYSCORE", "long", "+inf", "(2", "WITHSCORES"},
  };
  for (const bool binary : {false, true}) {
    for (const auto& query : queries) {
      SCOPED_TRACE(std::string(query.front()) + (binary ? " binary" : " RESP"));
      const std::string whole =
          RunWithReplyLimit(harness_.db(), query, binary, protocol::kReplySizeBytesMax).bytes;
      const size_t size = whole.size();
      ASSERT_GT(size, kMembers * 900);  // the range is long, not an error
      EXPECT_EQ(RunWithReplyLimit(harness_.db(), query, binary, size).bytes, whole);
      const LimitedReply refused = RunWithReplyLimit(harness_.db(), query, binary, size - 1);
      EXPECT_EQ(refused.bytes, TooLargeReply(binary, size, size - 1));
      EXPECT_LT(refused.buffer_capacity, size / 2) << "the refused reply was built";
    }
  }
  // A short range of the same set takes the quick bound and is unchanged.
  EXPECT_EQ(RunWithReplyLimit(harness_.db(), {"ZRANGE", "long", "0", "1"}, false, 4096).bytes,
            Run({"ZRANGE", "long", "0", "1"}));
}

// ---- ZREM ------------------------------------------------------------------------------------

TEST_F(SortedSetCommandsTest, ZRem) {
  MakeBoard();
  EXPECT_EQ(Run({"ZREM", "board", "a", "zz", "a", "c"}), RespInt(2));
  EXPECT_EQ(Run({"ZRANGE", "board", "0", "-1"}), RespArray({"b", "d", "e"}));
  EXPECT_EQ(Run({"ZREM", "missing", "a"}), RespInt(0));
  EXPECT_EQ(Run({"ZREM", "board", "b", "d", "e"}), RespInt(3));
  EXPECT_EQ(Run({"EXISTS", "board"}), RespInt(0));  // the last member took the key with it
  EXPECT_EQ(Run({"ZREM", "board"}), RespArity("zrem"));
}

TEST_F(SortedSetCommandsTest, ZRemWithABadMemberRemovesNothing) {
  MakeBoard();
  const std::string long_member(storage::kMemberSizeBytesMax + 1, 'm');
  EXPECT_EQ(Run({"ZREM", "board", "a", long_member}),
            RespError("LIMIT member is longer than 1024 bytes"));
  EXPECT_EQ(Run({"ZCARD", "board"}), RespInt(5));
}

// A ZREM is logged as one record (storage/effects.h): one whose members would not fit is
// refused before anything is removed, and one that just fits runs.
TEST_F(SortedSetCommandsTest, ZRemPastTheRecordBoundRemovesNothing) {
  const size_t member_bytes = storage::kMemberSizeBytesMax;
  const size_t each = 2 + member_bytes;  // a 2-byte varint head, then the bytes
  const size_t fitting = (storage::kSortedSetRemoveBytesMax - (1 + 5)) / each;  // after "board"
  std::vector<std::string> zrem = {"ZREM", "board"};
  for (size_t i = 0; i <= fitting; ++i) {
    std::string member = std::to_string(i);
    member.resize(member_bytes, 'm');
    zrem.push_back(std::move(member));
  }
  ASSERT_EQ(Run({"ZADD", "board", "1", zrem[2], "2", zrem.back()}), RespInt(2));
  const size_t bytes = 1 + 5 + (fitting + 1) * each;
  EXPECT_EQ(harness_.Run(zrem), RespError("LIMIT ZREM of members taking " + std::to_string(bytes) +
                                          " bytes exceeds the limit of " +
                                          std::to_string(storage::kSortedSetRemoveBytesMax) +
                                          " per call; remove them in smaller calls"));
  EXPECT_EQ(Run({"ZCARD", "board"}), RespInt(2));
  zrem.pop_back();
  EXPECT_EQ(harness_.Run(zrem), RespInt(1));
  EXPECT_EQ(Run({"ZCARD", "board"}), RespInt(1));
}

// ---- ZUNIONSTORE -----------------------------------------------------------------------------

class ZUnionStoreTest : public SortedSetCommandsTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(Run({"ZADD", "x", "1", "a", "2", "b", "3", "c"}), RespInt(3));
    ASSERT_EQ(Run({"ZADD", "y", "10", "b", "20", "c", "30", "d"}), RespInt(3));
  }
};

TEST_F(ZUnionStoreTest, SumByDefault) {
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y"}), RespInt(4));
  EXPECT_EQ(All("out"), RespArray({"a", "1", "b", "12", "c", "23", "d", "30"}));
  EXPECT_EQ(All("x"), RespArray({"a", "1", "b", "2", "c", "3"}));  // sources unchanged
}

TEST_F(ZUnionStoreTest, WeightsAndAggregate) {
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "WEIGHTS", "2", "0.5"}), RespInt(4));
  EXPECT_EQ(All("out"), RespArray({"a", "2", "b", "9", "d", "15", "c", "16"}));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "AGGREGATE", "MIN"}), RespInt(4));
  EXPECT_EQ(All("out"), RespArray({"a", "1", "b", "2", "c", "3", "d", "30"}));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "aggregate", "max", "weights", "1", "-1"}),
            RespInt(4));
  EXPECT_EQ(All("out"), RespArray({"d", "-30", "a", "1", "b", "2", "c", "3"}));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "AGGREGATE", "SUM"}), RespInt(4));
}

TEST_F(ZUnionStoreTest, MissingSourcesAndOverwrites) {
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "nothing"}), RespInt(3));
  EXPECT_EQ(All("out"), RespArray({"a", "1", "b", "2", "c", "3"}));
  // The destination may be a source, and may hold a string (it is replaced, TTL and all).
  EXPECT_EQ(Run({"ZUNIONSTORE", "x", "2", "x", "x"}), RespInt(3));
  EXPECT_EQ(All("x"), RespArray({"a", "2", "b", "4", "c", "6"}));
  ASSERT_EQ(Run({"SET", "s", "v", "EX", "100"}), kRespOk);
  EXPECT_EQ(Run({"ZUNIONSTORE", "s", "1", "y"}), RespInt(3));
  EXPECT_EQ(All("s"), RespArray({"b", "10", "c", "20", "d", "30"}));
  EXPECT_EQ(Run({"TTL", "s"}), RespInt(-1));
  // An empty union deletes the destination.
  EXPECT_EQ(Run({"ZUNIONSTORE", "s", "2", "nothing", "none"}), RespInt(0));
  EXPECT_EQ(Run({"EXISTS", "s"}), RespInt(0));
}

// Past a few thousand source entries the union is built by a DeferredCommand (a worker thread
// in the server); the result must be the same as inline.
TEST_F(ZUnionStoreTest, BigUnionIsDeferredAndExact) {
  constexpr int kMembers = 10'000;
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_EQ(Run({"ZADD", "big", std::to_string(i), std::to_string(i)}), RespInt(1));
  }
  ASSERT_EQ(Run({"ZADD", "small", "5", "3", "7", "new"}), RespInt(2));
  const int before = harness_.deferred_runs();
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "big", "small", "WEIGHTS", "0.5", "1"}),
            RespInt(kMembers + 1));
  EXPECT_EQ(harness_.deferred_runs(), before + 1);
  EXPECT_EQ(Run({"ZSCORE", "out", "3"}), RespBulk("6.5"));
  EXPECT_EQ(Run({"ZSCORE", "out", "new"}), RespBulk("7"));
  EXPECT_EQ(Run({"ZSCORE", "out", "9999"}), RespBulk("4999.5"));
  EXPECT_EQ(Run({"ZCARD", "out"}), RespInt(kMembers + 1));
  // A small union stays inline.
  EXPECT_EQ(Run({"ZUNIONSTORE", "out2", "1", "small"}), RespInt(2));
  EXPECT_EQ(harness_.deferred_runs(), before + 1);
}

TEST_F(ZUnionStoreTest, InfinityTimesZeroAndInfinityMinusInfinityAreZero) {
  ASSERT_EQ(Run({"ZADD", "inf", "+inf", "a", "-inf", "b"}), RespInt(2));
  ASSERT_EQ(Run({"ZADD", "ninf", "-inf", "a"}), RespInt(1));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "1", "inf", "WEIGHTS", "0"}), RespInt(2));
  EXPECT_EQ(All("out"), RespArray({"a", "0", "b", "0"}));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "inf", "ninf"}), RespInt(2));
  EXPECT_EQ(All("out"), RespArray({"b", "-inf", "a", "0"}));
}

TEST_F(ZUnionStoreTest, ErrorsChangeNothing) {
  ASSERT_EQ(Run({"ZADD", "out", "7", "keep"}), RespInt(1));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "0", "x"}),
            RespError("ERR at least 1 input key is needed for 'zunionstore' command"));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "-1", "x"}),
            RespError("ERR at least 1 input key is needed for 'zunionstore' command"));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "two", "x"}), kRespNotInteger);
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "3", "x", "y"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "WEIGHTS", "1"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "WEIGHTS", "1", "w"}),
            RespError("ERR weight value is not a float"));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "WEIGHTS", "1", "nan"}),
            RespError("ERR weight value is not a float"));
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "AGGREGATE", "AVG"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "AGGREGATE"}), kRespSyntaxError);
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "y", "WITHSCORES"}), kRespSyntaxError);
  ASSERT_EQ(Run({"SET", "s", "v"}), kRespOk);
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "2", "x", "s"}), kRespWrongType);
  EXPECT_EQ(Run({"ZUNIONSTORE", "out", "1"}), RespArity("zunionstore"));
  EXPECT_EQ(All("out"), RespArray({"keep", "7"}));
}

// ---- Randomized: commands against a std::map model -------------------------------------------

// The model's members in ZRANGE order: by score, then by member bytes.
std::vector<std::pair<double, std::string>> Sorted(const std::map<std::string, double>& model) {
  std::vector<std::pair<double, std::string>> entries;
  for (const auto& [member, score] : model) entries.emplace_back(score, member);
  std::sort(entries.begin(), entries.end());
  return entries;
}

TEST_F(SortedSetCommandsTest, RandomizedAgainstModel) {
  std::mt19937_64 random(20240601);
  std::map<std::string, double> model;
  // Integer-looking and string members, so both member forms and their text order meet.
  std::vector<std::string> pool;
  for (int i = 0; i < 60; ++i) pool.push_back(std::to_string(i * 7));
  for (int i = 0; i < 60; ++i) pool.push_back("m" + std::to_string(i));
  pool.push_back("007");  // not canonical: a string member
  const auto pick = [&] { return pool[random() % pool.size()]; };
  const auto score = [&] { return static_cast<double>(static_cast<int>(random() % 41) - 20) / 2; };

  for (int step = 0; step < 4000; ++step) {
    const int op = static_cast<int>(random() % 10);
    if (op < 5) {
      const std::string m1 = pick(), m2 = pick();
      const double s1 = score(), s2 = score();
      const std::string s1_text = FormatScore(s1), s2_text = FormatScore(s2);
      int64_t added = model.count(m1) == 0 ? 1 : 0;
      model[m1] = s1;
      added += model.count(m2) == 0 ? 1 : 0;
      model[m2] = s2;
      ASSERT_EQ(Run({"ZADD", "r", s1_text, m1, s2_text, m2}), RespInt(added));
    } else if (op < 8) {
      const std::string member = pick();
      const double delta = score();
      model[member] += delta;
      ASSERT_EQ(Run({"ZINCRBY", "r", FormatScore(delta), member}),
                RespBulk(FormatScore(model[member])));
    } else {
      const std::string member = pick();
      ASSERT_EQ(Run({"ZREM", "r", member}), RespInt(static_cast<int64_t>(model.erase(member))));
    }
    if (step % 97 != 0) continue;
    // Ranks and a random score range agree with the model.
    const auto sorted = Sorted(model);
    for (size_t rank = 0; rank < sorted.size(); rank += 5) {
      ASSERT_EQ(Run({"ZRANK", "r", sorted[rank].second}), RespInt(static_cast<int64_t>(rank)));
      ASSERT_EQ(Run({"ZREVRANK", "r", sorted[rank].second}),
                RespInt(static_cast<int64_t>(sorted.size() - 1 - rank)));
    }
    const double low = score(), high = score();
    std::vector<std::string> expected;
    for (const auto& [s, member] : sorted) {
      if (s > low && s <= high) expected.push_back(member);
    }
    ASSERT_EQ(Run({"ZRANGEBYSCORE", "r", "(" + FormatScore(low), FormatScore(high)}),
              RespArray(expected));
    ASSERT_EQ(Run({"ZCOUNT", "r", "(" + FormatScore(low), FormatScore(high)}),
              RespInt(static_cast<int64_t>(expected.size())));
    std::reverse(expected.begin(), expected.end());
    ASSERT_EQ(Run({"ZREVRANGEBYSCORE", "r", FormatScore(high), "(" + FormatScore(low)}),
              RespArray(expected));
  }
  std::vector<std::string> expected;
  for (const auto& [s, member] : Sorted(model)) {
    expected.push_back(member);
    expected.push_back(FormatScore(s));
  }
  EXPECT_EQ(All("r"), RespArray(expected));
  EXPECT_EQ(Run({"ZCARD", "r"}), RespInt(static_cast<int64_t>(model.size())));
}

}  // namespace
}  // namespace podium::server
