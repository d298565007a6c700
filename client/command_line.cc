#include "client/command_line.h"

#include "protocol/inline_command.h"

namespace podium::client {

std::optional<std::vector<std::string>> SplitCommandLine(std::string_view line) {
  std::string scratch;
  std::vector<std::string_view> views;
  if (!protocol::SplitInlineCommand(line, &scratch, &views)) return std::nullopt;
  return std::vector<std::string>(views.begin(), views.end());
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
