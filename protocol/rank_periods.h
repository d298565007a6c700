// The names of ranking windows on the wire (docs/rankings.md): days `yyyyMMdd`, ISO weeks
// `yyyyWww` (Monday to Sunday; `2026W49`) and calendar months `yyyyMM`. Pure calendar
// arithmetic on civil dates, no time zone: a day is numbered as days since 1970-01-01 of the
// civil calendar. The server validates window names with these; podium-batch finds the days
// of a period with them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace podium::protocol {

enum class RankPeriodKind : uint8_t { kWeek, kMonth };

struct RankPeriod {
  RankPeriodKind kind = RankPeriodKind::kWeek;
  int32_t first_day = 0;  // days since 1970-01-01, inclusive
  int32_t last_day = 0;   // inclusive
  std::string name;       // "2026W49", "202612"
};

// "20261206" <-> day number; nullopt unless 8 digits naming a real date.
std::optional<int32_t> ParseRankDay(std::string_view name);
std::string RankDayName(int32_t day);

// "2026W49" (week 01..52 or 53 of that ISO year) or "202612"; nullopt otherwise.
std::optional<RankPeriod> ParseRankPeriod(std::string_view name);
// The ISO week / calendar month containing `day`.
RankPeriod RankWeekOf(int32_t day);
RankPeriod RankMonthOf(int32_t day);

// "2026-12-06" (as podium-batch's --date) -> day number; nullopt unless a real date.
std::optional<int32_t> ParseIsoDate(std::string_view text);

}  // namespace podium::protocol
