// The connection family: PING, AUTH, INFO, COMMAND, QUIT.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "server/arguments.h"
#include "server/command_table.h"
#include "server/memory_stats.h"
#include "server/persistence.h"
#include "server/server_info.h"
#include "storage/database.h"

namespace podium::server {
namespace {

using protocol::Opcode;
using protocol::StatusCode;

constexpr std::string_view kVersion = "0.1.0";

std::string_view BytesArgument(const CommandContext& context, size_t index) {
  const protocol::Argument& argument = context.arg(index);
  return argument.type == protocol::ArgumentType::kBytes ? argument.bytes : std::string_view();
}

// Compares every byte whatever the first difference, so the time taken says nothing about how
// much of a guess was right.
bool SecretEquals(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(b.size(), 1)]);
  }
  return difference == 0;
}

void PingCommand(CommandContext& context) {
  if (context.argc() > 1) {
    ReplyArityError(context.reply, "ping");
    return;
  }
  if (context.argc() == 0) {
    context.reply.SimpleString("PONG");
  } else {
    context.reply.Bytes(BytesArgument(context, 0));
  }
}

void AuthCommand(CommandContext& context) {
  // Redis 7's order: the syntax first, then whether a password is set, then the password.
  const std::string& password = context.server.settings.requirepass;
  if (context.argc() > 2) {
    ReplySyntaxError(context);
    return;
  }
  if (password.empty()) {
    context.reply.Error(StatusCode::kErr,
                        "AUTH <password> called without any password configured for the default "
                        "user. Are you sure your configuration is correct?");
    return;
  }
  if ((context.argc() == 2 && !ArgumentIs(context, 0, "default")) ||
      !SecretEquals(BytesArgument(context, context.argc() - 1), password)) {
    context.reply.Error(StatusCode::kWrongPass,
                        "invalid username-password pair or user is disabled.");
    return;
  }
  context.session.authenticated = true;
  context.reply.Ok();
}

std::string LowerCase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

void EchoCommand(CommandContext& context) { context.reply.Bytes(BytesArgument(context, 0)); }

// CONFIG GET for the settings Redis tools read at start (redis-benchmark asks for "save" and
// "appendonly"). Patterns are matched exactly, not as globs; the password is never shown.
void ConfigCommand(CommandContext& context) {
  if (!ArgumentIs(context, 0, "GET") || context.argc() != 2) {
    context.reply.Error(StatusCode::kErr, "only CONFIG GET <parameter> is supported");
    return;
  }
  const ServerSettings& settings = context.server.settings;
  const std::pair<std::string_view, std::string> kParameters[] = {
      {"save", ""},
      {"appendonly", "no"},
      {"port", std::to_string(settings.port)},
      {"bind", settings.bind},
      {"maxclients", std::to_string(settings.clients_max)},
      {"timeout", std::to_string(settings.idle_timeout_ms / 1000)},
      {"io-threads", std::to_string(settings.threads)},
  };
  const std::string wanted = LowerCase(BytesArgument(context, 1));
  for (const auto& [name, value] : kParameters) {
    if (name != wanted) continue;
    context.reply.ArrayHeader(2);
    context.reply.Bytes(name);
    context.reply.Bytes(value);
    return;
  }
  context.reply.ArrayHeader(0);
}

void QuitCommand(CommandContext& context) {
  context.session.close_after_reply = true;
  context.reply.Ok();
}


void AppendInfoLine(std::string* out, std::string_view key, const std::string& value) {
  out->append(key).append(":").append(value).append("\r\n");
}

