#include "server/server.h"

#include <glog/logging.h>

#include "server/command_table.h"

namespace podium::server {

Server::Server(ServerSettings settings)
    : info_(std::move(settings), CommandTable::Get().size()) {
  info_.start_ms = EventLoop::NowMs();
  for (int i = 0; i < info_.settings.threads; ++i) {
    loops_.push_back(std::make_unique<EventLoop>(i, db_, info_));
  }
}

Server::~Server() { Stop(); }

std::string Server::Start() {
  for (auto& loop : loops_) {
    std::string error = loop->Listen(info_.settings.bind, info_.settings.port);
    if (!error.empty()) return error;
  }
  for (auto& loop : loops_) loop->Start();
  started_ = true;
  return "";
}

void Server::Stop() {
  if (!started_) return;
  for (auto& loop : loops_) loop->Stop();
  for (auto& loop : loops_) loop->Join();
  started_ = false;
}

}  // namespace podium::server
