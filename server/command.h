// Commands: what a command handler is given and how a family of commands registers itself.
//
// A command is written once and serves both protocols: the connection decodes a request (RESP
// or binary) into a protocol::Request, finds its CommandSpec, checks arity and authentication,
// and calls the handler with a CommandContext. The handler reads its arguments through
// server/arguments.h, does its work on the Database, and writes exactly one reply value through
// context.reply (a protocol::ReplyWriter for the connection's protocol).
//
// Families live in their own files (connection_commands.cc, record_commands.cc,
// stock_commands.cc, sorted_set_commands.cc, ...), each with one Register function that
// CommandTable calls. Handlers are plain functions: no state of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/opcodes.h"
#include "protocol/reply_writer.h"
#include "protocol/request.h"

namespace podium::storage {
class Database;
}  // namespace podium::storage

namespace podium::server {

using storage::Database;
struct ServerInfo;

// What one connection carries between its commands.
struct Session {
  bool authenticated = false;
  bool close_after_reply = false;  // QUIT
  uint64_t client_id = 0;
  int loop_index = 0;
};

struct CommandContext;

// Work too long for an event loop (O(n) in a big key). A handler copies what it needs (request
// arguments point into a buffer that will not outlive it; a shard lock is held only as long as
// the handler holds it), then sets context.deferred: `work` runs on a worker thread of libuv's
// pool, holding no lock unless it takes one; `finish` then runs on the connection's loop and
// writes the command's one reply. The connection decodes nothing more until then, so replies
// keep request order, and every other client of the loop goes on being served.
struct DeferredCommand {
  std::function<void()> work;
  std::function<void(CommandContext& context)> finish;
};

struct CommandContext {
  Database& db;
  const protocol::Request& request;  // arguments after the command name
  protocol::ReplyWriter& reply;
  Session& session;
  ServerInfo& server;  // flags and statistics, for AUTH, INFO, COMMAND
  int64_t now_ms;      // Unix milliseconds, read once per batch of requests
  std::unique_ptr<DeferredCommand> deferred = nullptr;  // set by a handler that defers
  // Binary requests already decoded after this one, in order (see Connection::Process). They
  // run next unless the connection stops (a pause, a deferred command, a close), so they are a
  // hint: a handler may prefetch for them, never act on them. Valid only during the handler
  // call (views into the input): never keep them, in a DeferredCommand or anywhere.
  std::span<const protocol::Request> upcoming = {};

  size_t argc() const { return request.args.size(); }
  const protocol::Argument& arg(size_t index) const { return request.args[index]; }
};

enum CommandFlag : uint32_t {
  kCommandWrite = 1u << 0,     // changes state (later: logged to the WAL)
  kCommandReadOnly = 1u << 1,  // only reads
  kCommandNoAuth = 1u << 2,    // allowed before AUTH when a password is set
  kCommandFast = 1u << 3,      // O(1) or O(log n)
  // Takes no lock but its key's shard (one Database::WithKey at a time) and the log's: may run
  // under the shard lock its connection kept from the command before (Database::ShardBatch).
  kCommandKeyShardOnly = 1u << 4,
};

using CommandHandler = void (*)(CommandContext& context);

struct CommandSpec {
  protocol::Opcode opcode;
  // Redis's arity: counts the command name; n > 0 means exactly n, n < 0 means at least -n.
  int arity;
  uint32_t flags;
  // Key positions for COMMAND (1-based, counting the name; 0 = no keys; last -1 = to the end).
  int first_key;
  int last_key;
  int key_step;
  CommandHandler handler;
};

// Every family adds its commands here; CommandTable collects them once at start.
class CommandRegistry {
 public:
  void Add(const CommandSpec& spec) { specs_.push_back(spec); }
  std::vector<CommandSpec>& specs() { return specs_; }

 private:
  std::vector<CommandSpec> specs_;
};

void RegisterConnectionCommands(CommandRegistry& registry);
void RegisterPersistenceCommands(CommandRegistry& registry);
void RegisterRecordCommands(CommandRegistry& registry);
void RegisterStockCommands(CommandRegistry& registry);
void RegisterSortedSetCommands(CommandRegistry& registry);
void RegisterOrderCommands(CommandRegistry& registry);
void RegisterRankingCommands(CommandRegistry& registry);

}  // namespace podium::server