// Redis's names where Redis has the field (rdb_*: its snapshots are RDB files), ours otherwise.
void AppendPersistenceSection(CommandContext& context, std::string* out) {
  out->append("# Persistence\r\n");
  const Persistence* persistence = context.server.persistence;
  AppendInfoLine(out, "persistence", persistence != nullptr ? "on" : "off");
  if (persistence == nullptr) {
    out->append("\r\n");
    return;
  }
  Persistence& p = *context.server.persistence;
  const SnapshotStats snapshot = p.snapshot_stats();
  const storage::EffectLogStats wal = p.log().stats();
  AppendInfoLine(out, "data_dir", p.settings().dir);
  AppendInfoLine(out, "loading_time_ms", std::to_string(p.recovery_ms()));
  AppendInfoLine(out, "loading_wal_records", std::to_string(p.recovery().records_replayed));
  AppendInfoLine(out, "rdb_bgsave_in_progress", snapshot.in_progress ? "1" : "0");
  AppendInfoLine(out, "rdb_last_save_time", std::to_string(snapshot.last_unix_ms / 1000));
  AppendInfoLine(out, "rdb_last_bgsave_status", snapshot.last_error.empty() ? "ok" : "err");
  AppendInfoLine(out, "snapshots_taken", std::to_string(snapshot.taken));
  AppendInfoLine(out, "snapshots_failed", std::to_string(snapshot.failed));
  AppendInfoLine(out, "last_snapshot_unix_ms", std::to_string(snapshot.last_unix_ms));
  AppendInfoLine(out, "last_snapshot_duration_ms", std::to_string(snapshot.last_duration_ms));
  AppendInfoLine(out, "last_snapshot_bytes", std::to_string(snapshot.last_bytes));
  AppendInfoLine(out, "last_snapshot_sequence", std::to_string(snapshot.last_sequence));
  AppendInfoLine(out, "last_snapshot_longest_lock_us",
                 std::to_string(snapshot.last_longest_lock_us));
  AppendInfoLine(out, "wal_fsync", std::string(storage::FsyncPolicyName(p.log().fsync_policy())));
  AppendInfoLine(out, "wal_bytes", std::to_string(wal.wal_bytes));
  AppendInfoLine(out, "wal_bytes_written", std::to_string(wal.bytes_written));
  AppendInfoLine(out, "wal_last_sequence", std::to_string(wal.last_sequence));
  AppendInfoLine(out, "wal_durable_sequence", std::to_string(wal.durable_sequence));
  AppendInfoLine(out, "wal_fsync_lag_records",
                 std::to_string(wal.last_sequence - std::min(wal.last_sequence, wal.durable_sequence)));
  AppendInfoLine(out, "wal_fsyncs", std::to_string(wal.fsyncs));
  const int64_t since_fsync_ms =
      wal.last_fsync_unix_ms == 0 ? -1 : context.now_ms - wal.last_fsync_unix_ms;
  AppendInfoLine(out, "wal_ms_since_last_fsync", std::to_string(since_fsync_ms));
  AppendInfoLine(out, "wal_queued_bytes", std::to_string(wal.queued_bytes));
  out->append("\r\n");
}

// `sections`: the names asked for, lower case (Redis 7 takes several); none, "default", "all"
// or "everything" ask for every section (Podium has few enough for INFO to show them all).
void AppendInfoSections(CommandContext& context, const std::vector<std::string>& sections,
                        std::string* out) {
  const auto wants = [&](std::string_view name) {
    return sections.empty() ||
           std::any_of(sections.begin(), sections.end(), [&](const std::string& section) {
             return section == name || section == "default" || section == "all" ||
                    section == "everything";
           });
  };
  ServerInfo& server = context.server;
  if (wants("server")) {
    out->append("# Server\r\n");
    AppendInfoLine(out, "podium_version", std::string(kVersion));
    AppendInfoLine(out, "redis_version", "7.0.0");  // what Redis tools check for features
    AppendInfoLine(out, "process_id", std::to_string(::getpid()));
    AppendInfoLine(out, "tcp_port", std::to_string(server.settings.port));
    AppendInfoLine(out, "io_threads", std::to_string(server.settings.threads));
    const int64_t uptime_ms = context.now_ms - server.start_ms;
    AppendInfoLine(out, "uptime_in_seconds", std::to_string(uptime_ms / 1000));
    AppendInfoLine(out, "uptime_in_days", std::to_string(uptime_ms / 86'400'000));
    out->append("\r\n");
  }
  if (wants("clients")) {
    out->append("# Clients\r\n");
    AppendInfoLine(out, "connected_clients", std::to_string(server.clients_connected.load()));
    AppendInfoLine(out, "maxclients", std::to_string(server.settings.clients_max));
    AppendInfoLine(out, "rejected_connections", std::to_string(server.clients_rejected.load()));
    out->append("\r\n");
  }
  if (wants("memory")) {
    const MemoryStats memory = ReadMemoryStats();
    out->append("# Memory\r\n");
    AppendInfoLine(out, "used_memory", std::to_string(memory.allocated_bytes));
    AppendInfoLine(out, "used_memory_rss", std::to_string(memory.resident_bytes));
    AppendInfoLine(out, "mem_allocator", memory.available ? "jemalloc" : "libc");
    if (!memory.transparent_huge_pages.empty()) {
      AppendInfoLine(out, "mem_transparent_huge_pages", memory.transparent_huge_pages);
    }
    out->append("\r\n");
  }
  if (wants("persistence")) AppendPersistenceSection(context, out);
  if (wants("stats")) {
    out->append("# Stats\r\n");
    AppendInfoLine(out, "total_connections_received", std::to_string(server.clients_total.load()));
    AppendInfoLine(out, "total_commands_processed", std::to_string(server.TotalCalls()));
    AppendInfoLine(out, "total_protocol_errors", std::to_string(server.protocol_errors.load()));
    out->append("\r\n");
  }
  if (wants("commandstats")) {
    out->append("# Commandstats\r\n");
    const CommandTable& table = CommandTable::Get();
    for (const CommandSpec& spec : table.all()) {
      const uint64_t calls = server.Calls(table.IndexOf(&spec));
      if (calls == 0) continue;
      AppendInfoLine(out, "cmdstat_" + LowerCase(CommandTable::NameOf(spec)),
                     "calls=" + std::to_string(calls));
    }
    out->append("\r\n");
  }
  if (wants("keyspace")) {
    size_t strings = 0;
    size_t sorted_sets = 0;
    size_t expiring = 0;
    for (size_t shard = 0; shard < Database::kShardCount; ++shard) {
      context.db.WithShard(shard, [&](storage::Keyspace& keys) {
        strings += keys.string_count();
        sorted_sets += keys.sorted_set_count();
        expiring += keys.expiring_count();
      });
    }
    out->append("# Keyspace\r\n");
    AppendInfoLine(out, "db0",
                   "keys=" + std::to_string(strings + sorted_sets) +
                       ",expires=" + std::to_string(expiring));
    AppendInfoLine(out, "keys_string", std::to_string(strings));
    AppendInfoLine(out, "keys_zset", std::to_string(sorted_sets));
    AppendInfoLine(out, "stock_counters", std::to_string(context.db.stock().size()));
    out->append("\r\n");
  }
}

