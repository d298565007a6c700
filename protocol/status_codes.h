// Status codes: the u16 in every binary reply frame, and the error prefix the same outcome gets
// over RESP. The numbers are a published contract (docs/protocol.md, "Status codes"): never
// renumber one, only add.
//
// Over RESP an error reply is one line, "-" + RespErrorCode(code) + " " + message. Three codes
// share Redis's generic "ERR" code word and are told apart by how their messages begin, as in
// Redis: kUnknownCommand's message begins "unknown command", kProtocol's "Protocol error". The
// binary protocol carries the code in the frame and only the message in the error value.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace podium::protocol {

enum class StatusCode : uint16_t {
  kOk = 0,
  kErr = 1,             // generic failure, bad arguments; nothing changed
  kWrongType = 2,       // the key holds another kind of value
  kNoAuth = 3,          // the connection must authenticate first
  kUnknownCommand = 4,  // no command has this name or opcode
  kSoldOut = 5,         // a reservation asked for more units than are available
  kNotFound = 6,        // the key, member or product does not exist (where that is an error)
  kLimit = 7,           // a named limit would be crossed; nothing changed
  kProtocol = 8,        // malformed request or handshake; the server closes the connection
  kBusy = 9,            // the server cannot take the request now (loading, shutting down)
  kWrongPass = 10,      // AUTH with a wrong password (Redis 6+ answers WRONGPASS)
};

struct StatusCodeInfo {
  StatusCode code;
  std::string_view name;             // as in docs/protocol.md, e.g. "UNKNOWN_COMMAND"
  std::string_view resp_error_code;  // first word of the RESP error line, e.g. "ERR"
  std::string_view resp_prefix;      // how the RESP error line begins, e.g. "ERR unknown command"
};

// Indexed by the code's number.
inline constexpr std::array<StatusCodeInfo, 11> kStatusCodes = {{
    {StatusCode::kOk, "OK", "", ""},
    {StatusCode::kErr, "ERR", "ERR", "ERR"},
    {StatusCode::kWrongType, "WRONGTYPE", "WRONGTYPE", "WRONGTYPE"},
    {StatusCode::kNoAuth, "NOAUTH", "NOAUTH", "NOAUTH"},
    {StatusCode::kUnknownCommand, "UNKNOWN_COMMAND", "ERR", "ERR unknown command"},
    {StatusCode::kSoldOut, "SOLDOUT", "SOLDOUT", "SOLDOUT"},
    {StatusCode::kNotFound, "NOT_FOUND", "NOTFOUND", "NOTFOUND"},
    {StatusCode::kLimit, "LIMIT", "LIMIT", "LIMIT"},
    {StatusCode::kProtocol, "PROTOCOL", "ERR", "ERR Protocol error"},
    {StatusCode::kBusy, "BUSY", "BUSY", "BUSY"},
    {StatusCode::kWrongPass, "WRONGPASS", "WRONGPASS", "WRONGPASS"},
}};

// The table's row for `code`, or nullptr for a number this version does not know (a client
// must treat those as errors it cannot classify).
[[nodiscard]] const StatusCodeInfo* FindStatusCode(StatusCode code);

// "SOLDOUT", "UNKNOWN_COMMAND", ...; "UNKNOWN" for numbers not in the table.
[[nodiscard]] std::string_view StatusCodeName(StatusCode code);

// The code word a RESP error line starts with: "ERR" for numbers not in the table.
[[nodiscard]] std::string_view RespErrorCode(StatusCode code);

// Classifies a RESP error line (without its leading '-'): the code whose resp_prefix matches
// longest, followed by a space, ':' or the end; kErr when none matches.
[[nodiscard]] StatusCode StatusCodeFromRespError(std::string_view error_line);

}  // namespace podium::protocol
