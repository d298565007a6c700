#include "protocol/request.h"

#include <cmath>

#include "protocol/number_text.h"

namespace podium::protocol {

std::optional<int64_t> ArgumentToInt64(const Argument& argument) {
  switch (argument.type) {
    case ArgumentType::kInt64:
      return argument.int64;
    case ArgumentType::kBytes:
      return ParseInt64(argument.bytes);
    case ArgumentType::kFloat64:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> ArgumentToDouble(const Argument& argument) {
  switch (argument.type) {
    case ArgumentType::kFloat64:
      if (std::isnan(argument.float64)) return std::nullopt;
      return argument.float64;
    case ArgumentType::kInt64:
      return static_cast<double>(argument.int64);
    case ArgumentType::kBytes:
      return ParseDouble(argument.bytes);
  }
  return std::nullopt;
}

}  // namespace podium::protocol
