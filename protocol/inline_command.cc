#include "protocol/inline_command.h"

#include <glog/logging.h>

namespace podium::protocol {

namespace {

// C's isspace in the "C" locale.
bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// Parses the word that starts at line[*pos] (not a space) into scratch, advancing *pos past it.
bool ParseQuotedWord(std::string_view line, size_t* pos, std::string* scratch) {
  size_t p = *pos;
  const auto at = [&](size_t i) { return i < line.size() ? line[i] : '\0'; };
  enum { kPlain, kDouble, kSingle } state = kPlain;
  while (true) {
    const char c = at(p);
    if (state == kDouble) {
      if (c == '\\' && at(p + 1) == 'x' && IsHexDigit(at(p + 2)) && IsHexDigit(at(p + 3))) {
        scratch->push_back(static_cast<char>(HexValue(at(p + 2)) * 16 + HexValue(at(p + 3))));
        p += 4;
      } else if (c == '\\' && p + 1 < line.size()) {
        scratch->push_back(Unescape(line[p + 1]));
        p += 2;
      } else if (c == '"') {
        if (p + 1 < line.size() && !IsSpace(line[p + 1])) return false;
        *pos = p + 1;
        return true;
      } else if (p >= line.size()) {
        return false;  // unterminated quotes
      } else {
        scratch->push_back(c);
        ++p;
      }
    } else if (state == kSingle) {
      if (c == '\\' && at(p + 1) == '\'') {
        scratch->push_back('\'');
        p += 2;
      } else if (c == '\'') {
        if (p + 1 < line.size() && !IsSpace(line[p + 1])) return false;
        *pos = p + 1;
        return true;
      } else if (p >= line.size()) {
        return false;
      } else {
        scratch->push_back(c);
        ++p;
      }
    } else if (p >= line.size() || IsSpace(c)) {
      *pos = p;
      return true;
    } else {
      if (c == '"') {
        state = kDouble;
      } else if (c == '\'') {
        state = kSingle;
      } else {
        scratch->push_back(c);
      }
      ++p;
    }
  }
}

}  // namespace

bool SplitInlineCommand(std::string_view line, std::string* scratch,
                        std::vector<std::string_view>* words) {
  words->clear();
  line = line.substr(0, line.find('\0'));
  const bool quoted = line.find_first_of("\"'") != std::string_view::npos;
  if (quoted) {
    scratch->clear();
    scratch->reserve(line.size());
  }
  size_t pos = 0;
  while (true) {
    while (pos < line.size() && IsSpace(line[pos])) ++pos;
    if (pos >= line.size()) return true;
    if (!quoted) {
      const size_t start = pos;
      while (pos < line.size() && !IsSpace(line[pos])) ++pos;
      words->push_back(line.substr(start, pos - start));
      continue;
    }
    const size_t start = scratch->size();
    const char* const data_before = scratch->data();
    if (!ParseQuotedWord(line, &pos, scratch)) return false;
    DCHECK_EQ(data_before, scratch->data()) << "scratch reallocated under its views";
    words->push_back(std::string_view(*scratch).substr(start));
  }
}

}  // namespace podium::protocol
