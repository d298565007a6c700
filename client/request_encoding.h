// How the client turns a command into wire bytes: the argument conversions behind Client::Call
// and Pipeline::Add, and one request appended in either protocol with the limits checked
// first, so that a request the server would refuse (and close for) is never sent.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "client/client_options.h"
#include "client/result.h"
#include "protocol/opcodes.h"
#include "protocol/reply_value.h"
#include "protocol/request.h"

namespace podium::client {

// What Call/Add accept as an argument: a protocol::Argument as is; text (std::string,
// std::string_view, const char*) as bytes; integers as int64; floating point as float64.
// bool and character types are refused at compile time: 'a' and true are almost always slips.
template <typename T>
concept TextArgument = std::convertible_to<const T&, std::string_view>;

template <typename T>
concept NumberArgument =
    std::is_arithmetic_v<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
    !std::same_as<T, signed char> && !std::same_as<T, unsigned char>;

template <typename T>
concept ArgumentLike = std::same_as<T, protocol::Argument> || TextArgument<T> || NumberArgument<T>;

// The Argument for `value`. It views `value`'s bytes, so it lives no longer than `value`.
// Unsigned values above INT64_MAX are a programmer error (DCHECK).
template <ArgumentLike T>
protocol::Argument ToArgument(const T& value) {
  if constexpr (std::same_as<T, protocol::Argument>) {
    return value;
  } else if constexpr (TextArgument<T>) {
    return protocol::Argument::Bytes(std::string_view(value));
  } else if constexpr (std::integral<T>) {
    if constexpr (std::is_unsigned_v<T>) DCHECK_LE(value, uint64_t{INT64_MAX});
    return protocol::Argument::Int64(static_cast<int64_t>(value));
  } else {
    return protocol::Argument::Float64(static_cast<double>(value));
  }
}

// Appends one request to *out. The command is `name` when not empty (RESP sends it as is; the
// binary protocol looks its opcode up with protocol::FindCommand), else `opcode` (RESP sends
// its name from the table). Outcomes:
//   - ok, bytes appended: send them and expect one reply;
//   - ok, *local_reply set and nothing appended: the binary protocol has no opcode for `name`,
//     and the reply is the UNKNOWN_COMMAND error the server would have given; or, in both
//     protocols, the name is empty and opcode is kNone, and the reply is Redis's
//     "ERR unknown command ''";
//   - kInvalidArgument, nothing appended: too many arguments, one too big, the request past
//     kRequestSizeBytesMax, or an opcode that RESP has no name for.
Status AppendRequest(ClientProtocol protocol, uint32_t request_id, protocol::Opcode opcode,
                     std::string_view name, std::span<const protocol::Argument> args,
                     std::string* out, std::optional<protocol::ReplyValue>* local_reply);

}  // namespace podium::client
