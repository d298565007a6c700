#include "server/server.h"

#include <glog/logging.h>

#include "server/command_table.h"

namespace podium::server {

Server::Server(ServerSettings settings)
    : db_(settings.ranking), info_(std::move(settings), CommandTable::Get().size()) {
  info_.start_ms = EventLoop::NowMs();
  for (int i = 0; i < info_.settings.threads; ++i) {
    loops_.push_back(std::make_unique<EventLoop>(i, db_, info_));
  }
}

Server::~Server() { Stop(); }

std::string Server::Start() {
  if (std::string error = EventLoop::CheckAddressFree(info_.settings.bind, info_.settings.port);
      !error.empty()) {
    return error;
  }
  if (!info_.settings.data_dir.empty()) {
    PersistenceSettings settings;
    settings.dir = info_.settings.data_dir;
    settings.fsync = info_.settings.fsync;
    settings.truncate_corrupt_wal = info_.settings.truncate_corrupt_wal;
    settings.snapshot_wal_bytes = info_.settings.snapshot_wal_bytes;
    storage::Result<std::unique_ptr<Persistence>> opened =
        Persistence::Open(std::move(settings), &db_, [this](uint64_t durable) {
          for (auto& loop : loops_) loop->NotifyDurable(durable);
        });
    if (!opened.ok()) return "cannot recover " + info_.settings.data_dir + ": " +
                             opened.status().message();
    persistence_ = std::move(opened).value();
    info_.persistence = persistence_.get();
  }
  for (auto& loop : loops_) {
    std::string error = loop->Listen(info_.settings.bind, info_.settings.port);
    if (!error.empty()) return error;
  }
  for (auto& loop : loops_) loop->Start();
  started_ = true;
  return "";
}

void Server::Stop() {
  if (started_) {
    for (auto& loop : loops_) loop->Stop();
    for (auto& loop : loops_) loop->Join();
    started_ = false;
  }
  if (persistence_ != nullptr) {
    info_.persistence = nullptr;
    persistence_->Close();
    persistence_.reset();
  }
}

}  // namespace podium::server
