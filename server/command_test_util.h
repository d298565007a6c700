// Test harness for command families: runs commands in-process, the way a connection would,
// and returns the RESP bytes they wrote. No sockets, no event loop, no clock: the test sets
// now_ms.
//
//   CommandHarness harness;
//   EXPECT_EQ(harness.Run({"ZADD", "board", "1", "a"}), ":1\r\n");
//   EXPECT_EQ(harness.RunArgs("STOCK.SET", {Int64Arg(7), Int64Arg(3)}), ":3\r\n");
//
// Run looks the command up by name, checks arity and answers the arity error as the connection
// does, then frames the reply with BeginReply/EndReply (which CHECK that the handler wrote
// exactly one value). The Resp* helpers build expected replies.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/opcodes.h"
#include "protocol/request.h"
#include "protocol/resp_reply_writer.h"
#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "server/command_table.h"
#include "storage/database.h"
#include "server/server_info.h"

namespace podium::server::testing {

class CommandHarness {
 public:
  // Some Unix time in 2023; any value in RecordStore's range works.
  static constexpr int64_t kStartMs = 1'700'000'000'000;

  CommandHarness()
      : owned_db_(std::make_unique<Database>()),
        db_(owned_db_.get()),
        server_(ServerSettings{}, CommandTable::Get().size()) {}
  // Runs commands on `db`, which outlives the harness (several harnesses, one per thread, may
  // share one Database as the event loops do).
  explicit CommandHarness(Database* db)
      : db_(db), server_(ServerSettings{}, CommandTable::Get().size()) {}

  // words[0] is the command name; the rest are byte-string arguments.
  std::string Run(std::initializer_list<std::string_view> words) {
    return Run(std::vector<std::string_view>(words));
  }
  std::string Run(const std::vector<std::string>& words) {
    return Run(std::vector<std::string_view>(words.begin(), words.end()));
  }
  std::string Run(const std::vector<std::string_view>& words) {
    std::vector<protocol::Argument> args;
    for (size_t i = 1; i < words.size(); ++i) args.push_back(protocol::Argument::Bytes(words[i]));
    return RunArgs(words.at(0), args);
  }

  // Any argument types, for the binary protocol's int64 and float64 arguments.
  std::string RunArgs(std::string_view name, const std::vector<protocol::Argument>& args) {
    const protocol::CommandName* command = protocol::FindCommand(name);
    if (command == nullptr) {
      ADD_FAILURE() << "no command named " << name;
      return "";
    }
    const CommandSpec* spec = CommandTable::Get().Find(command->opcode);
    if (spec == nullptr) {
      ADD_FAILURE() << "no handler registered for " << name;
      return "";
    }
    protocol::Request request;
    request.opcode = command->opcode;
    request.name = name;
    request.args = args;
    std::string out;
    protocol::RespReplyWriter writer(&out);
    writer.BeginReply(request.request_id);
    if (!CommandTable::ArityOk(*spec, args.size())) {
      ReplyArityError(writer, CommandTable::NameOf(*spec));
    } else {
      CommandContext context{*db_, request, writer, session_, server_, now_ms};
      spec->handler(context);
      if (context.deferred != nullptr) {  // as the connection does, minus the worker thread
        ++deferred_runs_;
        context.deferred->work();
        protocol::Request none;
        CommandContext done{*db_, none, writer, session_, server_, now_ms};
        context.deferred->finish(done);
      }
    }
    writer.EndReply();
    return out;
  }

  Database& db() { return *db_; }
  // Commands that handed their work to a worker (DeferredCommand) so far.
  int deferred_runs() const { return deferred_runs_; }

  int64_t now_ms = kStartMs;

 private:
  int deferred_runs_ = 0;
  std::unique_ptr<Database> owned_db_;
  Database* db_;
  ServerInfo server_;
  Session session_;
};

inline protocol::Argument Int64Arg(int64_t value) { return protocol::Argument::Int64(value); }
inline protocol::Argument Float64Arg(double value) { return protocol::Argument::Float64(value); }
inline protocol::Argument BytesArg(std::string_view bytes) {
  return protocol::Argument::Bytes(bytes);
}

// Expected RESP replies.
inline const std::string kRespOk = "+OK\r\n";
inline const std::string kRespNil = "$-1\r\n";
inline const std::string kRespEmptyArray = "*0\r\n";
inline const std::string kRespWrongType =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
inline const std::string kRespSyntaxError = "-ERR syntax error\r\n";
inline const std::string kRespNotInteger = "-ERR value is not an integer or out of range\r\n";
inline const std::string kRespNotFloat = "-ERR value is not a valid float\r\n";

inline std::string RespInt(int64_t value) { return ":" + std::to_string(value) + "\r\n"; }
inline std::string RespBulk(std::string_view bytes) {
  return "$" + std::to_string(bytes.size()) + "\r\n" + std::string(bytes) + "\r\n";
}
inline std::string RespError(std::string_view line) { return "-" + std::string(line) + "\r\n"; }
// An array of bulk strings.
inline std::string RespArray(std::initializer_list<std::string_view> items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (std::string_view item : items) out += RespBulk(item);
  return out;
}
inline std::string RespArray(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& item : items) out += RespBulk(item);
  return out;
}
// An array of already-encoded values (for mixed arrays: nils, integers).
inline std::string RespArrayOf(std::initializer_list<std::string_view> encoded) {
  std::string out = "*" + std::to_string(encoded.size()) + "\r\n";
  for (std::string_view item : encoded) out += item;
  return out;
}
inline std::string RespArity(std::string_view lower_name) {
  return "-ERR wrong number of arguments for '" + std::string(lower_name) + "' command\r\n";
}

}  // namespace podium::server::testing
