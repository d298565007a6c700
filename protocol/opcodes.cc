#include "protocol/opcodes.h"

#include <algorithm>
#include <cstddef>

namespace podium::protocol {

namespace {

constexpr char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

// <0, 0, >0 as `a` sorts before, with or after `b`, ignoring ASCII case.
constexpr int CompareIgnoringCase(std::string_view a, std::string_view b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    const char x = AsciiUpper(a[i]);
    const char y = AsciiUpper(b[i]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y) ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

// Indexes into kCommandNames, sorted by name, for the binary search by name.
constexpr std::array<uint8_t, kCommandNames.size()> SortByName() {
  std::array<uint8_t, kCommandNames.size()> order{};
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint8_t>(i);
  std::sort(order.begin(), order.end(), [](uint8_t a, uint8_t b) {
    return CompareIgnoringCase(kCommandNames[a].name, kCommandNames[b].name) < 0;
  });
  return order;
}
constexpr std::array<uint8_t, kCommandNames.size()> kByName = SortByName();

constexpr bool TableIsWellFormed() {
  for (size_t i = 0; i < kCommandNames.size(); ++i) {
    const CommandName& command = kCommandNames[i];
    if (command.opcode == Opcode::kNone || command.name.empty()) return false;
    for (char c : command.name) {
      if (c != AsciiUpper(c) || c <= ' ' || c > '~') return false;
    }
    if (i > 0 && kCommandNames[i - 1].opcode >= command.opcode) return false;
    if (i > 0 && CompareIgnoringCase(kCommandNames[kByName[i - 1]].name,
                                     kCommandNames[kByName[i]].name) >= 0) {
      return false;
    }
  }
  return true;
}
static_assert(kCommandNames.size() < 256, "kByName stores indexes in a byte");
static_assert(TableIsWellFormed(),
              "opcodes must be ascending and unique, names upper case, printable and unique");

}  // namespace

const CommandName* FindCommand(Opcode opcode) {
  const auto* it =
      std::lower_bound(kCommandNames.begin(), kCommandNames.end(), opcode,
                       [](const CommandName& command, Opcode key) { return command.opcode < key; });
  return it != kCommandNames.end() && it->opcode == opcode ? it : nullptr;
}

const CommandName* FindCommand(std::string_view name) {
  size_t low = 0;
  size_t high = kByName.size();
  while (low < high) {
    const size_t middle = low + (high - low) / 2;
    const CommandName& command = kCommandNames[kByName[middle]];
    const int order = CompareIgnoringCase(command.name, name);
    if (order == 0) return &command;
    if (order < 0) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return nullptr;
}

}  // namespace podium::protocol
