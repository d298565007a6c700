// Request and Argument: one decoded command, as both request decoders yield it and the
// server's command table consumes it, so a command is written once for both protocols.
//
// Ownership: a Request holds views into the caller's input buffer (or, for an inline RESP
// command with quotes, into its decoder). They stay valid until the caller changes that buffer
// or, for RESP, calls Decode again (the binary decoder keeps nothing, so several binary
// requests decoded from one buffer stay valid together); a command copies what it keeps.
// Reuse one Request per connection: the args vector keeps its capacity.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/binary_format.h"
#include "protocol/opcodes.h"

namespace podium::protocol {

// One argument after the command. RESP arguments are always kBytes; binary clients may send a
// numeric parameter as kInt64 or kFloat64 instead of text, and commands read numbers through
// ArgumentToInt64 / ArgumentToDouble so that either form works.
struct Argument {
  ArgumentType type = ArgumentType::kBytes;
  std::string_view bytes;  // kBytes
  int64_t int64 = 0;       // kInt64
  double float64 = 0;      // kFloat64

  static Argument Bytes(std::string_view bytes) { return {ArgumentType::kBytes, bytes, 0, 0}; }
  static Argument Int64(int64_t value) { return {ArgumentType::kInt64, {}, value, 0}; }
  static Argument Float64(double value) { return {ArgumentType::kFloat64, {}, 0, value}; }
};

struct Request {
  uint32_t request_id = 0;        // binary: echoed in the reply; RESP: always 0
  Opcode opcode = Opcode::kNone;  // binary: as sent (maybe not in kCommandNames); RESP: looked
                                  // up by name, kNone when the name is unknown
  std::string_view name;          // RESP: the command word as sent; binary: empty
  std::vector<Argument> args;     // the arguments after the command, at most
                                  // kArgumentsPerRequestMax
};

// An integer parameter: kInt64 as is, or kBytes holding decimal text (ParseInt64's rules).
// nullopt for anything else; the command replies "value is not an integer or out of range".
[[nodiscard]] std::optional<int64_t> ArgumentToInt64(const Argument& argument);

// A floating-point parameter: kFloat64 unless NaN, kInt64 converted (rounded to nearest past
// 2^53), or kBytes holding text (ParseDouble's rules). nullopt for anything else; the command
// replies "value is not a valid float".
[[nodiscard]] std::optional<double> ArgumentToDouble(const Argument& argument);

}  // namespace podium::protocol
