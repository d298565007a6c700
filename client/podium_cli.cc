// podium-cli: redis-cli for Podium. One-shot (`podium-cli ZREVRANGE b 0 9 WITHSCORES`), an
// interactive prompt with line editing and history when stdin is a terminal, or one command
// per line from a pipe. Replies print as redis-cli prints them (reply_format.h), so output can
// be compared with redis-cli's against Redis; unlike redis-cli, the output stays in that form
// when stdout is not a terminal (use --raw for redis-cli's raw form), so that scripts and
// tests see what people see.
//
// Exit status: 0 when every command got a reply, error replies included (as redis-cli); 1 when
// the server could not be reached or a connection failed mid-way (message on stderr).
//
// Secrets: lines that carry a password (AUTH, CONFIG SET requirepass, ...: LineHoldsSecret)
// are kept out of the prompt's history, as redis-cli keeps them out. The password of an AUTH
// the server accepts is remembered for the AUTH after a reconnect, as --server-pass is.
#include <gflags/gflags.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/command_line.h"
#include "client/reply_format.h"

#if PODIUM_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

DEFINE_string(server, "127.0.0.1:7700", "the server, host:port");
DEFINE_string(server_pass, "", "password to AUTH with after connecting (also --server-pass)");
DEFINE_bool(resp, false, "speak RESP2 instead of the binary protocol (also works with Redis)");
DEFINE_bool(raw, false, "print replies raw, as redis-cli --raw does");
DEFINE_int64(connect_timeout_ms, 2000,
             "give up connecting (TCP connect, handshake and AUTH together) after this long");
DEFINE_int64(timeout_ms, 30000,
             "give up on a command when the server sends no byte of its reply (or takes none of "
             "the request) for this long; each byte restarts the wait, so a slow but steady reply "
             "may take longer in all; 0 waits forever");

namespace podium::client {
namespace {

constexpr int kHistoryLinesMax = 1000;

enum class LineOutcome { kDone, kFailed, kQuit };

bool FlagTakesValue(std::string_view name) {
  gflags::CommandLineFlagInfo info;
  return gflags::GetCommandLineFlagInfo(std::string(name).c_str(), &info) && info.type != "bool";
}

bool EqualsIgnoringCase(std::string_view word, std::string_view lower_case) {
  if (word.size() != lower_case.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((word[i] | 0x20) != lower_case[i]) return false;
  }
  return true;
}

bool IsQuit(std::string_view word) {
  return EqualsIgnoringCase(word, "quit") || EqualsIgnoringCase(word, "exit");
}

// After an AUTH the server accepted, its password, so that a reconnect authenticates as this
// session did. The two-word form only for the default user: ClientOptions has no user name.
void RememberPassword(Client& client, const std::vector<std::string>& words) {
  const bool one_word = words.size() == 2;
  const bool default_user = words.size() == 3 && words[1] == "default";
  if (!one_word && !default_user) return;
  Status status = client.SetPassword(words.back());
  if (!status.ok()) std::cerr << "Warning: not kept for reconnects: " << status.message() << "\n";
}

// Sends one command and prints its reply; a transport failure goes to stderr.
LineOutcome RunCommand(Client& client, const std::vector<std::string>& words) {
  const std::vector<std::string_view> views(words.begin(), words.end());
  Result<protocol::ReplyValue> reply = client.CallWords(views);
  if (!reply.ok()) {
    std::cerr << "Error: " << reply.status().message() << std::endl;
    return LineOutcome::kFailed;
  }
  if (EqualsIgnoringCase(words.front(), "auth") && reply->type != protocol::ValueType::kError) {
    RememberPassword(client, words);
  }
  const ClientProtocol protocol = client.options().protocol;
  // redis-cli prints INFO's text as it is, whatever the output mode.
  const bool raw = FLAGS_raw || EqualsIgnoringCase(words.front(), "info");
  const std::string text = raw ? FormatReplyRaw(*reply, protocol) : FormatReply(*reply, protocol);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return LineOutcome::kDone;
}

LineOutcome RunLine(Client& client, std::string_view line) {
  std::optional<std::vector<std::string>> words = SplitCommandLine(line);
  if (!words.has_value()) {
    std::cout << "Invalid argument(s)" << std::endl;  // redis-cli's words
    return LineOutcome::kDone;
  }
  if (words->empty()) return LineOutcome::kDone;
  if (IsQuit(words->front())) return LineOutcome::kQuit;
  return RunCommand(client, *words);
}

// Commands from a pipe or file, one per line.
int RunPiped(Client& client) {
  int exit_code = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    const LineOutcome outcome = RunLine(client, line);
    if (outcome == LineOutcome::kQuit) break;
    if (outcome == LineOutcome::kFailed) exit_code = 1;
  }
  return exit_code;
}

#if PODIUM_HAVE_READLINE
std::string HistoryPath() {
  const char* home = std::getenv("HOME");
  return home == nullptr || *home == '\0' ? std::string()
                                          : std::string(home) + "/.podium_cli_history";
}

int RunInteractive(Client& client, const std::string& prompt) {
  const std::string history_path = HistoryPath();
  using_history();
  stifle_history(kHistoryLinesMax);
  if (!history_path.empty()) read_history(history_path.c_str());
  while (char* input = readline(prompt.c_str())) {
    const std::string line(input);
    std::free(input);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!LineHoldsSecret(line)) {
      add_history(line.c_str());
      if (!history_path.empty()) write_history(history_path.c_str());
    }
    if (RunLine(client, line) == LineOutcome::kQuit) break;
  }
  return 0;
}
#else
int RunInteractive(Client& client, const std::string& prompt) {
  std::string line;
  while (true) {
    std::cout << prompt << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (RunLine(client, line) == LineOutcome::kQuit) break;
  }
  return 0;
}
#endif

