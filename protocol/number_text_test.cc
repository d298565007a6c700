#include "protocol/number_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace podium::protocol {
namespace {

std::string Format(double value) {
  char buffer[kNumberTextBytesMax];
  return std::string(buffer, FormatDouble(value, buffer));
}

TEST(ProtocolNumberTextTest, Int64FollowsRedisRules) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("-1"), -1);
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "007", "-0", "9223372036854775808", "1.0",
                          "1e3", "0x10", "12a"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;
  }
}

TEST(ProtocolNumberTextTest, DoubleFollowsRedisRules) {
  EXPECT_EQ(ParseDouble("1.5"), 1.5);
  EXPECT_EQ(ParseDouble("+1.5"), 1.5);
  EXPECT_EQ(ParseDouble("-2"), -2.0);
  EXPECT_EQ(ParseDouble(".5"), 0.5);
  EXPECT_EQ(ParseDouble("1e3"), 1000.0);
  EXPECT_EQ(ParseDouble("inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseDouble("+inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseDouble("-INF"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseDouble("Infinity"), std::numeric_limits<double>::infinity());
  for (const char* bad :
       {"", "+", "++1", "+-1", "nan", "-nan", " 1", "1 ", "1e", "abc", "1e400", "0x10", "1,5"}) {
    EXPECT_FALSE(ParseDouble(bad).has_value()) << bad;
  }
}

TEST(ProtocolNumberTextTest, DoublesPrintShortestRoundTrip) {
  EXPECT_EQ(Format(1.1), "1.1");
  EXPECT_EQ(Format(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Format(3), "3");
  EXPECT_EQ(Format(-2.5), "-2.5");
  EXPECT_EQ(Format(1e20), "1e+20");
  EXPECT_EQ(Format(100), "100");
  EXPECT_EQ(Format(1e6), "1000000");  // plain digits for whole numbers, as Redis 7.2
  EXPECT_EQ(Format(-123456789012.0), "-123456789012");
  EXPECT_EQ(Format(99999999999999984.0), "99999999999999984");
  EXPECT_EQ(Format(1e17), "1e+17");
  EXPECT_EQ(Format(-0.0), "0");
  EXPECT_EQ(Format(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(Format(-std::numeric_limits<double>::infinity()), "-inf");
  for (double value : {1.1, 0.1 + 0.2, -1e-300, 5e-324, 1.7976931348623157e308, 123456789.125}) {
    EXPECT_EQ(ParseDouble(Format(value)), value);
  }
}

TEST(ProtocolNumberTextTest, Int64Text) {
  char buffer[kNumberTextBytesMax];
  EXPECT_EQ(std::string(buffer, FormatInt64(INT64_MIN, buffer)), "-9223372036854775808");
  EXPECT_EQ(std::string(buffer, FormatInt64(0, buffer)), "0");
}

}  // namespace
}  // namespace podium::protocol
