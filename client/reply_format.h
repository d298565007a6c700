// Replies as text, the way redis-cli prints them, so that podium-cli output reads (and diffs)
// like redis-cli's against Redis. Binary float64 values print as the bulk string the server
// would send over RESP: FormatDouble's shortest round-trip text ("2.5", "1e+20", "inf").
#pragma once

#include <string>

#include "client/client_options.h"
#include "protocol/reply_value.h"

namespace podium::client {

// The RESP-style error line for an error value from either protocol: "SOLDOUT 3",
// "ERR unknown command 'x'". A binary error holds only the message and its status gives the
// code word (protocol::RespErrorCode); a RESP error already holds the whole line.
std::string ErrorLine(const protocol::ReplyValue& error, ClientProtocol protocol);

// redis-cli's default (terminal) form, newline-terminated:
//   OK                      simple string, plain
//   (integer) 5             int64
//   "text"                  bytes and float64, quoted with \n \r \t \a \b \" \\ and \xHH
//   (nil)                   nil
//   (error) ERR message     error
//   (empty array)           empty array
//   1) "a"                  array elements numbered from 1, the numbers right-aligned to the
//   2) 1) "b"               width of the largest; nested arrays continue on the number's line
//      2) "c"               and indent their other lines under it
std::string FormatReply(const protocol::ReplyValue& reply, ClientProtocol protocol);

// redis-cli --raw: bytes as they are, numbers as digits, nil as nothing, an error line and a
// newline, array elements one per line; then a newline.
std::string FormatReplyRaw(const protocol::ReplyValue& reply, ClientProtocol protocol);

}  // namespace podium::client
