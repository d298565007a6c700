// Fuzzes BinaryRequestDecoder. Invariants: no crash or out-of-bounds read; decoding the same
// bytes whole and in small chunks gives the same requests and the same error; every accepted
// frame is within the limits and re-encodes (AppendBinaryRequest) to exactly its own bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/binary_request_decoder.h"
#include "protocol/fuzz/fuzz_feeder.h"
#include "protocol/request_encoder.h"
#include "protocol/testing.h"

namespace podium::protocol::fuzz {
namespace {

void CheckRequest(const Request& request, std::string_view frame, size_t size_bytes_max) {
  PODIUM_FUZZ_CHECK(frame.size() <= size_bytes_max);
  PODIUM_FUZZ_CHECK(request.args.size() <= kArgumentsPerRequestMax);
  for (const Argument& argument : request.args) {
    PODIUM_FUZZ_CHECK(argument.bytes.size() <= kArgumentSizeBytesMax);
  }
  std::string encoded;
  AppendBinaryRequest(request.request_id, request.opcode, request.args, &encoded);
  PODIUM_FUZZ_CHECK(encoded == frame);
}

}  // namespace
}  // namespace podium::protocol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace podium::protocol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Half the inputs run with the unauthenticated limit; the chunk size varies with the input.
  const size_t size_bytes_max =
      size % 2 == 0 ? kRequestSizeBytesMax : kUnauthenticatedRequestSizeBytesMax;
  std::vector<testing::OwnedRequest> whole;
  std::vector<testing::OwnedRequest> chunked;
  BinaryRequestDecoder decoder;
  const std::string whole_error =
      fuzz::Feed<Request>(decoder, input, input.size() + 1, size_bytes_max,
                          [&](const Request& request, std::string_view frame) {
                            fuzz::CheckRequest(request, frame, size_bytes_max);
                            whole.push_back(testing::Own(request));
                          });
  const std::string chunked_error = fuzz::Feed<Request>(
      decoder, input, 1 + size % 7, size_bytes_max,
      [&](const Request& request, std::string_view) { chunked.push_back(testing::Own(request)); });
  PODIUM_FUZZ_CHECK(whole == chunked);
  PODIUM_FUZZ_CHECK(whole_error == chunked_error);
  return 0;
}
