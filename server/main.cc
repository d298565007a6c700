// podium-server: flags, logging, signals; the work is in Server.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <signal.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "protocol/limits.h"
#include "server/limits.h"
#include "server/server.h"
#include "storage/limits.h"

#if PODIUM_HAVE_JEMALLOC
// jemalloc reads this before the first allocation; MALLOC_CONF in the environment overrides
// the options it names (MALLOC_CONF=thp:default turns huge pages off). thp:always has jemalloc
// madvise its memory for transparent huge pages: a 1M-member board is tens of megabytes of
// nodes and index read at random, and with 4 KiB pages most steps of a descent miss the TLB as
// well as the cache. Pipelined ZINCRBY on such a board went 13% faster (docs/benchmarks.md).
// The cost is resident memory in 2 MiB steps, and what the kernel spends assembling huge pages
// (docs/operations.md). Redis advises against huge pages because fork's copy-on-write then
// copies 2 MiB per write; Podium never forks.
extern "C" {
const char* malloc_conf = "thp:always";
}
#endif

DEFINE_string(bind, "127.0.0.1", "address to listen on");
DEFINE_int32(port, 7700, "TCP port for both the binary protocol and RESP");
DEFINE_int32(threads, 0, "event loops (I/O threads); 0 means one per core");
DEFINE_string(requirepass, "", "password clients must AUTH with; empty means none");
DEFINE_uint64(maxclients, podium::server::kClientsMaxDefault, "connections accepted at once");
DEFINE_int64(idle_timeout_sec, 0, "close clients idle this long; 0 means never");
DEFINE_uint64(max_request_bytes, podium::protocol::kRequestSizeBytesMax,
              "largest request (binary frame, RESP command) an authenticated client may send; "
              "a bigger one is a protocol error that closes its connection");
DEFINE_uint64(client_output_pause_bytes, podium::server::kOutputPauseBytes,
              "replies queued for one client past which the server stops reading its requests "
              "until it reads");
DEFINE_uint64(client_output_max_bytes, podium::server::kOutputBytesMax,
              "replies queued for one client past which it is disconnected");
DEFINE_int64(client_output_stall_sec, podium::server::kOutputStallMsMax / 1000,
             "a client that reads none of its queued replies this long is disconnected");
DEFINE_string(data_dir, "data",
              "directory for the write-ahead log and snapshots; empty: no persistence");
DEFINE_string(fsync, "everysec",
              "always (a write is acknowledged once durable), everysec, or no");
DEFINE_bool(truncate_corrupt_wal, false,
            "at start, cut the log at the first corrupt record instead of refusing to start "
            "(what follows it is lost; the log says how much)");
DEFINE_uint64(snapshot_wal_bytes, uint64_t{256} << 20,
              "take a snapshot once the log has grown by this many bytes since the last one; "
              "0: only on request");

DEFINE_string(ranking_tz, "UTC",
              "time zone of the ranking windows' days, an IANA name (e.g. Asia/Seoul)");
DEFINE_int32(ranking_retention_days, 2,
             "days a ranking window (board, event ids) lives from the start of its day; events "
             "older are refused (1..400)");

// A zone name (Asia/Seoul: under /usr/share/zoneinfo) or an absolute path, naming a compiled
// zone file (it starts with "TZif"): glibc would take anything else silently as UTC.
bool IsZoneFile(const std::string& name) {
  if (name.empty() || name.find("..") != std::string::npos) return false;
  const std::filesystem::path path =
      name.front() == '/' ? std::filesystem::path(name)
                          : std::filesystem::path("/usr/share/zoneinfo") / name;
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return false;
  std::ifstream file(path, std::ios::binary);
  char magic[4] = {};
  file.read(magic, sizeof(magic));
  return file.gcount() == 4 && std::string_view(magic, 4) == "TZif";
}

