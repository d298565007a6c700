#include "protocol/rank_periods.h"

#include <chrono>
#include <cstdio>

namespace podium::protocol {
namespace {

using std::chrono::day;
using std::chrono::days;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::weekday;
using std::chrono::year;
using std::chrono::year_month_day;

int32_t DayNumber(const year_month_day& date) {
  return static_cast<int32_t>(sys_days{date}.time_since_epoch().count());
}
year_month_day DateOf(int32_t day_number) { return year_month_day{sys_days{days{day_number}}}; }

// Reads `width` decimal digits at text[*at]; false on anything else.
bool ReadDigits(std::string_view text, size_t* at, size_t width, int* value) {
  if (*at + width > text.size()) return false;
  *value = 0;
  for (size_t i = 0; i < width; ++i, ++*at) {
    const char c = text[*at];
    if (c < '0' || c > '9') return false;
    *value = *value * 10 + (c - '0');
  }
  return true;
}

// Reads the character `c` at text[*at].
bool ReadChar(std::string_view text, size_t* at, char c) {
  if (*at >= text.size() || text[*at] != c) return false;
  ++*at;
  return true;
}

std::optional<int32_t> DayOf(int y, int m, int d) {
  const year_month_day date{year{y}, month{static_cast<unsigned>(m)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  return DayNumber(date);
}

// The Monday of ISO week 1 of `iso_year`: the week holding that year's 4 January.
int32_t IsoWeekOneMonday(int iso_year) {
  const int32_t jan4 = DayNumber(year_month_day{year{iso_year}, month{1}, day{4}});
  const unsigned from_monday = weekday{sys_days{days{jan4}}}.iso_encoding() - 1;
  return jan4 - static_cast<int32_t>(from_monday);
}

}  // namespace

std::optional<int32_t> ParseRankDay(std::string_view name) {
  int y = 0, m = 0, d = 0;
  size_t at = 0;
  if (name.size() != 8 || !ReadDigits(name, &at, 4, &y) || !ReadDigits(name, &at, 2, &m) ||
      !ReadDigits(name, &at, 2, &d)) {
    return std::nullopt;
  }
  return DayOf(y, m, d);
}

std::string RankDayName(int32_t day_number) {
  const year_month_day date = DateOf(day_number);
  char name[32];
  std::snprintf(name, sizeof(name), "%04d%02u%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return name;
}

RankPeriod RankWeekOf(int32_t day_number) {
  const unsigned from_monday = weekday{sys_days{days{day_number}}}.iso_encoding() - 1;
  RankPeriod period;
  period.kind = RankPeriodKind::kWeek;
  period.first_day = day_number - static_cast<int32_t>(from_monday);
  period.last_day = period.first_day + 6;
  // The ISO year is the year of the week's Thursday.
  const int iso_year = static_cast<int>(DateOf(period.first_day + 3).year());
  const int week = (period.first_day - IsoWeekOneMonday(iso_year)) / 7 + 1;
  char name[32];
  std::snprintf(name, sizeof(name), "%04dW%02d", iso_year, week);
  period.name = name;
  return period;
}

RankPeriod RankMonthOf(int32_t day_number) {
  const year_month_day date = DateOf(day_number);
  RankPeriod period;
  period.kind = RankPeriodKind::kMonth;
  period.first_day = DayNumber(date.year() / date.month() / day{1});
  period.last_day = DayNumber(date.year() / date.month() / std::chrono::last);
  char name[32];
  std::snprintf(name, sizeof(name), "%04d%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()));
  period.name = name;
  return period;
}

std::optional<RankPeriod> ParseRankPeriod(std::string_view name) {
  int y = 0, number = 0;
  size_t at = 0;
  if (name.size() == 7) {
    if (!ReadDigits(name, &at, 4, &y) || !ReadChar(name, &at, 'W') ||
        !ReadDigits(name, &at, 2, &number) || number < 1) {
      return std::nullopt;
    }
    const RankPeriod period = RankWeekOf(IsoWeekOneMonday(y) + (number - 1) * 7);
    if (period.name != name) return std::nullopt;  // week 53 of a 52-week year
    return period;
  }
  if (name.size() == 6 && ReadDigits(name, &at, 4, &y) && ReadDigits(name, &at, 2, &number) &&
      number >= 1 && number <= 12) {
    return RankMonthOf(*DayOf(y, number, 1));
  }
  return std::nullopt;
}

std::optional<int32_t> ParseIsoDate(std::string_view text) {
  int y = 0, m = 0, d = 0;
  size_t at = 0;
  if (text.size() != 10 || !ReadDigits(text, &at, 4, &y) || !ReadChar(text, &at, '-') ||
      !ReadDigits(text, &at, 2, &m) || !ReadChar(text, &at, '-') ||
      !ReadDigits(text, &at, 2, &d)) {
    return std::nullopt;
  }
  return DayOf(y, m, d);
}

}  // namespace podium::protocol
