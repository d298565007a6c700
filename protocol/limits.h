// Every bound the wire formats enforce, in one place; docs/protocol.md ("Limits") states the
// same numbers for client writers. Units are last in each name. Decoders check a bound as soon
// as the bytes that could cross it arrive, and before allocating anything for them: a length a
// peer declares is compared with these numbers, never trusted for a reservation.
//
// Frame limits are passed to the decoders as parameters (the server lowers them for clients
// that have not authenticated yet); the constants here are the defaults and the ceilings.
#pragma once

#include <cstddef>
#include <cstdint>

namespace podium::protocol {

// Requests, both protocols. A request's size is all of its bytes on the wire: a binary frame
// including its length field, or a RESP command from its first byte to its last CRLF.
inline constexpr size_t kRequestSizeBytesMax = size_t{64} << 20;  // 64 MiB
// What a client may send before it has authenticated (when the server has a password): AUTH
// with a long password fits, a bulk upload does not.
inline constexpr size_t kUnauthenticatedRequestSizeBytesMax = size_t{4} << 10;  // 4 KiB

// Arguments after the command (binary: after the opcode; RESP: after the command name). The
// binary frame counts them in a u16, and RESP is held to the same number so that a command
// sees one bound whatever protocol it came over. 65535 arguments bound the work one request
// can ask of a loop (ZADD of 32767 members is a few milliseconds); bigger loads are split into
// several requests, which pipelining makes as fast.
inline constexpr size_t kArgumentsPerRequestMax = 65535;
// One argument: the largest record value storage accepts (storage/limits.h, which protocol/
// must not include, says 8 MiB too; the server checks both).
inline constexpr size_t kArgumentSizeBytesMax = size_t{8} << 20;  // 8 MiB

// RESP specifics. An inline command ("PING\r\n", as typed into telnet) is one line; Redis's
// bound for it is 64 KiB too. A length line ("*3\r\n", "$5\r\n") holds at most a sign and 19
// digits, so 32 bytes without a CR mean garbage, found without scanning a long line twice.
inline constexpr size_t kInlineRequestSizeBytesMax = size_t{64} << 10;  // 64 KiB
inline constexpr size_t kRespLengthLineBytesMax = 32;  // from the type byte to the CR

// Replies. A server never writes a bigger reply (the reply writers replace it with a LIMIT
// error), and the client decoders refuse one. Commands that return ranges page their results
// well below this.
inline constexpr size_t kReplySizeBytesMax = size_t{256} << 20;  // 256 MiB
// Values one decoded reply may hold in its arrays. Each costs the client a ReplyValue (about
// 80 bytes) however few bytes it took on the wire (a binary nil is 1), so the decoders refuse
// a reply that declares more, before building any, rather than build up to kReplySizeBytesMax
// of them (over 20 GiB). Twice the most the server ever sends (a 1M-entry range WITHSCORES:
// 2M values; server/sorted_set_range_commands.h asserts it).
inline constexpr size_t kReplyValuesMax = size_t{4} << 20;
// Arrays inside arrays: a top-level scalar has depth 0, the elements of a top-level array
// depth 1, and so on. Redis's deepest replies (COMMAND DOCS) nest about 6 levels.
inline constexpr size_t kReplyNestingDepthMax = 16;

// The smallest encoding of one RESP argument ("$0\r\n\r\n") and of one RESP reply element
// ("+\r\n"); a declared count is checked against the bytes such elements would need.
inline constexpr size_t kRespArgumentSizeBytesMin = 6;
inline constexpr size_t kRespReplyElementSizeBytesMin = 3;  // "+\r\n"

static_assert(kUnauthenticatedRequestSizeBytesMax >= 512,
              "AUTH <user> <password> must fit before authentication");
static_assert(kUnauthenticatedRequestSizeBytesMax < kRequestSizeBytesMax);
static_assert(kArgumentSizeBytesMax + 64 <= kRequestSizeBytesMax,
              "a request can carry one maximum-size argument next to a key and its header");
static_assert(kArgumentsPerRequestMax <= UINT16_MAX, "binary frames count arguments in a u16");
static_assert(kInlineRequestSizeBytesMax <= kRequestSizeBytesMax);
static_assert(kRequestSizeBytesMax <= UINT32_MAX, "binary frames state their length in a u32");
static_assert(kReplySizeBytesMax <= UINT32_MAX, "binary frames state their length in a u32");
static_assert(kReplySizeBytesMax >= kRequestSizeBytesMax,
              "a reply can echo any value a request could store");
static_assert(kRespLengthLineBytesMax >= 1 + 20 + 1, "type byte, sign and 19 digits, CR");

}  // namespace podium::protocol
