// Fuzzes RespReplyDecoder. Invariants: no crash or out-of-bounds read; the same replies and
// error whole or in chunks; an accepted reply replayed into a RespReplyWriter decodes again,
// and replaying that gives the same bytes (the writer normalises nil arrays to nil bulk strings,
// CR/LF inside lines to spaces and unknown error codes to ERR, so the fixed point is reached
// after one round).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/fuzz/fuzz_feeder.h"
#include "protocol/resp_reply_decoder.h"
#include "protocol/resp_reply_writer.h"
#include "protocol/testing.h"

namespace podium::protocol::fuzz {
namespace {

std::string Encode(const ReplyValue& value) {
  std::string encoded;
  RespReplyWriter writer(&encoded);
  writer.BeginReply(0);
  testing::Replay(value, /*resp_origin=*/true, &writer);
  writer.EndReply();
  return encoded;
}

void CheckReply(const ReplyValue& value) {
  const std::string first = Encode(value);
  RespReplyDecoder decoder;
  ReplyValue again;
  const DecodeResult result = decoder.Decode(first, kReplySizeBytesMax, &again);
  PODIUM_FUZZ_CHECK(result.complete());
  PODIUM_FUZZ_CHECK(result.consumed_bytes() == first.size());
  PODIUM_FUZZ_CHECK(Encode(again) == first);
}

}  // namespace
}  // namespace podium::protocol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace podium::protocol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<ReplyValue> whole;
  std::vector<ReplyValue> chunked;
  RespReplyDecoder whole_decoder;
  const std::string whole_error =
      fuzz::Feed<ReplyValue>(whole_decoder, input, input.size() + 1, kReplySizeBytesMax,
                             [&](const ReplyValue& value, std::string_view) {
                               fuzz::CheckReply(value);
                               whole.push_back(value);
                             });
  RespReplyDecoder chunked_decoder;
  const std::string chunked_error = fuzz::Feed<ReplyValue>(
      chunked_decoder, input, 1 + size % 7, kReplySizeBytesMax,
      [&](const ReplyValue& value, std::string_view) { chunked.push_back(value); });
  PODIUM_FUZZ_CHECK(whole == chunked);
  PODIUM_FUZZ_CHECK(whole_error == chunked_error);
  return 0;
}
