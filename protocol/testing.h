// Test helpers for protocol/ tests and fuzz targets (not part of podium_protocol's API):
// owned copies of decoded requests, a connection-like feeding loop, and replaying a reply tree
// into a writer.
#pragma once

#include <bit>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "protocol/decode_result.h"
#include "protocol/reply_value.h"
#include "protocol/reply_writer.h"
#include "protocol/request.h"

namespace podium::protocol::testing {

struct OwnedArgument {
  ArgumentType type = ArgumentType::kBytes;
  std::string bytes;
  int64_t int64 = 0;
  uint64_t float64_bits = 0;  // bits, so that NaN == NaN
  bool operator==(const OwnedArgument&) const = default;
};

struct OwnedRequest {
  uint32_t request_id = 0;
  Opcode opcode = Opcode::kNone;
  std::string name;
  std::vector<OwnedArgument> args;
  bool operator==(const OwnedRequest&) const = default;
};

// For gtest's messages.
inline void PrintTo(const OwnedRequest& request, std::ostream* out) {
  *out << "{id " << request.request_id << ", opcode " << static_cast<int>(request.opcode)
       << ", name \"" << request.name << "\", args";
  for (const OwnedArgument& argument : request.args) {
    *out << " " << static_cast<int>(argument.type) << ":";
    if (argument.type == ArgumentType::kBytes) *out << "\"" << argument.bytes << "\"";
    if (argument.type == ArgumentType::kInt64) *out << argument.int64;
    if (argument.type == ArgumentType::kFloat64)
      *out << std::bit_cast<double>(argument.float64_bits);
  }
  *out << "}";
}

inline OwnedRequest Own(const Request& request) {
  OwnedRequest owned{request.request_id, request.opcode, std::string(request.name), {}};
  for (const Argument& argument : request.args) {
    owned.args.push_back({argument.type, std::string(argument.bytes), argument.int64,
                          std::bit_cast<uint64_t>(argument.float64)});
  }
  return owned;
}

// A RESP-style request from words: name first, then kBytes arguments.
inline OwnedRequest Words(Opcode opcode, std::vector<std::string> words) {
  OwnedRequest owned{0, opcode, words.at(0), {}};
  for (size_t i = 1; i < words.size(); ++i) {
    owned.args.push_back({ArgumentType::kBytes, words[i], 0, 0});
  }
  return owned;
}

// Decodes `input` as a connection would receive it, `chunk_bytes` at a time: append, decode
// until kNeedMore, drop consumed bytes from the buffer's front (which moves the rest). Stops at
// the first error, leaving its message in *error (empty if none).
template <typename Message, typename Decoder, typename Owner>
std::vector<std::invoke_result_t<Owner, const Message&>> DecodeInChunks(
    Decoder& decoder, std::string_view input, size_t chunk_bytes, size_t size_bytes_max, Owner own,
    std::string* error) {
  std::vector<std::invoke_result_t<Owner, const Message&>> decoded;
  std::string buffer;
  Message message;
  error->clear();
  for (size_t offset = 0; offset < input.size(); offset += chunk_bytes) {
    buffer.append(input.substr(offset, chunk_bytes));
    while (true) {
      const DecodeResult result = decoder.Decode(buffer, size_bytes_max, &message);
      if (result.error()) {
        *error = result.error_message();
        return decoded;
      }
      if (result.complete()) decoded.push_back(own(message));
      buffer.erase(0, result.consumed_bytes());
      if (result.need_more()) break;
    }
  }
  return decoded;
}

// Writes `value` as one reply value. Errors are written with their status and, for RESP
// lines, the text after the code word.
inline void Replay(const ReplyValue& value, bool resp_origin, ReplyWriter* writer) {
  switch (value.type) {
    case ValueType::kNil:
      return writer->Nil();
    case ValueType::kInt64:
      return writer->Integer(value.int64);
    case ValueType::kFloat64:
      return writer->Double(value.float64);
    case ValueType::kBytes:
      return writer->Bytes(value.bytes);
    case ValueType::kSimpleString:
      return writer->SimpleString(value.bytes);
    case ValueType::kError: {
      std::string_view message = value.bytes;
      if (resp_origin) {
        const size_t space = message.find(' ');
        message = space == std::string_view::npos ? std::string_view() : message.substr(space + 1);
      }
      return writer->Error(value.status, message);
    }
    case ValueType::kArray:
      writer->ArrayHeader(value.elements.size());
      for (const ReplyValue& element : value.elements) Replay(element, resp_origin, writer);
      return;
  }
}

}  // namespace podium::protocol::testing
