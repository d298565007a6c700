// ZUNIONSTORE, kept in a file of its own for the work that keeps a big union from stalling
// other clients (sorted_set_union_command.cc). RegisterSortedSetCommands calls this; nothing
// else should.
#pragma once

#include "server/command.h"

namespace podium::server {

void RegisterSortedSetUnionCommand(CommandRegistry& registry);

}  // namespace podium::server
