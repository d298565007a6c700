// Decoders allocate for bytes received, never for a length or count a peer declares. This
// test replaces the global operator new to count the bytes requested while a decoder runs.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "protocol/binary_reply_decoder.h"
#include "protocol/binary_request_decoder.h"
#include "protocol/resp_reply_decoder.h"
#include "protocol/resp_request_decoder.h"

namespace {

std::atomic<size_t> allocated_bytes{0};

void* Allocate(size_t size) {
  allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(size_t size) { return Allocate(size); }
void* operator new[](size_t size) { return Allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace podium::protocol {
namespace {

// Bytes allocated by `decode`, which must end with `expected` status.
template <typename Decode>
size_t AllocatedBy(Decode decode) {
  const size_t before = allocated_bytes.load();
  decode();
  return allocated_bytes.load() - before;
}

// The error message (and the temporaries that compose it) is the only allocation a rejected
// declaration may cost.
constexpr size_t kErrorMessageBytesMax = 1024;

TEST(ProtocolAllocationTest, RespRequestDeclaringHugeCountsAllocatesNothingForThem) {
  RespRequestDecoder decoder;
  Request request;
  EXPECT_LE(
      AllocatedBy([&] {
        EXPECT_TRUE(decoder.Decode("*2000000000\r\n", kRequestSizeBytesMax, &request).error());
      }),
      kErrorMessageBytesMax);
  // The largest count that is allowed reserves only a few entries until arguments arrive.
  EXPECT_LE(
      AllocatedBy([&] {
        EXPECT_TRUE(
            decoder.Decode("*65536\r\n$1\r\na\r\n", kRequestSizeBytesMax, &request).need_more());
      }),
      1024u);
  decoder.Reset();
  EXPECT_LE(
      AllocatedBy([&] {
        EXPECT_TRUE(
            decoder.Decode("*2\r\n$8388608\r\nab", kRequestSizeBytesMax, &request).need_more());
      }),
      1024u);
}

TEST(ProtocolAllocationTest, BinaryFramesDeclaringHugeLengthsAllocateNothingForThem) {
  Request request;
  EXPECT_LE(AllocatedBy([&] {
              EXPECT_TRUE(BinaryRequestDecoder()
                              .Decode(std::string_view("\xFF\xFF\xFF\xFF", 4), kRequestSizeBytesMax,
                                      &request)
                              .error());
            }),
            kErrorMessageBytesMax);
  // A frame within the limit waits for its bytes without allocating.
  EXPECT_EQ(AllocatedBy([&] {
              EXPECT_TRUE(BinaryRequestDecoder()
                              .Decode(std::string_view("\x00\x00\x00\x01\x07\0\0\0", 8),
                                      kRequestSizeBytesMax, &request)
                              .need_more());
            }),
            0u);
  BinaryReply reply;
  EXPECT_LE(
      AllocatedBy([&] {
        EXPECT_TRUE(BinaryReplyDecoder()
                        .Decode(std::string_view("\xFF\xFF\xFF\xFF", 4), kReplySizeBytesMax, &reply)
                        .error());
      }),
      kErrorMessageBytesMax);
}

TEST(ProtocolAllocationTest, RespRepliesDeclaringHugeSizesAllocateNothingForThem) {
  RespReplyDecoder decoder;
  ReplyValue value;
  const std::string at_the_bound = "*" + std::to_string(kReplyValuesMax) + "\r\n:1\r\n";
  EXPECT_EQ(AllocatedBy([&] {
              EXPECT_TRUE(decoder.Decode(at_the_bound, kReplySizeBytesMax, &value).need_more());
            }),
            0u);
  decoder.Reset();
  EXPECT_LE(
      AllocatedBy([&] {
        EXPECT_TRUE(decoder.Decode("*50000000\r\n:1\r\n", kReplySizeBytesMax, &value).error());
      }),
      kErrorMessageBytesMax);
  decoder.Reset();
  EXPECT_LE(AllocatedBy([&] {
              EXPECT_TRUE(decoder.Decode("$2000000000\r\n", kReplySizeBytesMax, &value).error());
            }),
            kErrorMessageBytesMax);
}

}  // namespace
}  // namespace podium::protocol
