#include "protocol/rank_periods.h"

#include <gtest/gtest.h>

namespace podium::protocol {
namespace {

int32_t Day(std::string_view name) { return ParseRankDay(name).value(); }

TEST(RankPeriodsTest, DaysRoundTrip) {
  EXPECT_EQ(ParseRankDay("19700101"), 0);
  EXPECT_EQ(RankDayName(Day("20261206")), "20261206");
  EXPECT_EQ(Day("20240301") - Day("20240228"), 2);  // leap year
  for (const char* bad : {"2026126", "20261306", "20260230", "2026120a", "", "202612061"}) {
    EXPECT_FALSE(ParseRankDay(bad).has_value()) << bad;
  }
}

TEST(RankPeriodsTest, IsoWeeks) {
  // 2026-12-06 is a Sunday; its week runs from Monday 2026-11-30.
  const RankPeriod week = RankWeekOf(Day("20261206"));
  EXPECT_EQ(week.name, "2026W49");
  EXPECT_EQ(RankDayName(week.first_day), "20261130");
  EXPECT_EQ(RankDayName(week.last_day), "20261206");
  EXPECT_EQ(RankWeekOf(Day("20261130")).name, "2026W49");
  EXPECT_EQ(RankWeekOf(Day("20261207")).name, "2026W50");
  // Weeks that straddle a new year belong to the year of their Thursday.
  EXPECT_EQ(RankWeekOf(Day("20210101")).name, "2020W53");
  EXPECT_EQ(RankWeekOf(Day("20241230")).name, "2025W01");
  EXPECT_EQ(RankWeekOf(Day("20260101")).name, "2026W01");

  const auto parsed = ParseRankPeriod("2020W53");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->kind, RankPeriodKind::kWeek);
  EXPECT_EQ(RankDayName(parsed->first_day), "20201228");
  EXPECT_EQ(RankDayName(parsed->last_day), "20210103");
  EXPECT_FALSE(ParseRankPeriod("2025W53").has_value());  // 2025 has 52 weeks
  const auto last = ParseRankPeriod("2026W53");           // 2026 starts on a Thursday: 53
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(RankDayName(last->first_day), "20261228");
  EXPECT_EQ(RankDayName(last->last_day), "20270103");
  EXPECT_FALSE(ParseRankPeriod("2026W00").has_value());
  EXPECT_FALSE(ParseRankPeriod("2026X49").has_value());
  EXPECT_FALSE(ParseRankPeriod("2026w49").has_value());
}

TEST(RankPeriodsTest, Months) {
  const RankPeriod february = RankMonthOf(Day("20240215"));
  EXPECT_EQ(february.name, "202402");
  EXPECT_EQ(RankDayName(february.first_day), "20240201");
  EXPECT_EQ(RankDayName(february.last_day), "20240229");
  const auto parsed = ParseRankPeriod("202612");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->kind, RankPeriodKind::kMonth);
  EXPECT_EQ(RankDayName(parsed->last_day), "20261231");
  for (const char* bad : {"202613", "202600", "20261", "2026-1", "20261206"}) {
    EXPECT_FALSE(ParseRankPeriod(bad).has_value()) << bad;
  }
}

TEST(RankPeriodsTest, IsoDates) {
  EXPECT_EQ(ParseIsoDate("2026-12-06"), Day("20261206"));
  for (const char* bad : {"2026-13-40", "2026/12/06", "20261206", "2026-2-06", ""}) {
    EXPECT_FALSE(ParseIsoDate(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace podium::protocol
