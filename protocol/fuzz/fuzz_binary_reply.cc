// Fuzzes BinaryReplyDecoder. Invariants: no crash or out-of-bounds read; the same replies and
// error whole or in chunks; every accepted frame, replayed into a BinaryReplyWriter, re-encodes
// to exactly its own bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "protocol/binary_reply_decoder.h"
#include "protocol/binary_reply_writer.h"
#include "protocol/fuzz/fuzz_feeder.h"
#include "protocol/testing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace podium::protocol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  using Decoded = std::tuple<uint32_t, StatusCode, ReplyValue>;
  std::vector<Decoded> whole;
  std::vector<Decoded> chunked;
  BinaryReplyDecoder decoder;
  const std::string whole_error =
      fuzz::Feed<BinaryReply>(decoder, input, input.size() + 1, kReplySizeBytesMax,
                              [&](const BinaryReply& reply, std::string_view frame) {
                                PODIUM_FUZZ_CHECK((reply.status != StatusCode::kOk) ==
                                                  (reply.value.type == ValueType::kError));
                                std::string encoded;
                                BinaryReplyWriter writer(&encoded);
                                writer.BeginReply(reply.request_id);
                                testing::Replay(reply.value, /*resp_origin=*/false, &writer);
                                writer.EndReply();
                                PODIUM_FUZZ_CHECK(encoded == frame);
                                whole.emplace_back(reply.request_id, reply.status, reply.value);
                              });
  const std::string chunked_error =
      fuzz::Feed<BinaryReply>(decoder, input, 1 + size % 7, kReplySizeBytesMax,
                              [&](const BinaryReply& reply, std::string_view) {
                                chunked.emplace_back(reply.request_id, reply.status, reply.value);
                              });
  PODIUM_FUZZ_CHECK(whole == chunked);
  PODIUM_FUZZ_CHECK(whole_error == chunked_error);
  return 0;
}
