// podium-batch: builds the weekly or monthly ranking board of a period and swaps it in
// (client/rank_batch.h; docs/rankings.md, "Weekly and monthly boards").
//
//   podium-batch weekly  --date 2026-12-06 --server 127.0.0.1:7700
//   podium-batch monthly --ns all --top 100 --every 10m
//
// On a terminal it draws a progress bar on stderr; when stdout is not a terminal it prints one
// JSON line per run there. Exit status: 0 done, 1 a run failed (the reason on stderr), 2 a bad
// command line. With --every it runs until killed, reporting failed runs and going on.
#include <gflags/gflags.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/rank_batch.h"
#include "protocol/rank_periods.h"

DEFINE_string(server, "127.0.0.1:7700", "the server, host:port");
DEFINE_string(server_pass, "", "password to AUTH with after connecting (also --server-pass)");
DEFINE_string(ns, "all", "the ranking namespace");
DEFINE_string(date, "",
              "a day of the period, YYYY-MM-DD; default: today in this process's TZ (give it "
              "the server's --ranking-tz)");
DEFINE_int64(top, 100, "products kept on the board, 1..10000");
DEFINE_string(every, "", "run again after this long (e.g. 30s, 10m, 1h) until killed");
DEFINE_int64(timeout_ms, 30000, "give up waiting for a reply after this long");

namespace podium::client {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kProgressBarWidth = 30;

const char kUsage[] =
    "podium-batch weekly|monthly [--date YYYY-MM-DD] [--server host:port] [--server-pass p] "
    "[--ns all] [--top 100] [--every 10m]";

int32_t Today() {
  const time_t now = std::time(nullptr);
  struct tm local {};
  localtime_r(&now, &local);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &local);
  return *protocol::ParseIsoDate(text);
}

// "30s", "10m", "1h" -> seconds; nullopt otherwise.
std::optional<int64_t> ParseInterval(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    default: return std::nullopt;
  }
  int64_t value = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || value > 1'000'000) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  if (value == 0) return std::nullopt;
  return value * unit;
}

void DrawProgress(const std::string& period, const RankBatchProgress& progress) {
  const int filled = progress.days == 0 ? 0 : kProgressBarWidth * progress.days_done / progress.days;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kProgressBarWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %d/%d days, %llu products", period.c_str(), bar.c_str(),
               progress.days_done, progress.days,
               static_cast<unsigned long long>(progress.products));
  std::fflush(stderr);
}

// One run: connects, builds and publishes; prints the summary. Returns the exit status.
int RunOnce(const ClientOptions& options, const std::string& mode, int32_t date) {
  RankBatchOptions batch;
  batch.ns = FLAGS_ns;
  batch.top = FLAGS_top;
  batch.period = mode == "weekly" ? protocol::RankWeekOf(date) : protocol::RankMonthOf(date);
  const bool bar = ::isatty(STDERR_FILENO);

  Result<Client> client = Client::Connect(options);
  Result<RankBatchSummary> summary =
      client.ok() ? RunRankBatch(client.value(), batch,
                                 [&](const RankBatchProgress& progress) {
                                   if (bar) DrawProgress(batch.period.name, progress);
                                 })
                  : Result<RankBatchSummary>(client.status());
  if (bar) std::fputc('\n', stderr);
  if (!summary.ok()) {
    // The server's refusals read as themselves; transport failures name their kind.
    const Status& status = summary.status();
    std::cerr << "podium-batch: " << mode << " " << batch.period.name << " failed: "
              << (status.code() == ErrorCode::kInvalidArgument ? status.message()
                                                               : status.ToString())
              << std::endl;
    return kExitFailed;
  }
  const RankBatchSummary& s = summary.value();
  if (::isatty(STDOUT_FILENO)) {
    std::printf("published %s %s: %llu products from %d days (%llu products read) in %.2f s\n",
                batch.ns.c_str(), batch.period.name.c_str(),
                static_cast<unsigned long long>(s.published), s.days,
                static_cast<unsigned long long>(s.products), s.seconds);
  } else {
    const nlohmann::ordered_json line = {
        {"mode", mode},
        {"ns", batch.ns},
        {"period", batch.period.name},
        {"first_day", protocol::RankDayName(batch.period.first_day)},
        {"last_day", protocol::RankDayName(batch.period.last_day)},
        {"days", s.days},
        {"products", s.products},
        {"published", s.published},
        {"weights", {{"view", s.view_weight}, {"like", s.like_weight}, {"order", s.order_weight}}},
        {"seconds", s.seconds}};
    std::printf("%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  std::fflush(stdout);
  return 0;
}

int Main(int argc, char** argv) {
  gflags::SetUsageMessage(kUsage);
  const auto usage = [](const std::string& why) {
    std::cerr << "podium-batch: " << why << "\nusage: " << kUsage << std::endl;
    return kExitUsage;
  };
  // Flags are set one by one here rather than by gflags' parser, which exits with 1 on a bad
  // value: a bad command line is 2. Names take '-' or '_' (--server-pass, --server_pass).
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      gflags::ShowUsageWithFlagsRestrict(argv[0], "podium_batch");
      return 0;
    }
    if (!arg.starts_with("-") || arg == "-") {
      positional.push_back(arg);
      continue;
    }
    const std::string body = arg.substr(arg.starts_with("--") ? 2 : 1);
    const size_t equals = body.find('=');
    std::string name = body.substr(0, equals);
    std::replace(name.begin(), name.end(), '-', '_');
    gflags::CommandLineFlagInfo info;
    if (!gflags::GetCommandLineFlagInfo(name.c_str(), &info)) {
      return usage("unknown flag " + arg);
    }
    std::string value;
    if (equals != std::string::npos) {
      value = body.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return usage("--" + name + " needs a value");
    }
    if (gflags::SetCommandLineOption(name.c_str(), value.c_str()).empty()) {
      return usage("bad value '" + value + "' for --" + name);
    }
  }
  if (positional.size() != 1) return usage("give one mode, weekly or monthly");
  const std::string mode = positional[0];
  if (mode != "weekly" && mode != "monthly") return usage("unknown mode '" + mode + "'");
  std::optional<int32_t> date;
  if (!FLAGS_date.empty()) {
    date = protocol::ParseIsoDate(FLAGS_date);
    if (!date.has_value()) return usage("--date must be a real date YYYY-MM-DD");
  }
  if (FLAGS_top < 1 || FLAGS_top > kRankBatchTopMax) {
    return usage("--top must be 1.." + std::to_string(kRankBatchTopMax));
  }
  if (FLAGS_ns.empty()) return usage("--ns must not be empty");
  std::optional<int64_t> every;
  if (!FLAGS_every.empty()) {
    every = ParseInterval(FLAGS_every);
    if (!every.has_value()) return usage("--every must be a number and s, m or h, e.g. 10m");
  }
  Result<ServerAddress> address = ParseServerAddress(FLAGS_server);
  if (!address.ok()) return usage("--server: " + address.status().message());

  ClientOptions options;
  options.host = address->host;
  options.port = address->port;
  options.password = FLAGS_server_pass;
  options.io_timeout_ms = FLAGS_timeout_ms;
  options.reconnect_attempts = 0;
  if (Status valid = ValidateOptions(options); !valid.ok()) return usage(valid.message());

  for (;;) {
    const int status = RunOnce(options, mode, date.value_or(Today()));
    if (!every.has_value()) return status;
    std::this_thread::sleep_for(std::chrono::seconds(*every));
  }
}

}  // namespace
}  // namespace podium::client

int main(int argc, char** argv) { return podium::client::Main(argc, argv); }
