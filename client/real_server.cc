#include "client/real_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "protocol/number_text.h"

extern char** environ;

namespace podium::client::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(10);

// A port nobody listens on right now: bind port 0 and read it back. Another process may take
// it before the server binds it; Start tries again then.
uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK_GE(fd, 0) << std::strerror(errno);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  CHECK_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0) << std::strerror(errno);
  CHECK_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool AnswersPing(uint16_t port) {
  ClientOptions options;
  options.port = port;
  options.connect_timeout_ms = 200;
  options.io_timeout_ms = 1000;
  options.reconnect_attempts = 0;
  Result<Client> client = Client::Connect(options);
  if (!client.ok()) return false;
  Result<protocol::ReplyValue> pong = client->Call(protocol::Opcode::kPing);
  return pong.ok() && *pong == protocol::ReplyValue::SimpleString("PONG");
}

}  // namespace

RealServer::RealServer(std::vector<std::string> flags) : flags_(std::move(flags)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "podium-real-server-XXXXXX");
  CHECK(::mkdtemp(pattern.data()) != nullptr) << std::strerror(errno);
  directory_ = pattern;
}

RealServer::~RealServer() {
  Kill();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string RealServer::Start(uint16_t port) {
  CHECK(!running()) << "Start on a running server";
  std::string error;
  for (int attempt = 0; attempt < kStartAttemptsMax; ++attempt) {
    error = StartOn(port != 0 ? port : FreePort());
    if (error.empty() || port != 0) return error;
    if (error.find("cannot bind") == std::string::npos) return error;
  }
  return error;
}

std::string RealServer::StartOn(uint16_t port) {
  const std::string log_path = directory_ + "/server.log";
  std::vector<std::string> words = {PODIUM_SERVER_PATH, "--port=" + std::to_string(port),
                                    "--threads=2", "--data_dir="};
  words.insert(words.end(), flags_.begin(), flags_.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return std::string("posix_spawn ") + argv[0] + ": " + std::strerror(spawned);
  pid_ = pid;
  port_ = port;

  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
  while (true) {
    int status = 0;
    if (Reaped(&status)) {
      return "podium-server on port " + std::to_string(port) + " exited with status " +
             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "; its output:\n" +
             log();
    }
    if (AnswersPing(port)) return "";
    if (Clock::now() >= deadline) {
      Kill();
      return "podium-server did not answer PING on port " + std::to_string(port) + " within " +
             std::to_string(kStartTimeoutMs) + " ms; its output:\n" + log();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool RealServer::Reaped(int* status) {
  if (pid_ <= 0) return false;
  const pid_t reaped = ::waitpid(pid_, status, WNOHANG);
  if (reaped != pid_) return false;
  pid_ = -1;
  return true;
}

int RealServer::Stop() {
  if (!running()) return 0;
  ::kill(pid_, SIGTERM);
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(kStopTimeoutMs);
  int status = 0;
  while (!Reaped(&status)) {
    if (Clock::now() >= deadline) {
      Kill();
      return -1;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void RealServer::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

ClientOptions RealServer::Options(ClientProtocol protocol) const {
  ClientOptions options;
  options.port = port_;
  options.protocol = protocol;
  options.connect_timeout_ms = 1000;
  options.io_timeout_ms = 3000;
  options.reconnect_attempts = 3;
  options.reconnect_delay_ms = 0;
  return options;
}

std::string RealServer::log() const {
  std::ifstream file(directory_ + "/server.log");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

protocol::ReplyValue ExpectedScore(ClientProtocol protocol, double score) {
  if (protocol == ClientProtocol::kBinary) return protocol::ReplyValue::Float64(score);
  char text[protocol::kNumberTextBytesMax];
  return protocol::ReplyValue::Bytes({text, protocol::FormatDouble(score, text)});
}

protocol::ReplyValue ExpectedError(ClientProtocol protocol, protocol::StatusCode status,
                                   std::string_view message) {
  if (protocol == ClientProtocol::kBinary) return protocol::ReplyValue::Error(status, message);
  return protocol::ReplyValue::Error(
      status, std::string(protocol::RespErrorCode(status)) + " " + std::string(message));
}

}  // namespace podium::client::testing
