// rank_latency: a paced RANK.EVENT load with a C++ client, for the rollover figure of
// bench/rankings_bench.sh (LOAD_CLIENT=cpp), where the Python driver's own noise was too close
// to the target to tell the server's tail from the client's.
//
//   rank_latency --server 127.0.0.1:7772 --connections 50 --rate 30000 --window 20261207
//
// Each connection has a thread sending one RANK.EVENT (VIEW of a uniformly drawn product
// 10^12 + k, k < --products, a fresh event id, now's timestamp) every connections / rate
// seconds; a request's latency runs from when it was due, so a stall also counts against the
// requests it delayed. Another connection polls RANK.CARD of --window every 20 ms: BUSY while
// the window is being built, its size once built. The load runs until --tail seconds after the
// build is complete (or --max_seconds), then prints the latency of the requests due before,
// during and after the build, in the Python driver's format.
#include <gflags/gflags.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"

DEFINE_string(server, "127.0.0.1:7700", "host:port");
DEFINE_string(server_pass, "", "password, if the server wants one");
DEFINE_string(ns, "all", "ranking namespace");
DEFINE_string(window, "", "the window whose build is watched (yyyyMMdd)");
DEFINE_string(tag, "c", "event id prefix (ids must not repeat across runs)");
DEFINE_int32(connections, 50, "connections, one thread each");
DEFINE_double(rate, 30000, "requests per second over all connections");
DEFINE_uint64(products, 1'000'000, "products drawn from");
DEFINE_double(max_seconds, 240, "the longest run");
DEFINE_double(tail, 2, "seconds of load after the build is complete");
DEFINE_double(slow_ms, 0, "when > 0, also print where the requests slower than this fell, in "
              "100 ms buckets from 1 s before the build to its end");

