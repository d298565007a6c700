// CommandTable: every command, found by opcode in O(1). Built once at start from the families'
// Register functions; read-only afterwards, so the event loops share it without locks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "server/command.h"

namespace podium::server {

class CommandTable {
 public:
  static const CommandTable& Get();

  // Null when no command has this opcode.
  const CommandSpec* Find(protocol::Opcode opcode) const {
    const auto index = static_cast<size_t>(opcode);
    return index < by_opcode_.size() ? by_opcode_[index] : nullptr;
  }
  // Dense index of a command, for per-command statistics arrays.
  size_t IndexOf(const CommandSpec* spec) const { return static_cast<size_t>(spec - specs_.data()); }
  std::span<const CommandSpec> all() const { return specs_; }
  size_t size() const { return specs_.size(); }
  static std::string_view NameOf(const CommandSpec& spec);  // upper case, from protocol/opcodes.h

  // True if argc arguments (after the name) satisfy spec's arity.
  static bool ArityOk(const CommandSpec& spec, size_t argc) {
    const long count = static_cast<long>(argc) + 1;
    return spec.arity > 0 ? count == spec.arity : count >= -spec.arity;
  }

 private:
  CommandTable();

  std::vector<CommandSpec> specs_;
  std::vector<const CommandSpec*> by_opcode_;
};

}  // namespace podium::server
