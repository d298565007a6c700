#include "client/command_line.h"

#include <initializer_list>
#include <span>

#include "protocol/inline_command.h"

namespace podium::client {

namespace {

bool EqualsIgnoringCase(std::string_view word, std::string_view lower_case) {
  if (word.size() != lower_case.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    const char c = word[i] >= 'A' && word[i] <= 'Z' ? static_cast<char>(word[i] + 32) : word[i];
    if (c != lower_case[i]) return false;
  }
  return true;
}

bool IsAnyOf(std::string_view word, std::initializer_list<std::string_view> lower_cases) {
  for (const std::string_view lower_case : lower_cases) {
    if (EqualsIgnoringCase(word, lower_case)) return true;
  }
  return false;
}

// CONFIG SET name value [name value ...]: a secret parameter anywhere among the names.
bool ConfigSetsASecret(std::span<const std::string> words) {
  for (size_t i = 2; i < words.size(); i += 2) {
    if (IsAnyOf(words[i], {"requirepass", "masterauth", "masteruser", "tls-key-file-pass",
                           "tls-client-key-file-pass"})) {
      return true;
    }
  }
  return false;
}

bool HoldsSecret(std::span<const std::string> words) {
  if (words.empty()) return false;
  const std::string_view command = words[0];
  if (EqualsIgnoringCase(command, "auth")) return true;
  if (EqualsIgnoringCase(command, "config")) {
    return words.size() > 2 && EqualsIgnoringCase(words[1], "set") && ConfigSetsASecret(words);
  }
  if (EqualsIgnoringCase(command, "acl")) {
    return words.size() > 1 && EqualsIgnoringCase(words[1], "setuser");
  }
  // HELLO [protover [AUTH username password] ...], MIGRATE ... [AUTH password | AUTH2 ...]:
  // any AUTH word after the command (more cautious than redis-cli, which parses them).
  if (EqualsIgnoringCase(command, "hello") || EqualsIgnoringCase(command, "migrate")) {
    for (const std::string& word : words.subspan(1)) {
      if (IsAnyOf(word, {"auth", "auth2"})) return true;
    }
  }
  return false;
}

// Words separated by spaces and tabs, quotes kept: for a line SplitCommandLine refuses.
std::vector<std::string> SplitOnWhitespace(std::string_view line) {
  std::vector<std::string> words;
  size_t start = line.find_first_not_of(" \t");
  while (start != std::string_view::npos) {
    const size_t end = line.find_first_of(" \t", start);
    words.emplace_back(line.substr(start, end - start));
    start = end == std::string_view::npos ? end : line.find_first_not_of(" \t", end);
  }
  return words;
}

}  // namespace

std::optional<std::vector<std::string>> SplitCommandLine(std::string_view line) {
  std::string scratch;
  std::vector<std::string_view> views;
  if (!protocol::SplitInlineCommand(line, &scratch, &views)) return std::nullopt;
  return std::vector<std::string>(views.begin(), views.end());
}

bool LineHoldsSecret(std::string_view line) {
  std::optional<std::vector<std::string>> words = SplitCommandLine(line);
  if (!words.has_value()) {
    words = SplitOnWhitespace(line);
    // `AUTH "my secret`: the first word may still carry an opening quote.
    if (!words->empty() && ((*words)[0].starts_with('"') || (*words)[0].starts_with('\''))) {
      (*words)[0].erase(0, 1);
    }
  }
  return HoldsSecret(*words);
}

ProgramArguments SplitProgramArguments(
    const std::vector<std::string>& argv,
    const std::function<bool(std::string_view name)>& flag_takes_value) {
  ProgramArguments split;
  size_t i = 0;
  if (!argv.empty()) split.flags.push_back(argv[i++]);
  while (i < argv.size()) {
    const std::string& argument = argv[i];
    if (argument == "--") {
      ++i;
      break;
    }
    if (argument.size() < 2 || argument[0] != '-') break;
    const size_t dashes = argument[1] == '-' ? 2 : 1;
    const size_t equals = argument.find('=');
    std::string name =
        argument.substr(dashes, equals == std::string::npos ? std::string::npos : equals - dashes);
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    std::string flag = "--" + name;
    if (equals != std::string::npos) flag += argument.substr(equals);
    split.flags.push_back(std::move(flag));
    ++i;
    if (equals == std::string::npos && i < argv.size() && flag_takes_value(name)) {
      split.flags.push_back(argv[i++]);
    }
  }
  split.words.assign(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  return split;
}

}  // namespace podium::client
