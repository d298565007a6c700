#include "server/command_table.h"

#include <glog/logging.h>

namespace podium::server {

const CommandTable& CommandTable::Get() {
  static const CommandTable* table = new CommandTable();
  return *table;
}

CommandTable::CommandTable() {
  CommandRegistry registry;
  RegisterConnectionCommands(registry);
  RegisterPersistenceCommands(registry);
  RegisterRecordCommands(registry);
  RegisterStockCommands(registry);
  RegisterSortedSetCommands(registry);
  RegisterOrderCommands(registry);
  RegisterRankingCommands(registry);
  specs_ = std::move(registry.specs());
  size_t max_opcode = 0;
  for (const CommandSpec& spec : specs_) {
    CHECK(spec.handler != nullptr);
    CHECK(protocol::FindCommand(spec.opcode) != nullptr)
        << "opcode " << static_cast<int>(spec.opcode) << " is not in protocol/opcodes.h";
    max_opcode = std::max(max_opcode, static_cast<size_t>(spec.opcode));
  }
  by_opcode_.assign(max_opcode + 1, nullptr);
  for (const CommandSpec& spec : specs_) {
    const auto index = static_cast<size_t>(spec.opcode);
    CHECK(by_opcode_[index] == nullptr) << "two commands with opcode " << index;
    by_opcode_[index] = &spec;
  }
}

std::string_view CommandTable::NameOf(const CommandSpec& spec) {
  return protocol::FindCommand(spec.opcode)->name;
}

}  // namespace podium::server