int main(int argc, char** argv) {
  gflags::SetUsageMessage("podium-server [--port 7700] [--threads N] [--requirepass secret] ...");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  podium::server::ServerSettings settings;
  settings.bind = FLAGS_bind;
  settings.port = FLAGS_port;
  settings.threads = FLAGS_threads > 0 ? FLAGS_threads
                                       : static_cast<int>(std::thread::hardware_concurrency());
  if (settings.threads <= 0) settings.threads = 1;
  settings.requirepass = FLAGS_requirepass;
  settings.clients_max = FLAGS_maxclients;
  settings.idle_timeout_ms = FLAGS_idle_timeout_sec * 1000;
  if (FLAGS_max_request_bytes < podium::protocol::kUnauthenticatedRequestSizeBytesMax ||
      FLAGS_max_request_bytes > podium::protocol::kRequestSizeBytesMax) {
    LOG(ERROR) << "--max-request-bytes must be in "
               << podium::protocol::kUnauthenticatedRequestSizeBytesMax << ".."
               << podium::protocol::kRequestSizeBytesMax;
    return 2;
  }
  settings.request_bytes_max = FLAGS_max_request_bytes;
  if (FLAGS_client_output_pause_bytes < podium::server::kReadChunkBytes ||
      FLAGS_client_output_max_bytes <= FLAGS_client_output_pause_bytes) {
    LOG(ERROR) << "--client-output-pause-bytes must be at least " << podium::server::kReadChunkBytes
               << ", and --client-output-max-bytes above it";
    return 2;
  }
  settings.output_pause_bytes = FLAGS_client_output_pause_bytes;
  settings.output_bytes_max = FLAGS_client_output_max_bytes;
  if (FLAGS_client_output_stall_sec < 1) {
    LOG(ERROR) << "--client-output-stall-sec must be at least 1";
    return 2;
  }
  settings.output_stall_ms_max = FLAGS_client_output_stall_sec * 1000;
  settings.data_dir = FLAGS_data_dir;
  if (FLAGS_fsync == "always") {
    settings.fsync = podium::storage::FsyncPolicy::kAlways;
  } else if (FLAGS_fsync == "everysec") {
    settings.fsync = podium::storage::FsyncPolicy::kEverySecond;
  } else if (FLAGS_fsync == "no") {
    settings.fsync = podium::storage::FsyncPolicy::kNo;
  } else {
    LOG(ERROR) << "--fsync must be always, everysec or no";
    return 2;
  }
  settings.truncate_corrupt_wal = FLAGS_truncate_corrupt_wal;
  settings.snapshot_wal_bytes = FLAGS_snapshot_wal_bytes;
  // The ranking engine reads days through localtime_r: the zone is the process's TZ, set
  // here before any thread starts. An unknown name would silently mean UTC, so it is checked.
  if (FLAGS_ranking_tz != "UTC" && !IsZoneFile(FLAGS_ranking_tz)) {
    LOG(ERROR) << "--ranking-tz: unknown time zone '" << FLAGS_ranking_tz
               << "' (no zone file of that name in /usr/share/zoneinfo; is tzdata installed?)";
    return 2;
  }
  if (FLAGS_ranking_retention_days < 1 || FLAGS_ranking_retention_days > 400) {
    LOG(ERROR) << "--ranking-retention-days must be in 1..400";
    return 2;
  }
  settings.ranking.retention_ms = int64_t{FLAGS_ranking_retention_days} * 24 * 3600 * 1000;
  settings.ranking.spare_lead_ms = podium::storage::kRankingSpareLeadMs;
  setenv("TZ", FLAGS_ranking_tz.c_str(), 1);
  tzset();
  if (settings.port <= 0 || settings.port > 65535) {
    LOG(ERROR) << "--port must be in 1..65535";
    return 2;
  }

  // Signals go to this thread only: block them before the loops start, then wait for one.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  podium::server::Server server(settings);
  const std::string error = server.Start();
  if (!error.empty()) {
    LOG(ERROR) << error;
    std::_Exit(1);  // the loops never ran; nothing to clean up
  }
  LOG(INFO) << "podium-server ready on " << settings.bind << ":" << settings.port << " with "
            << settings.threads << " event loops";

  int received = 0;
  sigwait(&signals, &received);
  LOG(INFO) << "signal " << received << ": shutting down";
  server.Stop();
  LOG(INFO) << "bye";
  return 0;
}
