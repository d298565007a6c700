// Feeds fuzz input to a decoder the way a connection does, for the fuzz targets: appends a
// chunk, decodes until kNeedMore, drops what was consumed. Each Decode call gets an exact-size
// heap copy of the unconsumed bytes, so AddressSanitizer catches any read past them (a
// std::string's spare capacity would hide it).
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/decode_result.h"

namespace podium::protocol::fuzz {

// Aborts the fuzz run with a message: the invariant `condition` failed.
#define PODIUM_FUZZ_CHECK(condition)                                                         \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

// Calls sink(message, frame_bytes) for each decoded message; returns the error message that
// stopped decoding, or "" when the input ran out.
template <typename Message, typename Decoder, typename Sink>
std::string Feed(Decoder& decoder, std::string_view input, size_t chunk_bytes,
                 size_t size_bytes_max, Sink sink) {
  std::string buffer;
  Message message;
  for (size_t offset = 0; offset < input.size(); offset += chunk_bytes) {
    buffer.append(input.substr(offset, chunk_bytes));
    while (true) {
      std::unique_ptr<char[]> exact(new char[buffer.size()]);
      if (!buffer.empty()) std::memcpy(exact.get(), buffer.data(), buffer.size());
      const std::string_view view(exact.get(), buffer.size());
      const DecodeResult result = decoder.Decode(view, size_bytes_max, &message);
      if (result.error()) {
        PODIUM_FUZZ_CHECK(!result.error_message().empty());
        return result.error_message();
      }
      PODIUM_FUZZ_CHECK(result.consumed_bytes() <= buffer.size());
      if (result.complete()) {
        PODIUM_FUZZ_CHECK(result.consumed_bytes() > 0);
        sink(message, view.substr(0, result.consumed_bytes()));
      }
      buffer.erase(0, result.consumed_bytes());
      if (result.need_more()) break;
    }
  }
  return {};
}

}  // namespace podium::protocol::fuzz
