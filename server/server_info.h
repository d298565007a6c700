// ServerInfo: the server's settings and counters, shared by the event loops and read by INFO,
// AUTH and COMMAND. Settings are fixed at start; counters are relaxed atomics (each is exact on
// its own; INFO reads them one by one, not as one consistent cut).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/limits.h"
#include "server/limits.h"
#include "storage/effect_log.h"
#include "storage/ranking.h"

namespace podium::server {

struct ServerSettings {
  std::string bind = "127.0.0.1";
  int port = 7700;
  int threads = 1;
  std::string requirepass;  // empty: no AUTH needed
  size_t clients_max = 10000;
  int64_t idle_timeout_ms = 0;  // 0: idle clients are never closed
  // Per client (limits.h has the defaults and what each does).
  size_t request_bytes_max = protocol::kRequestSizeBytesMax;
  size_t output_pause_bytes = kOutputPauseBytes;
  size_t output_bytes_max = kOutputBytesMax;
  int64_t output_stall_ms_max = kOutputStallMsMax;
  std::string data_dir;  // empty: no persistence
  storage::FsyncPolicy fsync = storage::FsyncPolicy::kEverySecond;
  bool truncate_corrupt_wal = false;
  uint64_t snapshot_wal_bytes = uint64_t{256} << 20;
  storage::RankingOptions ranking;
};

class Persistence;

struct ServerInfo {
  ServerInfo(ServerSettings settings_in, size_t command_count_in)
      : settings(std::move(settings_in)),
        command_count(command_count_in),
        command_calls(std::make_unique<std::atomic<uint64_t>[]>(
            static_cast<size_t>(std::max(settings.threads, 1)) * command_count_in)) {}

  // Counts one call of command `command` on loop `loop`. Each (loop, command) slot has one
  // writer, so a relaxed load and store do: no locked instruction, no line shared between
  // loops' hot paths.
  void CountCall(int loop, size_t command) {
    std::atomic<uint64_t>& slot = command_calls[static_cast<size_t>(loop) * command_count + command];
    slot.store(slot.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  uint64_t Calls(size_t command) const {
    uint64_t total = 0;
    for (int loop = 0; loop < std::max(settings.threads, 1); ++loop) {
      total += command_calls[static_cast<size_t>(loop) * command_count + command].load(
          std::memory_order_relaxed);
    }
    return total;
  }
  uint64_t TotalCalls() const {
    uint64_t total = 0;
    for (size_t command = 0; command < command_count; ++command) total += Calls(command);
    return total;
  }

  const ServerSettings settings;
  const size_t command_count;
  int64_t start_ms = 0;  // Unix ms at start
  std::atomic<uint64_t> clients_connected{0};
  std::atomic<uint64_t> clients_total{0};
  std::atomic<uint64_t> clients_rejected{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> next_client_id{1};
  Persistence* persistence = nullptr;  // null without --data_dir; set before the loops start

 private:
  // [loop][command] call counts.
  const std::unique_ptr<std::atomic<uint64_t>[]> command_calls;
};

}  // namespace podium::server
