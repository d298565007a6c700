#include "protocol/number_text.h"

#include <glog/logging.h>

#include <charconv>
#include <cmath>
#include <system_error>

namespace podium::protocol {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<int64_t> ParseInt64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const size_t first_digit = text[0] == '-' ? 1 : 0;
  if (first_digit >= text.size() || !IsDigit(text[first_digit])) return std::nullopt;
  if (text[first_digit] == '0' && text.size() != 1) return std::nullopt;  // "-0", "007"
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseDouble(std::string_view text) {
  if (text.size() >= 2 && text[0] == '+' && text[1] != '-' && text[1] != '+') {
    text.remove_prefix(1);  // strtod accepts a '+', from_chars does not
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (std::isnan(value)) return std::nullopt;
  return value;
}

size_t FormatInt64(int64_t value, char (&buffer)[kNumberTextBytesMax]) {
  const auto [end, error] = std::to_chars(buffer, buffer + kNumberTextBytesMax, value);
  DCHECK(error == std::errc());
  return static_cast<size_t>(end - buffer);
}

size_t FormatDouble(double value, char (&buffer)[kNumberTextBytesMax]) {
  // Whole numbers print as plain digits, as Redis 7.2 prints them ("1000000", not the shorter
  // "1e+06" that to_chars picks): boards hold whole-number scores, and people read them.
  if (std::trunc(value) == value && std::fabs(value) < kPlainIntegerDoubleMax) {
    const auto [end, error] =
        std::to_chars(buffer, buffer + kNumberTextBytesMax, static_cast<int64_t>(value));
    DCHECK(error == std::errc());
    return static_cast<size_t>(end - buffer);
  }
  const auto [end, error] = std::to_chars(buffer, buffer + kNumberTextBytesMax, value);
  DCHECK(error == std::errc());
  return static_cast<size_t>(end - buffer);
}

}  // namespace podium::protocol
