// Fuzzes RespRequestDecoder (multibulk and inline). Invariants: no crash or out-of-bounds read;
// the same requests and the same error whether the bytes arrive whole or in small chunks; every
// accepted request is within the limits, and re-encoded as a multibulk request
// (AppendRespRequest) it decodes to the same request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/fuzz/fuzz_feeder.h"
#include "protocol/request_encoder.h"
#include "protocol/resp_request_decoder.h"
#include "protocol/testing.h"

namespace podium::protocol::fuzz {
namespace {

void CheckRequest(const Request& request, std::string_view frame, size_t size_bytes_max) {
  PODIUM_FUZZ_CHECK(frame.size() <= size_bytes_max);
  PODIUM_FUZZ_CHECK(request.args.size() <= kArgumentsPerRequestMax);
  PODIUM_FUZZ_CHECK(request.request_id == 0);
  const CommandName* command = FindCommand(request.name);
  PODIUM_FUZZ_CHECK(request.opcode == (command != nullptr ? command->opcode : Opcode::kNone));
  for (const Argument& argument : request.args) {
    PODIUM_FUZZ_CHECK(argument.type == ArgumentType::kBytes);
    PODIUM_FUZZ_CHECK(argument.bytes.size() <= kArgumentSizeBytesMax);
  }
  std::string encoded;
  AppendRespRequest(request.name, request.args, &encoded);
  RespRequestDecoder decoder;
  Request again;
  const DecodeResult result = decoder.Decode(encoded, kRequestSizeBytesMax, &again);
  PODIUM_FUZZ_CHECK(result.complete());
  PODIUM_FUZZ_CHECK(result.consumed_bytes() == encoded.size());
  PODIUM_FUZZ_CHECK(testing::Own(again) == testing::Own(request));
}

}  // namespace
}  // namespace podium::protocol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace podium::protocol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t size_bytes_max =
      size % 2 == 0 ? kRequestSizeBytesMax : kUnauthenticatedRequestSizeBytesMax;
  std::vector<testing::OwnedRequest> whole;
  std::vector<testing::OwnedRequest> chunked;
  RespRequestDecoder whole_decoder;
  const std::string whole_error =
      fuzz::Feed<Request>(whole_decoder, input, input.size() + 1, size_bytes_max,
                          [&](const Request& request, std::string_view frame) {
                            fuzz::CheckRequest(request, frame, size_bytes_max);
                            whole.push_back(testing::Own(request));
                          });
  RespRequestDecoder chunked_decoder;
  const std::string chunked_error = fuzz::Feed<Request>(
      chunked_decoder, input, 1 + size % 7, size_bytes_max,
      [&](const Request& request, std::string_view) { chunked.push_back(testing::Own(request)); });
  PODIUM_FUZZ_CHECK(whole == chunked);
  PODIUM_FUZZ_CHECK(whole_error == chunked_error);
  return 0;
}