int Main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "podium-cli [--server host:port] [--server-pass secret] [--resp] [--raw] [command args...]");
  const ProgramArguments arguments =
      SplitProgramArguments(std::vector<std::string>(argv, argv + argc), FlagTakesValue);
  std::vector<char*> flag_argv;
  for (const std::string& flag : arguments.flags)
    flag_argv.push_back(const_cast<char*>(flag.c_str()));
  int flag_argc = static_cast<int>(flag_argv.size());
  char** flag_args = flag_argv.data();
  gflags::ParseCommandLineFlags(&flag_argc, &flag_args, true);

  Result<ServerAddress> address = ParseServerAddress(FLAGS_server);
  if (!address.ok()) {
    std::cerr << "podium-cli: --server: " << address.status().message() << std::endl;
    return 1;
  }
  ClientOptions options;
  options.host = address->host;
  options.port = address->port;
  options.password = FLAGS_server_pass;
  options.protocol = FLAGS_resp ? ClientProtocol::kResp : ClientProtocol::kBinary;
  options.connect_timeout_ms = FLAGS_connect_timeout_ms;
  options.io_timeout_ms = FLAGS_timeout_ms;
  // A one-shot command fails rather than reconnecting; a session reconnects once per command.
  options.reconnect_attempts = arguments.words.empty() ? 1 : 0;
  const std::string where = FormatServerAddress(options.host, options.port);

  Result<Client> client = Client::Connect(options);
  if (!client.ok()) {
    // The socket's message repeats the address ("connect to host:port: refused"): drop that.
    std::string_view reason = client.status().message();
    const std::string repeated = "connect to " + where + ": ";
    if (reason.starts_with(repeated)) reason.remove_prefix(repeated.size());
    std::cerr << "Could not connect to Podium at " << where << ": " << reason << std::endl;
    return 1;
  }
  if (!arguments.words.empty()) {
    return RunCommand(*client, arguments.words) == LineOutcome::kDone ? 0 : 1;
  }
  if (::isatty(STDIN_FILENO)) return RunInteractive(*client, where + "> ");
  return RunPiped(*client);
}

}  // namespace
}  // namespace podium::client

int main(int argc, char** argv) { return podium::client::Main(argc, argv); }
