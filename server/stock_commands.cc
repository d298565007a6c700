// Stock commands: STOCK.SET, STOCK.ADD, STOCK.GET, STOCK.RESERVE, STOCK.RELEASE.
//
// Thin wrappers over storage::StockTable, which is lock-free: these handlers take no shard lock
// (the product id is not a key of the Keyspace). A change logs the counter's new units; with a
// log open it runs under the product's stripe lock so records keep the counter's order
// (Database::WithStockOrder), and STOCK.GET reads under it too, so that it never shows a
// change whose record is not queued yet. A SOLDOUT changes nothing and logs nothing. Every
// argument is read before the table is touched, and the table itself checks units against
// [0 or 1, kStockUnitsMax] and changes nothing on bad input, so an error reply never follows a
// change.
//
// Replies (docs/protocol.md, "Commands"):
//   STOCK.SET product units      -> :units
//   STOCK.ADD product units      -> :units now (creates the counter at `units` if missing)
//   STOCK.GET product [WITHHELD] -> :units, or nil for a product that has no counter. Nil
//                                   rather than NOTFOUND because Redis clients expect GET of a
//                                   missing thing to be nil and treat errors as failures.
//                                   WITHHELD: [units or nil, units held by pending orders]
//   STOCK.RESERVE product units  -> :units left; -SOLDOUT <available> when fewer than `units`
//                                   are available (nothing taken); -NOTFOUND for an unknown
//                                   product
//   STOCK.RELEASE product units  -> :units now; -NOTFOUND for an unknown product
//
// For COMMAND the product id is the key (first = last = 1): a cluster-aware client routes a
// product's stock commands by it, as it would a key.
#include <cstdint>
#include <string>

#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "storage/database.h"
#include "storage/effects.h"
#include "storage/stock_table.h"

namespace podium::server {
namespace {

using protocol::StatusCode;

// Reads `product units`; false once an error is replied.
bool ReadProductAndUnits(CommandContext& context, uint64_t* product, int64_t* units) {
  return ReadProductId(context, 0, product) && ReadInt64(context, 1, units);
}

void StockSetCommand(CommandContext& context) {
  uint64_t product = 0;
  int64_t units = 0;
  if (!ReadProductAndUnits(context, &product, &units)) return;
  storage::Database& db = context.db;
  const storage::Status status = db.WithStockOrder(product, [&] {
    storage::Status set = db.stock().Set(product, units);
    if (set.ok()) storage::LogStockSet(db.log(), product, units);
    return set;
  });
  if (!status.ok()) {
    ReplyStatus(context, status);
    return;
  }
  context.reply.Integer(units);
}

void StockAddCommand(CommandContext& context) {
  uint64_t product = 0;
  int64_t units = 0;
  if (!ReadProductAndUnits(context, &product, &units)) return;
  storage::Database& db = context.db;
  storage::Result<int64_t> added = db.WithStockOrder(product, [&] {
    storage::Result<int64_t> result = db.stock().Add(product, units);
    if (result.ok()) storage::LogStockSet(db.log(), product, *result);
    return result;
  });
  if (!added.ok()) {
    ReplyStatus(context, added.status());
    return;
  }
  context.reply.Integer(*added);
}

void StockGetCommand(CommandContext& context) {
  uint64_t product = 0;
  if (!ReadProductId(context, 0, &product)) return;
  const bool with_held = context.argc() == 2;
  if (context.argc() > 2) {
    ReplyArityError(context.reply, "STOCK.GET");
    return;
  }
  if (with_held && !ArgumentIs(context, 1, "WITHHELD")) {
    ReplySyntaxError(context);
    return;
  }
  // Under the product's stripe, with a log open: a reservation's change and its record are
  // then both seen or both not, so the reply's durable hold covers what it shows.
  storage::Result<int64_t> units =
      context.db.WithStockOrder(product, [&] { return context.db.stock().Get(product); });
  if (with_held) {
    if (!units.ok() && units.status().code() != storage::StatusCode::kNotFound) {
      ReplyStatus(context, units.status());
      return;
    }
    context.reply.ArrayHeader(2);
    if (units.ok()) {
      context.reply.Integer(*units);
    } else {
      context.reply.Nil();
    }
    context.reply.Integer(context.db.orders().Held(product));
    return;
  }
  if (units.ok()) {
    context.reply.Integer(*units);
  } else if (units.status().code() == storage::StatusCode::kNotFound) {
    context.reply.Nil();
  } else {
    ReplyStatus(context, units.status());
  }
}

void StockReserveCommand(CommandContext& context) {
  uint64_t product = 0;
  int64_t units = 0;
  if (!ReadProductAndUnits(context, &product, &units)) return;
  storage::Database& db = context.db;
  storage::Result<storage::Reservation> reservation = db.WithStockOrder(product, [&] {
    storage::Result<storage::Reservation> result = db.stock().TryReserve(product, units);
    if (result.ok() && result->reserved) storage::LogStockSet(db.log(), product, result->units);
    return result;
  });
  if (!reservation.ok()) {
    ReplyStatus(context, reservation.status());
    return;
  }
  if (!reservation->reserved) {
    // The contract is exactly "-SOLDOUT <available>": clients parse the number.
    context.reply.Error(StatusCode::kSoldOut, std::to_string(reservation->units));
    return;
  }
  context.reply.Integer(reservation->units);
}

void StockReleaseCommand(CommandContext& context) {
  uint64_t product = 0;
  int64_t units = 0;
  if (!ReadProductAndUnits(context, &product, &units)) return;
  storage::Database& db = context.db;
  storage::Result<int64_t> released = db.WithStockOrder(product, [&] {
    storage::Result<int64_t> result = db.stock().Release(product, units);
    if (result.ok()) storage::LogStockSet(db.log(), product, *result);
    return result;
  });
  if (!released.ok()) {
    ReplyStatus(context, released.status());
    return;
  }
  context.reply.Integer(*released);
}

}  // namespace

void RegisterStockCommands(CommandRegistry& registry) {
  using protocol::Opcode;
  constexpr uint32_t kWriteFast = kCommandWrite | kCommandFast;
  registry.Add({Opcode::kStockSet, 3, kWriteFast, 1, 1, 1, StockSetCommand});
  registry.Add({Opcode::kStockAdd, 3, kWriteFast, 1, 1, 1, StockAddCommand});
  registry.Add({Opcode::kStockGet, -2, kCommandReadOnly | kCommandFast, 1, 1, 1, StockGetCommand});
  registry.Add({Opcode::kStockReserve, 3, kWriteFast, 1, 1, 1, StockReserveCommand});
  registry.Add({Opcode::kStockRelease, 3, kWriteFast, 1, 1, 1, StockReleaseCommand});
}

}  // namespace podium::server
