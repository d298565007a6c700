// RunRankBatch: builds one weekly or monthly board (docs/rankings.md, "Weekly and monthly
// boards") as an ordinary client of the server, and swaps it in with one RANK.PUBLISH.
//
//   1. RANK.WEIGHTS ns: the weights in force;
//   2. per day of the period, in day order, RANK.SCAN ns day cursor kRankBatchScanCount until
//      the cursor is 0, summing views, likes and order_sum per product in memory;
//   3. score = view x views + like x likes + order x order_sum; the top `top` products (equal
//      scores: the higher product id first, as RANK.TOP orders them);
//   4. RANK.PUBLISH ns period product score ... : readers see the old board or the new one.
//
// Deterministic: the same raw signals give the same board bit for bit (sums in day order, then
// in the server's order within a day). Errors: the transport's, or kInvalidArgument carrying
// the server's error reply (a day no longer kept, a bad name), with the command that got it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "client/client.h"
#include "client/result.h"
#include "protocol/rank_periods.h"

namespace podium::client {

// Products asked per RANK.SCAN: a few hundred KiB per reply.
inline constexpr int64_t kRankBatchScanCount = 16384;
// The most products a board may keep (the server's limit on RANK.PUBLISH).
inline constexpr int64_t kRankBatchTopMax = 10000;

struct RankBatchOptions {
  std::string ns = "all";
  protocol::RankPeriod period;
  int64_t top = 100;  // 1..kRankBatchTopMax
};

struct RankBatchProgress {
  int days_done = 0;
  int days = 0;
  uint64_t products = 0;  // distinct products summed so far
};

struct RankBatchSummary {
  int days = 0;
  uint64_t products = 0;   // distinct products in the period
  uint64_t published = 0;  // products on the board
  double view_weight = 0;
  double like_weight = 0;
  double order_weight = 0;
  double seconds = 0;
};

Result<RankBatchSummary> RunRankBatch(Client& client, const RankBatchOptions& options,
                                      const std::function<void(const RankBatchProgress&)>&
                                          on_progress);

}  // namespace podium::client
