// Opcodes: the u16 that names a command in a binary request frame, and the name the same
// command has over RESP. kCommandNames is the one list of commands both protocols know; the
// server's command table is keyed by Opcode, and a RESP request is mapped onto it by name.
//
// Numbers are grouped by family, each family with room to grow, and are a published contract
// (docs/protocol.md, "Opcodes"): never renumber or reuse one, only add.
//   0          never a command (kNone: "not in the table")
//   1-15       connection      16-63    records and counters
//   64-95      stock           96-159   sorted sets
//   160-65535  unassigned: future families (orders, holds, ranking windows, events) each take
//              a block of 32 or 64.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace podium::protocol {

enum class Opcode : uint16_t {
  kNone = 0,
  // Connection.
  kPing = 1,
  kAuth = 2,
  kInfo = 3,
  kCommand = 4,
  kQuit = 5,
  kEcho = 6,
  kConfig = 7,
  kSave = 8,
  kBgSave = 9,
  kLastSave = 10,
  // Records and counters.
  kGet = 16,
  kSet = 17,
  kDel = 18,
  kExists = 19,
  kExpire = 20,
  kPExpire = 21,
  kTtl = 22,
  kPTtl = 23,
  kIncrBy = 24,
  kDecrBy = 25,
  kIncr = 26,
  kDecr = 27,
  // Stock.
  kStockSet = 64,
  kStockAdd = 65,
  kStockGet = 66,
  kStockReserve = 67,
  kStockRelease = 68,
  // Sorted sets.
  kZAdd = 96,
  kZIncrBy = 97,
  kZScore = 98,
  kZMScore = 99,
  kZRank = 100,
  kZRevRank = 101,
  kZRange = 102,
  kZRevRange = 103,
  kZRangeByScore = 104,
  kZRevRangeByScore = 105,
  kZCard = 106,
  kZCount = 107,
  kZRem = 108,
  kZUnionStore = 109,
  kBrandPut = 160,
  kProductPut = 161,
  kProductGet = 162,
  kProductList = 163,
  kPointsGet = 168,
  kPointsCharge = 169,
  kCouponIssue = 172,
  kCouponGet = 173,
  kOrderPlace = 176,
  kOrderConfirm = 177,
  kOrderCancel = 178,
  kOrderGet = 179,
  kOrderList = 180,
  kLikeAdd = 184,
  kLikeDel = 185,
  kLikeCount = 186,
  kLikeList = 187,
  kRankEvent = 224,
  kRankEvents = 225,
  kRankWeights = 226,
  kRankTop = 227,
  kRankOf = 228,
  kRankOfMany = 229,
  kRankCard = 230,
  kRankSignals = 231,
  kRankScan = 232,
  kRankPublish = 233,
};

struct CommandName {
  Opcode opcode;
  std::string_view name;  // upper case, as documented; RESP matches it ignoring ASCII case
};

// Sorted by opcode.
inline constexpr std::array<CommandName, 68> kCommandNames = {{
    {Opcode::kPing, "PING"},
    {Opcode::kAuth, "AUTH"},
    {Opcode::kInfo, "INFO"},
    {Opcode::kCommand, "COMMAND"},
    {Opcode::kQuit, "QUIT"},
    {Opcode::kEcho, "ECHO"},
    {Opcode::kConfig, "CONFIG"},
    {Opcode::kSave, "SAVE"},
    {Opcode::kBgSave, "BGSAVE"},
    {Opcode::kLastSave, "LASTSAVE"},
    {Opcode::kGet, "GET"},
    {Opcode::kSet, "SET"},
    {Opcode::kDel, "DEL"},
    {Opcode::kExists, "EXISTS"},
    {Opcode::kExpire, "EXPIRE"},
    {Opcode::kPExpire, "PEXPIRE"},
    {Opcode::kTtl, "TTL"},
    {Opcode::kPTtl, "PTTL"},
    {Opcode::kIncrBy, "INCRBY"},
    {Opcode::kDecrBy, "DECRBY"},
    {Opcode::kIncr, "INCR"},
    {Opcode::kDecr, "DECR"},
    {Opcode::kStockSet, "STOCK.SET"},
    {Opcode::kStockAdd, "STOCK.ADD"},
    {Opcode::kStockGet, "STOCK.GET"},
    {Opcode::kStockReserve, "STOCK.RESERVE"},
    {Opcode::kStockRelease, "STOCK.RELEASE"},
    {Opcode::kZAdd, "ZADD"},
    {Opcode::kZIncrBy, "ZINCRBY"},
    {Opcode::kZScore, "ZSCORE"},
    {Opcode::kZMScore, "ZMSCORE"},
    {Opcode::kZRank, "ZRANK"},
    {Opcode::kZRevRank, "ZREVRANK"},
    {Opcode::kZRange, "ZRANGE"},
    {Opcode::kZRevRange, "ZREVRANGE"},
    {Opcode::kZRangeByScore, "ZRANGEBYSCORE"},
    {Opcode::kZRevRangeByScore, "ZREVRANGEBYSCORE"},
    {Opcode::kZCard, "ZCARD"},
    {Opcode::kZCount, "ZCOUNT"},
    {Opcode::kZRem, "ZREM"},
    {Opcode::kZUnionStore, "ZUNIONSTORE"},
    {Opcode::kBrandPut, "BRAND.PUT"},
    {Opcode::kProductPut, "PRODUCT.PUT"},
    {Opcode::kProductGet, "PRODUCT.GET"},
    {Opcode::kProductList, "PRODUCT.LIST"},
    {Opcode::kPointsGet, "POINTS.GET"},
    {Opcode::kPointsCharge, "POINTS.CHARGE"},
    {Opcode::kCouponIssue, "COUPON.ISSUE"},
    {Opcode::kCouponGet, "COUPON.GET"},
    {Opcode::kOrderPlace, "ORDER.PLACE"},
    {Opcode::kOrderConfirm, "ORDER.CONFIRM"},
    {Opcode::kOrderCancel, "ORDER.CANCEL"},
    {Opcode::kOrderGet, "ORDER.GET"},
    {Opcode::kOrderList, "ORDER.LIST"},
    {Opcode::kLikeAdd, "LIKE.ADD"},
    {Opcode::kLikeDel, "LIKE.DEL"},
    {Opcode::kLikeCount, "LIKE.COUNT"},
    {Opcode::kLikeList, "LIKE.LIST"},
    {Opcode::kRankEvent, "RANK.EVENT"},
    {Opcode::kRankEvents, "RANK.EVENTS"},
    {Opcode::kRankWeights, "RANK.WEIGHTS"},
    {Opcode::kRankTop, "RANK.TOP"},
    {Opcode::kRankOf, "RANK.OF"},
    {Opcode::kRankOfMany, "RANK.OFMANY"},
    {Opcode::kRankCard, "RANK.CARD"},
    {Opcode::kRankSignals, "RANK.SIGNALS"},
    {Opcode::kRankScan, "RANK.SCAN"},
    {Opcode::kRankPublish, "RANK.PUBLISH"},
}};

// The command with this opcode, or nullptr (kNone and numbers not in the table).
[[nodiscard]] const CommandName* FindCommand(Opcode opcode);

// The command with this name, ignoring ASCII case ("zadd", "ZAdd"), or nullptr.
// O(log n) comparisons, no allocation.
[[nodiscard]] const CommandName* FindCommand(std::string_view name);

}  // namespace podium::protocol
