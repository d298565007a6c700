// Server: the event loops of one podium-server and the state they share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/database.h"
#include "server/event_loop.h"
#include "server/persistence.h"
#include "server/server_info.h"

namespace podium::server {

class Server {
 public:
  explicit Server(ServerSettings settings);
  ~Server();

  // Recovers the data directory (if any), binds every loop's socket and starts the loops.
  // Returns "" or why it could not.
  std::string Start();
  // Closes every connection and listener, waits for the loops to end, then takes the shutdown
  // snapshot and closes the log.
  void Stop();

 private:
  Database db_;
  ServerInfo info_;
  std::unique_ptr<Persistence> persistence_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  bool started_ = false;
};

}  // namespace podium::server
