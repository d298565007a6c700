// podium-bench: the same workload against Podium (binary protocol or RESP) and Redis (RESP),
// through the project's own client library, so the two servers are measured the same way.
//
//   podium-bench --server 127.0.0.1:7700 --workload zincrby --pipeline 64 --threads 2
//   podium-bench --server 127.0.0.1:6379 --resp --workload zincrby ...   # Redis
//
// Each thread owns one connection and sends batches of --pipeline requests, waiting for each
// batch's replies before the next (so --pipeline is the depth in flight per connection). It
// prints one JSON line: requests, seconds, requests per second, and batch latency percentiles.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gflags/gflags.h>

#include "client/client.h"
#include "client/client_options.h"

DEFINE_string(server, "127.0.0.1:7700", "host:port of the server to measure");
DEFINE_string(server_pass, "", "password, if the server wants one");
DEFINE_bool(resp, false, "speak RESP (required for Redis) instead of Podium's binary protocol");
DEFINE_string(workload, "zincrby", "zincrby | zrevrange | decrby | reserve");
DEFINE_string(key, "bench:board", "key of the board or counter");
DEFINE_uint64(members, 1'000'000, "members drawn uniformly for zincrby");
DEFINE_int32(threads, 2, "threads, one connection each");
DEFINE_int32(pipeline, 64, "requests per batch on each connection");
DEFINE_double(seconds, 5, "how long to run");

namespace {

using podium::client::Client;
using podium::client::ClientOptions;

struct ThreadResult {
  uint64_t requests = 0;
  uint64_t errors = 0;
  std::vector<double> batch_us;
};

// Queues one request of the workload; `random` picks members.
void AddRequest(podium::client::Pipeline& pipeline, std::mt19937_64& random) {
  const std::string& key = FLAGS_key;
  if (FLAGS_workload == "zincrby") {
    pipeline.Add("ZINCRBY", key, std::string("1"), std::to_string(random() % FLAGS_members));
  } else if (FLAGS_workload == "zrevrange") {
    pipeline.Add("ZREVRANGE", key, std::string("0"), std::string("19"), std::string("WITHSCORES"));
  } else if (FLAGS_workload == "decrby") {
    pipeline.Add("DECRBY", key, std::string("1"));
  } else {
    pipeline.Add("STOCK.RESERVE", std::string("1"), std::string("1"));
  }
}

ThreadResult Run(const ClientOptions& options, int thread_index,
                 std::chrono::steady_clock::time_point deadline) {
  ThreadResult result;
  auto client = Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    result.errors = 1;
    return result;
  }
  std::mt19937_64 random(static_cast<uint64_t>(thread_index) + 1);
  while (std::chrono::steady_clock::now() < deadline) {
    podium::client::Pipeline pipeline = client->Pipeline();
    for (int i = 0; i < FLAGS_pipeline; ++i) AddRequest(pipeline, random);
    const auto start = std::chrono::steady_clock::now();
    podium::client::PipelineResult batch = pipeline.Execute();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (!batch.ok()) {
      std::fprintf(stderr, "batch: %s (%zu replies arrived)\n", batch.status.ToString().c_str(),
                   batch.replies.size());
      ++result.errors;
      break;
    }
    for (const auto& reply : batch.replies) {
      if (reply.type == podium::protocol::ValueType::kError) ++result.errors;
    }
    result.requests += batch.replies.size();
    result.batch_us.push_back(std::chrono::duration<double, std::micro>(elapsed).count());
  }
  return result;
}

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  ClientOptions options;
  auto address = podium::client::ParseServerAddress(FLAGS_server);
  if (!address.ok()) {
    std::fprintf(stderr, "--server: %s\n", address.status().ToString().c_str());
    return 2;
  }
  options.host = address->host;
  options.port = address->port;
  options.password = FLAGS_server_pass;
  options.protocol =
      FLAGS_resp ? podium::client::ClientProtocol::kResp : podium::client::ClientProtocol::kBinary;

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(FLAGS_seconds));
  std::vector<ThreadResult> results(static_cast<size_t>(FLAGS_threads));
  std::vector<std::thread> threads;
  for (int i = 0; i < FLAGS_threads; ++i) {
    threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = Run(options, i, deadline); });
  }
  for (auto& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  ThreadResult total;
  for (auto& result : results) {
    total.requests += result.requests;
    total.errors += result.errors;
    total.batch_us.insert(total.batch_us.end(), result.batch_us.begin(), result.batch_us.end());
  }
  std::printf(
      "{\"workload\":\"%s\",\"protocol\":\"%s\",\"threads\":%d,\"pipeline\":%d,"
      "\"requests\":%llu,\"errors\":%llu,\"seconds\":%.2f,\"requests_per_second\":%.0f,"
      "\"batch_p50_us\":%.0f,\"batch_p99_us\":%.0f}\n",
      FLAGS_workload.c_str(), FLAGS_resp ? "resp" : "binary", FLAGS_threads, FLAGS_pipeline,
      static_cast<unsigned long long>(total.requests),
      static_cast<unsigned long long>(total.errors), seconds, total.requests / seconds,
      Percentile(total.batch_us, 0.5), Percentile(total.batch_us, 0.99));
  return total.errors == 0 ? 0 : 1;
}
