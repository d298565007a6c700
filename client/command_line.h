// podium-cli's input: the words of a typed or piped line, split with redis-cli's quoting
// rules, and the program's argv split into flags and a command.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podium::client {

// Splits `line` into words as redis-cli does (sdssplitargs, via protocol::SplitInlineCommand):
// whitespace separates words; "double quotes" take the escapes \n \r \t \b \a \\ \" and \xHH;
// 'single quotes' take \'; a closing quote must be followed by whitespace or the end. nullopt
// when quotes are unbalanced (redis-cli: "Invalid argument(s)"). A blank line gives no words.
std::optional<std::vector<std::string>> SplitCommandLine(std::string_view line);

// Whether a line typed at the prompt carries a secret and must stay out of the history (file
// and in-memory), as redis-cli keeps it out: AUTH; HELLO with AUTH; CONFIG SET of requirepass,
// masterauth, masteruser or a TLS key passphrase; ACL SETUSER; MIGRATE with AUTH or AUTH2.
// Names in any case. A line with unbalanced quotes is judged by its whitespace-separated
// words, so that `AUTH "secret` stays out too.
bool LineHoldsSecret(std::string_view line);

struct ProgramArguments {
  std::vector<std::string> flags;  // argv[0], then the flags, names normalized for gflags
  std::vector<std::string> words;  // the command after the flags, untouched
};

// Flags are the leading arguments that start with '-', up to the first that does not, or up to
// "--" (dropped). Everything after is the command, so "ZADD b -1 a" keeps its "-1" instead of
// gflags reading it as a flag. In a flag's name '-' becomes '_' ("--server-pass=x" is
// gflags' --server_pass=x); "--name value" takes the next argument as the value when
// `flag_takes_value(name)` (name normalized, without dashes) says so.
ProgramArguments SplitProgramArguments(
    const std::vector<std::string>& argv,
    const std::function<bool(std::string_view name)>& flag_takes_value);

}  // namespace podium::client
