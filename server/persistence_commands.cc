// Persistence commands: SAVE, BGSAVE, LASTSAVE, as Redis users know them.
//
// SAVE writes a snapshot and replies once it is synced and renamed; unlike Redis's SAVE it does
// not stop the server: the work runs on a libuv worker (a deferred command), so only the client
// that asked waits. BGSAVE starts one on the persistence thread and replies at once. With no
// --data_dir there is nothing to save to: both are errors. docs/operations.md says what a
// snapshot holds and when the server takes one by itself.
#include <memory>
#include <string>

#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "server/persistence.h"
#include "server/server_info.h"

namespace podium::server {
namespace {

using protocol::Opcode;
using protocol::StatusCode;

constexpr std::string_view kNoPersistence = "persistence is off (the server runs without --data_dir)";

void SaveCommand(CommandContext& context) {
  Persistence* persistence = context.server.persistence;
  if (persistence == nullptr) {
    context.reply.Error(StatusCode::kErr, kNoPersistence);
    return;
  }
  auto status = std::make_shared<storage::Status>();
  context.deferred = std::make_unique<DeferredCommand>(DeferredCommand{
      [persistence, status] { *status = persistence->SnapshotNow(); },
      [status](CommandContext& done) {
        if (status->ok()) {
          done.reply.Ok();
        } else {
          done.reply.Error(StatusCode::kErr, "snapshot failed: " + status->message());
        }
      }});
}

void BgSaveCommand(CommandContext& context) {
  Persistence* persistence = context.server.persistence;
  if (persistence == nullptr) {
    context.reply.Error(StatusCode::kErr, kNoPersistence);
  } else if (!persistence->StartSnapshot()) {
    context.reply.Error(StatusCode::kErr, "Background save already in progress");
  } else {
    context.reply.SimpleString("Background saving started");
  }
}

void LastSaveCommand(CommandContext& context) {
  Persistence* persistence = context.server.persistence;
  const int64_t last_ms = persistence == nullptr ? 0 : persistence->snapshot_stats().last_unix_ms;
  context.reply.Integer(last_ms / 1000);
}

}  // namespace

void RegisterPersistenceCommands(CommandRegistry& registry) {
  registry.Add({Opcode::kSave, 1, kCommandReadOnly, 0, 0, 0, SaveCommand});
  registry.Add({Opcode::kBgSave, -1, kCommandReadOnly, 0, 0, 0, BgSaveCommand});
  registry.Add({Opcode::kLastSave, 1, kCommandReadOnly | kCommandFast, 0, 0, 0, LastSaveCommand});
}

}  // namespace podium::server
