#include "client/rank_batch.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <vector>

#include "client/reply_format.h"

namespace podium::client {
namespace {

using protocol::Opcode;
using protocol::ReplyValue;
using protocol::ValueType;

struct Sums {
  int64_t views = 0;
  int64_t likes = 0;
  double order_sum = 0;
};

// An error reply, or a reply of the wrong shape, as a Status naming the command.
Status ReplyError(const Client& client, std::string_view command, const ReplyValue& reply) {
  if (reply.type == ValueType::kError) {
    return Status::InvalidArgument(std::string(command) + ": " +
                                   ErrorLine(reply, client.options().protocol));
  }
  return Status::Protocol(std::string(command) + ": unexpected reply " + reply.ToString());
}

bool IsNumber(const ReplyValue& value) {
  return value.type == ValueType::kInt64 || value.type == ValueType::kFloat64;
}
double NumberOf(const ReplyValue& value) {
  return value.type == ValueType::kInt64 ? static_cast<double>(value.int64) : value.float64;
}

Status ReadWeights(Client& client, const std::string& ns, RankBatchSummary* summary) {
  Result<ReplyValue> reply = client.Call(Opcode::kRankWeights, ns);
  if (!reply.ok()) return reply.status();
  const ReplyValue& pairs = reply.value();
  if (pairs.type != ValueType::kArray || pairs.elements.size() < 8 ||
      pairs.elements.size() % 2 != 0) {
    return ReplyError(client, "RANK.WEIGHTS", pairs);
  }
  for (size_t i = 0; i < pairs.elements.size(); i += 2) {
    const ReplyValue& value = pairs.elements[i + 1];
    if (!IsNumber(value)) return ReplyError(client, "RANK.WEIGHTS", pairs);
    const std::string& name = pairs.elements[i].bytes;
    if (name == "view") summary->view_weight = NumberOf(value);
    if (name == "like") summary->like_weight = NumberOf(value);
    if (name == "order") summary->order_weight = NumberOf(value);
  }
  return Status::Ok();
}

// Adds one day's raw signals to *sums, chunk by chunk.
Status SumDay(Client& client, const std::string& ns, int32_t day,
              std::unordered_map<uint64_t, Sums>* sums) {
  const std::string name = protocol::RankDayName(day);
  int64_t cursor = 0;
  do {
    Result<ReplyValue> reply =
        client.Call(Opcode::kRankScan, ns, name, cursor, kRankBatchScanCount);
    if (!reply.ok()) return reply.status();
    const ReplyValue& chunk = reply.value();
    if (chunk.type != ValueType::kArray || chunk.elements.size() != 2 ||
        chunk.elements[0].type != ValueType::kInt64 ||
        chunk.elements[1].type != ValueType::kArray || chunk.elements[1].elements.size() % 4 != 0) {
      return ReplyError(client, "RANK.SCAN " + name, chunk);
    }
    const std::vector<ReplyValue>& flat = chunk.elements[1].elements;
    for (size_t i = 0; i < flat.size(); i += 4) {
      if (flat[i].type != ValueType::kInt64 || flat[i + 1].type != ValueType::kInt64 ||
          flat[i + 2].type != ValueType::kInt64 || !IsNumber(flat[i + 3])) {
        return ReplyError(client, "RANK.SCAN " + name, chunk);
      }
      Sums& product = (*sums)[static_cast<uint64_t>(flat[i].int64)];
      product.views += flat[i + 1].int64;
      product.likes += flat[i + 2].int64;
      product.order_sum += NumberOf(flat[i + 3]);
    }
    cursor = chunk.elements[0].int64;
  } while (cursor != 0);
  return Status::Ok();
}

}  // namespace

Result<RankBatchSummary> RunRankBatch(Client& client, const RankBatchOptions& options,
                                      const std::function<void(const RankBatchProgress&)>&
                                          on_progress) {
  if (options.top < 1 || options.top > kRankBatchTopMax) {
    return Status::InvalidArgument("top must be 1.." + std::to_string(kRankBatchTopMax));
  }
  const auto start = std::chrono::steady_clock::now();
  RankBatchSummary summary;
  if (Status status = ReadWeights(client, options.ns, &summary); !status.ok()) return status;

  RankBatchProgress progress;
  progress.days = options.period.last_day - options.period.first_day + 1;
  std::unordered_map<uint64_t, Sums> sums;
  for (int32_t day = options.period.first_day; day <= options.period.last_day; ++day) {
    if (Status status = SumDay(client, options.ns, day, &sums); !status.ok()) return status;
    ++progress.days_done;
    progress.products = sums.size();
    if (on_progress) on_progress(progress);
  }

  struct Scored {
    double score;
    uint64_t product;
  };
  std::vector<Scored> scored;
  scored.reserve(sums.size());
  for (const auto& [product, s] : sums) {
    scored.push_back({summary.view_weight * static_cast<double>(s.views) +
                          summary.like_weight * static_cast<double>(s.likes) +
                          summary.order_weight * s.order_sum,
                      product});
  }
  // RANK.TOP's order: score descending, then the higher product id first.
  const auto before = [](const Scored& a, const Scored& b) {
    return a.score != b.score ? a.score > b.score : a.product > b.product;
  };
  const size_t keep = std::min(scored.size(), static_cast<size_t>(options.top));
  std::partial_sort(scored.begin(), scored.begin() + static_cast<ptrdiff_t>(keep), scored.end(),
                    before);

  std::vector<protocol::Argument> args = {protocol::Argument::Bytes(options.ns),
                                          protocol::Argument::Bytes(options.period.name)};
  for (size_t i = 0; i < keep; ++i) {
    args.push_back(protocol::Argument::Int64(static_cast<int64_t>(scored[i].product)));
    args.push_back(protocol::Argument::Float64(scored[i].score));
  }
  Result<ReplyValue> published = client.Call(Opcode::kRankPublish, args);
  if (!published.ok()) return published.status();
  if (published.value().type != ValueType::kInt64) {
    return ReplyError(client, "RANK.PUBLISH " + options.period.name, published.value());
  }
  summary.days = progress.days;
  summary.products = sums.size();
  summary.published = static_cast<uint64_t>(published.value().int64);
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace podium::client
