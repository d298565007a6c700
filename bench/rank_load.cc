// rank_load: loads ranking events for many days, fast, for bench/batch_bench.sh (podium-batch
// over a 30-day month of a million products a day).
//
//   rank_load --server 127.0.0.1:7796 --first_day 2026-11-01 --days 30 --products 1000000
//
// Every product gets one event per day, at noon UTC of the day: VIEW, LIKE or ORDER (qty 1..3,
// unit price 100..100,099) by (product + day) % 3, with id d<day>p<product>. Sent as RANK.EVENTS
// batches over the binary protocol, --pipeline batches in flight per connection, the products
// split over --threads connections. Prints one JSON line: events, errors, seconds.
#include <gflags/gflags.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "protocol/rank_periods.h"

DEFINE_string(server, "127.0.0.1:7700", "host:port");
DEFINE_string(server_pass, "", "password, if the server wants one");
DEFINE_string(ns, "all", "ranking namespace");
DEFINE_string(first_day, "", "first day, YYYY-MM-DD");
DEFINE_int32(days, 30, "days");
DEFINE_uint64(products, 1'000'000, "products a day");
DEFINE_int32(threads, 2, "connections");
DEFINE_int32(batch, 1000, "events per RANK.EVENTS");
DEFINE_int32(pipeline, 4, "RANK.EVENTS in flight per connection");

namespace {

using podium::protocol::Argument;

constexpr int64_t kDayMs = 86'400'000;

// Sends the events of products [first, end) of day `day`; counts error replies.
bool LoadRange(podium::client::Client& client, int32_t day, uint64_t first, uint64_t end,
               std::atomic<uint64_t>* errors) {
  const int64_t ts = int64_t{day} * kDayMs + kDayMs / 2;
  static const char* const kKinds[] = {"VIEW", "LIKE", "ORDER"};
  std::vector<std::string> ids;
  std::vector<Argument> args;
  podium::client::Pipeline pipeline = client.Pipeline();
  for (uint64_t product = first; product < end;) {
    const uint64_t batch_end = std::min(end, product + static_cast<uint64_t>(FLAGS_batch));
    ids.clear();
    for (uint64_t p = product; p < batch_end; ++p) {
      ids.push_back("d" + std::to_string(day) + "p" + std::to_string(p));
    }
    args = {Argument::Bytes(FLAGS_ns), Argument::Int64(static_cast<int64_t>(batch_end - product))};
    for (uint64_t p = product; p < batch_end; ++p) {
      const int kind = static_cast<int>((p + static_cast<uint64_t>(day)) % 3);
      args.push_back(Argument::Bytes(ids[p - product]));
      args.push_back(Argument::Bytes(kKinds[kind]));
      args.push_back(Argument::Int64(static_cast<int64_t>(p)));
      args.push_back(Argument::Int64(ts));
      args.push_back(Argument::Int64(kind == 2 ? static_cast<int64_t>(1 + p % 3) : 0));
      args.push_back(Argument::Int64(kind == 2 ? static_cast<int64_t>(100 + p % 100'000) : 0));
    }
    pipeline.Add(podium::protocol::Opcode::kRankEvents, args);
    product = batch_end;
    if (pipeline.size() == static_cast<size_t>(FLAGS_pipeline) || product == end) {
      podium::client::PipelineResult batch = pipeline.Execute();
      if (!batch.ok()) {
        std::fprintf(stderr, "rank_load: %s (%zu replies arrived)\n",
                     batch.status.ToString().c_str(), batch.replies.size());
        return false;
      }
      for (const auto& reply : batch.replies) {
        if (reply.type != podium::protocol::ValueType::kArray) {
          std::fprintf(stderr, "rank_load: %s\n", reply.ToString().c_str());
          ++*errors;
          continue;
        }
        for (const auto& element : reply.elements) {
          if (element.type != podium::protocol::ValueType::kInt64 || element.int64 != 1) ++*errors;
        }
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const auto first_day = podium::protocol::ParseIsoDate(FLAGS_first_day);
  auto address = podium::client::ParseServerAddress(FLAGS_server);
  if (!first_day.has_value() || !address.ok()) {
    std::fprintf(stderr, "rank_load: give --first_day YYYY-MM-DD and --server host:port\n");
    return 2;
  }
  podium::client::ClientOptions options;
  options.host = address->host;
  options.port = address->port;
  options.password = FLAGS_server_pass;
  options.io_timeout_ms = 120'000;
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  for (int32_t day = *first_day; day < *first_day + FLAGS_days; ++day) {
    std::vector<std::thread> threads;
    for (int t = 0; t < FLAGS_threads; ++t) {
      threads.emplace_back([&, t] {
        auto client = podium::client::Client::Connect(options);
        const uint64_t share = FLAGS_products / static_cast<uint64_t>(FLAGS_threads) + 1;
        const uint64_t first = share * static_cast<uint64_t>(t);
        const uint64_t end = std::min<uint64_t>(FLAGS_products, first + share);
        if (!client.ok() || (first < end && !LoadRange(*client, day, first, end, &errors))) {
          failed = true;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    if (failed) return 1;
    std::fprintf(stderr, "rank_load: %s done\n", podium::protocol::RankDayName(day).c_str());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"events\":%llu,\"errors\":%llu,\"seconds\":%.1f}\n",
              static_cast<unsigned long long>(FLAGS_products * static_cast<uint64_t>(FLAGS_days)),
              static_cast<unsigned long long>(errors.load()), seconds);
  return errors == 0 ? 0 : 1;
}
