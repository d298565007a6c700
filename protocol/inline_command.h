// Inline commands: RESP's other request form, one line of words as typed into telnet or nc
// ("SET greeting \"hello world\"\r\n"). The words are split the way Redis splits them
// (sdssplitargs): runs of whitespace separate words; "double quotes" take the escapes \n \r \t
// \b \a \\ \" and \xHH; 'single quotes' take \'; a closing quote must be followed by
// whitespace or the end of the line. As in Redis, a NUL byte ends the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace podium::protocol {

// Splits `line` (without its line ending) into `words` (cleared first). Words without quotes
// are views into `line`; when the line has quotes, all words are unescaped into `scratch`,
// which is reserved to line.size() first so that its views stay valid; they live until
// `scratch` changes. Returns false on unbalanced quotes (Redis: "unbalanced quotes in
// request"). Allocates at most line.size() bytes beyond the words vector's growth.
[[nodiscard]] bool SplitInlineCommand(std::string_view line, std::string* scratch,
                                      std::vector<std::string_view>* words);

}  // namespace podium::protocol
