// Numbers as text, the way Redis reads and writes them, so that a RESP client sees what it
// would see from Redis and a binary client can send the same text or skip it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace podium::protocol {

// A decimal int64 by Redis's rules (string2ll): an optional '-' and digits, no '+', no spaces,
// no leading zeros ("0" alone is fine, "-0" and "007" are not), within int64's range.
[[nodiscard]] std::optional<int64_t> ParseInt64(std::string_view text);

// A double by Redis's rules for scores (strtod on the whole string): decimal or exponent
// notation, an optional sign, "inf"/"infinity" in any case; no spaces, no trailing bytes, no
// NaN, nothing that overflows or underflows. Unlike strtod, hexadecimal floats are refused.
[[nodiscard]] std::optional<double> ParseDouble(std::string_view text);

// Enough for any int64 or any FormatDouble output.
inline constexpr size_t kNumberTextBytesMax = 32;

// Decimal text of `value` into `buffer`; returns its length.
size_t FormatInt64(int64_t value, char (&buffer)[kNumberTextBytesMax]);

// Whole numbers below kPlainIntegerDoubleMax in magnitude print as plain digits (1e6 ->
// "1000000", -0.0 -> "0"); anything else as the shortest text that reads back as exactly
// `value` (std::to_chars): 1.1 -> "1.1", 0.1 + 0.2 -> "0.30000000000000004", 1e20 -> "1e+20";
// "inf", "-inf", "nan". Redis 7.2 and later print scores this way; Redis 7.0 printed "%.17g"
// ("1.1000000000000001").
inline constexpr double kPlainIntegerDoubleMax = 1e17;
size_t FormatDouble(double value, char (&buffer)[kNumberTextBytesMax]);

}  // namespace podium::protocol