void InfoCommand(CommandContext& context) {
  std::vector<std::string> sections;
  for (size_t i = 0; i < context.argc(); ++i) {
    sections.push_back(LowerCase(BytesArgument(context, i)));
  }
  std::string text;
  AppendInfoSections(context, sections, &text);
  context.reply.Bytes(text);
}

// COMMAND's classic six-field entry: name, arity, flags, first key, last key, step.
void ReplyCommandEntry(CommandContext& context, const CommandSpec& spec) {
  context.reply.ArrayHeader(6);
  context.reply.Bytes(LowerCase(CommandTable::NameOf(spec)));
  context.reply.Integer(spec.arity);
  const std::pair<uint32_t, std::string_view> kFlagNames[] = {
      {kCommandWrite, "write"}, {kCommandReadOnly, "readonly"},
      {kCommandNoAuth, "no_auth"}, {kCommandFast, "fast"}};
  size_t flag_count = 0;
  for (const auto& [flag, name] : kFlagNames) flag_count += (spec.flags & flag) != 0;
  context.reply.ArrayHeader(flag_count);
  for (const auto& [flag, name] : kFlagNames) {
    if (spec.flags & flag) context.reply.SimpleString(name);
  }
  context.reply.Integer(spec.first_key);
  context.reply.Integer(spec.last_key);
  context.reply.Integer(spec.key_step);
}

void CommandCommand(CommandContext& context) {
  const CommandTable& table = CommandTable::Get();
  if (context.argc() == 0) {
    context.reply.ArrayHeader(table.size());
    for (const CommandSpec& spec : table.all()) ReplyCommandEntry(context, spec);
  } else if (ArgumentIs(context, 0, "COUNT") && context.argc() == 1) {
    context.reply.Integer(static_cast<int64_t>(table.size()));
  } else if (ArgumentIs(context, 0, "INFO")) {
    context.reply.ArrayHeader(context.argc() - 1);
    for (size_t i = 1; i < context.argc(); ++i) {
      const protocol::CommandName* name = protocol::FindCommand(BytesArgument(context, i));
      const CommandSpec* spec = name != nullptr ? table.Find(name->opcode) : nullptr;
      if (spec == nullptr) {
        context.reply.Nil();
      } else {
        ReplyCommandEntry(context, *spec);
      }
    }
  } else if (ArgumentIs(context, 0, "DOCS")) {
    context.reply.ArrayHeader(0);  // no documentation over the wire: docs/protocol.md has it
  } else {
    context.reply.Error(StatusCode::kErr, "unknown subcommand or wrong number of arguments for "
                                          "'COMMAND'");
  }
}

}  // namespace

void RegisterConnectionCommands(CommandRegistry& registry) {
  registry.Add({Opcode::kPing, -1, kCommandNoAuth | kCommandFast, 0, 0, 0, PingCommand});
  registry.Add({Opcode::kAuth, -2, kCommandNoAuth | kCommandFast, 0, 0, 0, AuthCommand});
  registry.Add({Opcode::kQuit, -1, kCommandNoAuth | kCommandFast, 0, 0, 0, QuitCommand});
  registry.Add({Opcode::kEcho, 2, kCommandFast, 0, 0, 0, EchoCommand});
  registry.Add({Opcode::kConfig, -2, kCommandReadOnly, 0, 0, 0, ConfigCommand});
  registry.Add({Opcode::kInfo, -1, kCommandReadOnly, 0, 0, 0, InfoCommand});
  registry.Add({Opcode::kCommand, -1, kCommandReadOnly, 0, 0, 0, CommandCommand});
}

}  // namespace podium::server