namespace {

using Clock = std::chrono::steady_clock;
using podium::protocol::ValueType;

constexpr uint64_t kProductBase = 1'000'000'000'000;
constexpr auto kProbeInterval = std::chrono::milliseconds(20);

struct Sample {
  Clock::time_point due;
  double latency_ms;
};

double Percentile(std::vector<double>& values, double fraction) {
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

// "N requests, p50 .. p99 .. p99.9 .. max .. ms"; fills p999 and max.
std::string Describe(std::vector<double> latencies, double* p999, double* max) {
  if (latencies.empty()) return "no requests";
  char text[160];
  const double p50 = Percentile(latencies, 0.5);
  const double p99 = Percentile(latencies, 0.99);
  *p999 = Percentile(latencies, 0.999);
  *max = *std::max_element(latencies.begin(), latencies.end());
  std::snprintf(text, sizeof(text), "%zu requests, p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms",
                latencies.size(), p50, p99, *p999, *max);
  return text;
}

// One line per 100 ms bucket (by due time, from 1 s before `building`) holding a request slower
// than --slow_ms: its offset from `building`, how many, and the slowest.
void PrintSlow(const std::vector<std::vector<Sample>>& samples, Clock::time_point building,
               Clock::time_point built) {
  constexpr double kBucketMs = 100;
  const Clock::time_point from = building - std::chrono::seconds(1);
  const auto buckets = static_cast<size_t>(
      std::chrono::duration<double, std::milli>(built - from).count() / kBucketMs + 1);
  std::vector<uint64_t> slow(buckets, 0);
  std::vector<double> slowest(buckets, 0);
  for (const auto& mine : samples) {
    for (const Sample& sample : mine) {
      if (sample.latency_ms <= FLAGS_slow_ms || sample.due < from || sample.due > built) continue;
      const auto bucket = static_cast<size_t>(
          std::chrono::duration<double, std::milli>(sample.due - from).count() / kBucketMs);
      if (bucket >= buckets) continue;
      ++slow[bucket];
      slowest[bucket] = std::max(slowest[bucket], sample.latency_ms);
    }
  }
  std::printf("  requests slower than %.1f ms, by due time from the build's start:\n", FLAGS_slow_ms);
  for (size_t b = 0; b < buckets; ++b) {
    if (slow[b] == 0) continue;
    std::printf("    %+7.1f s: %4llu, slowest %.2f ms\n",
                (static_cast<double>(b) * kBucketMs - 1000) / 1000,
                static_cast<unsigned long long>(slow[b]), slowest[b]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  auto address = podium::client::ParseServerAddress(FLAGS_server);
  if (!address.ok() || FLAGS_window.empty() || FLAGS_connections < 1 || FLAGS_rate <= 0) {
    std::fprintf(stderr, "rank_latency: give --server host:port, --window, --connections, --rate\n");
    return 2;
  }
  podium::client::ClientOptions options;
  options.host = address->host;
  options.port = address->port;
  options.password = FLAGS_server_pass;
  options.io_timeout_ms = 60'000;

  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(FLAGS_connections / FLAGS_rate));
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(200);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> errors{0};
  std::vector<std::vector<Sample>> samples(static_cast<size_t>(FLAGS_connections));
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_connections; ++c) {
    threads.emplace_back([&, c] {
      auto client = podium::client::Client::Connect(options);
      if (!client.ok()) {
        ++errors;
        return;
      }
      std::mt19937_64 random(static_cast<uint64_t>(c) + 1);
      std::vector<Sample>& mine = samples[static_cast<size_t>(c)];
      Clock::time_point due = start + interval * c / FLAGS_connections;
      for (uint64_t i = 0; !stop; ++i, due += interval) {
        std::this_thread::sleep_until(due);
        const std::string id = FLAGS_tag + std::to_string(c) + ":" + std::to_string(i);
        const int64_t product = static_cast<int64_t>(kProductBase + random() % FLAGS_products);
        const int64_t ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        auto reply = client->Call("RANK.EVENT", FLAGS_ns, id, std::string("VIEW"), product, ts);
        const Clock::time_point done = Clock::now();
        if (!reply.ok() || reply->type != ValueType::kInt64) ++errors;
        mine.push_back({due, std::chrono::duration<double, std::milli>(done - due).count()});
      }
    });
  }

  // The probe: when the window was first seen building, and when it was complete.
  auto probe = podium::client::Client::Connect(options);
  if (!probe.ok()) {
    stop = true;
    for (std::thread& thread : threads) thread.join();
    std::fprintf(stderr, "rank_latency: %s\n", probe.status().ToString().c_str());
    return 1;
  }
  std::optional<Clock::time_point> building;
  std::optional<Clock::time_point> built;
  uint64_t card = 0;
  double longest_probe_ms = 0;
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(FLAGS_max_seconds));
  while (Clock::now() < deadline) {
    const Clock::time_point asked = Clock::now();
    auto reply = probe->Call("RANK.CARD", FLAGS_ns, FLAGS_window);
    const Clock::time_point answered = Clock::now();
    longest_probe_ms = std::max(
        longest_probe_ms, std::chrono::duration<double, std::milli>(answered - asked).count());
    if (!reply.ok()) break;
    if (reply->type == ValueType::kError) {
      if (!building) building = asked;
    } else if (building && reply->type == ValueType::kInt64) {
      built = answered;
      card = static_cast<uint64_t>(reply->int64);
      break;
    }
    std::this_thread::sleep_for(kProbeInterval);
  }
  if (built) {
    std::this_thread::sleep_until(*built + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(FLAGS_tail)));
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();

  std::vector<double> before, during, after;
  uint64_t total = 0;
  for (const auto& mine : samples) {
    for (const Sample& sample : mine) {
      ++total;
      const Clock::time_point end =
          sample.due + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double, std::milli>(sample.latency_ms));
      if (!building || end < *building) {
        before.push_back(sample.latency_ms);
      } else if (!built || sample.due <= *built) {
        during.push_back(sample.latency_ms);
      } else {
        after.push_back(sample.latency_ms);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  C++ client: %.0f requests/s paced over %d connections, %llu requests in %.1f s, "
              "%llu errors\n",
              FLAGS_rate, FLAGS_connections, static_cast<unsigned long long>(total), seconds,
              static_cast<unsigned long long>(errors.load()));
  const double build_s =
      building && built ? std::chrono::duration<double>(*built - *building).count() : 0;
  if (building && built) {
    std::printf("  build of window %s: BUSY first seen %.2f s into the load, complete after %.2f s,"
                " %llu products\n",
                FLAGS_window.c_str(), std::chrono::duration<double>(*building - start).count(),
                build_s, static_cast<unsigned long long>(card));
  } else {
    std::printf("  build of window %s: not seen complete within %.0f s\n", FLAGS_window.c_str(),
                FLAGS_max_seconds);
  }
  std::printf("  probe: longest RANK.CARD reply %.1f ms\n", longest_probe_ms);
  double before_p999 = 0, before_max = 0, during_p999 = 0, during_max = 0, after_p999 = 0,
         after_max = 0;
  std::printf("  before: %s\n", Describe(before, &before_p999, &before_max).c_str());
  std::printf("  during: %s\n", Describe(during, &during_p999, &during_max).c_str());
  std::printf("  after:  %s\n", Describe(after, &after_p999, &after_max).c_str());
  std::printf("summary seconds=%.3f before_p999=%.2f before_max=%.2f during_p999=%.2f "
              "during_max=%.2f after_p999=%.2f after_max=%.2f\n",
              build_s, before_p999, before_max, during_p999, during_max, after_p999, after_max);
  if (FLAGS_slow_ms > 0 && building && built) PrintSlow(samples, *building, *built);
  return errors == 0 && built ? 0 : 1;
}
