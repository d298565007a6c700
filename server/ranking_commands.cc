// Rankings: RANK.EVENT, RANK.EVENTS, RANK.WEIGHTS, RANK.TOP, RANK.OF, RANK.OFMANY, RANK.CARD,
// RANK.SIGNALS, and podium-batch's RANK.SCAN and RANK.PUBLISH.
//
// Thin wrappers over storage::Rankings (docs/rankings.md is the model; docs/protocol.md has
// the reply shapes). Scores are float64 replies (RESP bulk strings, as Redis's WITHSCORES);
// products are int64. A window still being built answers BUSY.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/rank_periods.h"
#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "storage/database.h"
#include "storage/limits.h"
#include "storage/ranking.h"

namespace podium::server {
namespace {

using protocol::StatusCode;

// A namespace name: 1..kNameBytesMax bytes.
bool ReadNamespace(CommandContext& context, size_t index, std::string_view* ns) {
  const protocol::Argument& argument = context.arg(index);
  if (argument.type != protocol::ArgumentType::kBytes || argument.bytes.empty() ||
      argument.bytes.size() > storage::kNameBytesMax) {
    context.reply.Error(StatusCode::kErr, "namespace must be 1 to " +
                                              std::to_string(storage::kNameBytesMax) + " bytes");
    return false;
  }
  *ns = argument.bytes;
  return true;
}

// A board's name: a day yyyyMMdd, a week yyyyWww or a month yyyyMM.
bool ReadBoardName(CommandContext& context, size_t index, std::string_view* name) {
  const protocol::Argument& argument = context.arg(index);
  if (argument.type == protocol::ArgumentType::kBytes &&
      (protocol::ParseRankDay(argument.bytes).has_value() ||
       protocol::ParseRankPeriod(argument.bytes).has_value())) {
    *name = argument.bytes;
    return true;
  }
  context.reply.Error(StatusCode::kErr,
                      "window must be a day yyyyMMdd, a week yyyyWww or a month yyyyMM");
  return false;
}

bool ReadKind(CommandContext& context, size_t index, storage::RankEventKind* kind) {
  using enum storage::RankEventKind;
  for (const auto& [word, value] : {std::pair{"VIEW", kView}, std::pair{"LIKE", kLike},
                                    std::pair{"UNLIKE", kUnlike}, std::pair{"ORDER", kOrder}}) {
    if (ArgumentIs(context, index, word)) {
      *kind = value;
      return true;
    }
  }
  context.reply.Error(StatusCode::kErr, "event kind must be VIEW, LIKE, UNLIKE or ORDER");
  return false;
}

// Reads one event's fields at `index`: event_id kind product ts_ms, then qty unit_price when
// `with_amounts` (always in RANK.EVENTS; in RANK.EVENT only for ORDER).
bool ReadEvent(CommandContext& context, size_t index, bool with_amounts,
               storage::RankEvent* event) {
  const protocol::Argument& id = context.arg(index);
  if (id.type != protocol::ArgumentType::kBytes) {
    context.reply.Error(StatusCode::kErr, "event id must be a byte string");
    return false;
  }
  event->id = id.bytes;
  if (!ReadKind(context, index + 1, &event->kind) ||
      !ReadProductId(context, index + 2, &event->product) ||
      !ReadInt64(context, index + 3, &event->ts_ms)) {
    return false;
  }
  if (with_amounts) {
    return ReadInt64(context, index + 4, &event->quantity) &&
           ReadInt64(context, index + 5, &event->unit_price);
  }
  return true;
}

// RANK.EVENT ns event_id VIEW|LIKE|UNLIKE|ORDER product ts_ms [qty unit_price]
void RankEventCommand(CommandContext& context) {
  std::string_view ns;
  storage::RankEvent event;
  if (!ReadNamespace(context, 0, &ns)) return;
  const bool with_amounts = context.argc() == 7;
  if (context.argc() != 5 && !with_amounts) {
    ReplySyntaxError(context);
    return;
  }
  if (!ReadEvent(context, 1, with_amounts, &event)) return;
  if ((event.kind == storage::RankEventKind::kOrder) != with_amounts) {
    context.reply.Error(StatusCode::kErr, "ORDER takes qty and unit_price; other kinds do not");
    return;
  }
  storage::Result<bool> applied = context.db.rankings().Apply(ns, event, context.now_ms);
  if (!applied.ok()) {
    ReplyStatus(context, applied.status());
    return;
  }
  context.reply.Integer(*applied ? 1 : 0);
}

// RANK.EVENTS ns count (event_id kind product ts_ms qty unit_price){count}
void RankEventsCommand(CommandContext& context) {
  std::string_view ns;
  int64_t count = 0;
  if (!ReadNamespace(context, 0, &ns) || !ReadInt64(context, 1, &count)) return;
  constexpr size_t kFields = 6;
  if (count < 1 || context.argc() != 2 + static_cast<size_t>(count) * kFields) {
    context.reply.Error(StatusCode::kErr,
                        "RANK.EVENTS takes count, then count x (event_id kind product ts_ms qty "
                        "unit_price), qty and unit_price 0 for other kinds than ORDER");
    return;
  }
  // Every event is read before any is applied: a malformed one refuses the whole batch.
  std::vector<storage::RankEvent> events(static_cast<size_t>(count));
  for (size_t i = 0; i < events.size(); ++i) {
    if (!ReadEvent(context, 2 + i * kFields, true, &events[i])) return;
    if (events[i].kind != storage::RankEventKind::kOrder) {
      if (events[i].quantity != 0 || events[i].unit_price != 0) {
        context.reply.Error(StatusCode::kErr, "qty and unit_price must be 0 but for ORDER");
        return;
      }
    }
  }
  context.reply.ArrayHeader(events.size());
  for (const storage::RankEvent& event : events) {
    storage::Result<bool> applied = context.db.rankings().Apply(ns, event, context.now_ms);
    if (applied.ok()) {
      context.reply.Integer(*applied ? 1 : 0);
    } else {
      context.reply.Error(StatusCode::kErr, applied.status().message());
    }
  }
}

void ReplyWeights(protocol::ReplyWriter& reply, const storage::Rankings::WeightsState& state) {
  const storage::RankWeights& weights = state.weights;
  reply.ArrayHeader(10);
  for (const auto& [name, value] :
       {std::pair{"view", weights.view}, std::pair{"like", weights.like},
        std::pair{"order", weights.order}, std::pair{"carry", weights.carry}}) {
    reply.Bytes(name);
    reply.Double(value);
  }
  reply.Bytes("rescoring");
  reply.Integer(state.rescoring ? 1 : 0);
}

// RANK.WEIGHTS ns [view like order carry]
void RankWeightsCommand(CommandContext& context) {
  std::string_view ns;
  if (!ReadNamespace(context, 0, &ns)) return;
  storage::Rankings& rankings = context.db.rankings();
  if (context.argc() == 1) {
    ReplyWeights(context.reply, rankings.Weights(ns));
    return;
  }
  if (context.argc() != 5) {
    ReplySyntaxError(context);
    return;
  }
  storage::RankWeights weights;
  if (!ReadDouble(context, 1, &weights.view) || !ReadDouble(context, 2, &weights.like) ||
      !ReadDouble(context, 3, &weights.order) || !ReadDouble(context, 4, &weights.carry)) {
    return;
  }
  if (storage::Status status = rankings.SetWeights(ns, weights); !status.ok()) {
    ReplyStatus(context, status);
    return;
  }
  ReplyWeights(context.reply, rankings.Weights(ns));
}

// RANK.TOP ns window offset count
void RankTopCommand(CommandContext& context) {
  std::string_view ns;
  std::string_view window;
  int64_t offset = 0;
  int64_t count = 0;
  if (!ReadNamespace(context, 0, &ns) || !ReadBoardName(context, 1, &window) ||
      !ReadInt64(context, 2, &offset) || !ReadInt64(context, 3, &count)) {
    return;
  }
  if (offset < 0 || offset > static_cast<int64_t>(storage::kSortedSetMembersMax) || count < 0 ||
      count > static_cast<int64_t>(storage::kListCountMax)) {
    context.reply.Error(StatusCode::kErr, "offset must be >= 0 and count 0.." +
                                              std::to_string(storage::kListCountMax));
    return;
  }
  auto top = context.db.rankings().Top(ns, window, static_cast<size_t>(offset),
                                       static_cast<size_t>(count));
  if (!top.ok()) {
    ReplyStatus(context, top.status());
    return;
  }
  context.reply.ArrayHeader(top->size() * 2);
  for (const storage::Rankings::Entry& entry : *top) {
    context.reply.Integer(static_cast<int64_t>(entry.product));
    context.reply.Double(entry.score);
  }
}

void ReplyPosition(protocol::ReplyWriter& reply,
                   const std::optional<storage::Rankings::Position>& position) {
  if (!position.has_value()) {
    reply.Nil();
    return;
  }
  reply.ArrayHeader(2);
  reply.Integer(static_cast<int64_t>(position->rank));
  reply.Double(position->score);
}

// RANK.OF ns window product; RANK.OFMANY ns window product [product ...]
void RankOf(CommandContext& context, bool many) {
  std::string_view ns;
  std::string_view window;
  if (!ReadNamespace(context, 0, &ns) || !ReadBoardName(context, 1, &window)) return;
  std::vector<uint64_t> products(context.argc() - 2);
  for (size_t i = 0; i < products.size(); ++i) {
    if (!ReadProductId(context, 2 + i, &products[i])) return;
  }
  auto positions = context.db.rankings().Of(ns, window, products);
  if (!positions.ok()) {
    ReplyStatus(context, positions.status());
    return;
  }
  if (!many) {
    ReplyPosition(context.reply, (*positions)[0]);
    return;
  }
  context.reply.ArrayHeader(positions->size());
  for (const auto& position : *positions) ReplyPosition(context.reply, position);
}

void RankOfCommand(CommandContext& context) { RankOf(context, false); }
void RankOfManyCommand(CommandContext& context) { RankOf(context, true); }

void RankCardCommand(CommandContext& context) {
  std::string_view ns;
  std::string_view window;
  if (!ReadNamespace(context, 0, &ns) || !ReadBoardName(context, 1, &window)) return;
  storage::Result<uint64_t> card = context.db.rankings().Card(ns, window);
  if (!card.ok()) {
    ReplyStatus(context, card.status());
    return;
  }
  context.reply.Integer(static_cast<int64_t>(*card));
}

void RankSignalsCommand(CommandContext& context) {
  std::string_view ns;
  uint64_t product = 0;
  if (!ReadNamespace(context, 0, &ns) || !ReadProductId(context, 2, &product)) return;
  storage::RankWeights weights;  // the ones this score uses, read with it
  auto signals = context.db.rankings().Signals(ns, context.arg(1).bytes, product, &weights);
  if (!signals.ok()) {
    ReplyStatus(context, signals.status());
    return;
  }
  if (!signals->has_value()) {
    context.reply.Nil();
    return;
  }
  const storage::RankSignals& s = **signals;
  protocol::ReplyWriter& reply = context.reply;
  reply.ArrayHeader(12);
  reply.Bytes("views");
  reply.Integer(s.views);
  reply.Bytes("likes");
  reply.Integer(s.likes);
  reply.Bytes("order_sum");
  reply.Double(s.order_sum);
  reply.Bytes("carried");
  reply.Double(s.carried);
  reply.Bytes("score");
  reply.Double(s.score);
  // The weights this score uses: the ones in force, or the previous ones while a weight
  // change has not re-scored this product yet.
  reply.Bytes("weights");
  reply.ArrayHeader(4);
  for (double weight : {weights.view, weights.like, weights.order, weights.carry}) {
    reply.Double(weight);
  }
}

// RANK.SCAN ns day cursor count
void RankScanCommand(CommandContext& context) {
  std::string_view ns;
  int64_t cursor = 0;
  int64_t count = 0;
  if (!ReadNamespace(context, 0, &ns) || !ReadInt64(context, 2, &cursor) ||
      !ReadInt64(context, 3, &count)) {
    return;
  }
  if (cursor < 0 || count < 1) {
    context.reply.Error(StatusCode::kErr, "cursor must be >= 0 and count >= 1");
    return;
  }
  auto chunk = context.db.rankings().ScanDay(ns, context.arg(1).bytes,
                                             static_cast<uint64_t>(cursor),
                                             static_cast<size_t>(count), context.now_ms);
  if (!chunk.ok()) {
    ReplyStatus(context, chunk.status());
    return;
  }
  protocol::ReplyWriter& reply = context.reply;
  reply.ArrayHeader(2);
  reply.Integer(static_cast<int64_t>(chunk->next_cursor));
  reply.ArrayHeader(chunk->entries.size() * 4);
  for (const storage::DaySignals& signals : chunk->entries) {
    reply.Integer(static_cast<int64_t>(signals.product));
    reply.Integer(signals.views);
    reply.Integer(signals.likes);
    reply.Double(signals.order_sum);
  }
}

// RANK.PUBLISH ns period [product score ...]
void RankPublishCommand(CommandContext& context) {
  std::string_view ns;
  if (!ReadNamespace(context, 0, &ns)) return;
  const protocol::Argument& period = context.arg(1);
  if (period.type != protocol::ArgumentType::kBytes ||
      !protocol::ParseRankPeriod(period.bytes).has_value()) {
    context.reply.Error(StatusCode::kErr, "period must be a week yyyyWww or a month yyyyMM");
    return;
  }
  if (context.argc() % 2 != 0) {
    ReplySyntaxError(context);
    return;
  }
  std::vector<storage::Rankings::Entry> entries((context.argc() - 2) / 2);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!ReadProductId(context, 2 + 2 * i, &entries[i].product) ||
        !ReadDouble(context, 3 + 2 * i, &entries[i].score)) {
      return;
    }
  }
  storage::Result<uint64_t> size = context.db.rankings().Publish(ns, period.bytes, entries);
  if (!size.ok()) {
    ReplyStatus(context, size.status());
    return;
  }
  context.reply.Integer(static_cast<int64_t>(*size));
}

}  // namespace

void RegisterRankingCommands(CommandRegistry& registry) {
  using protocol::Opcode;
  constexpr uint32_t kWrite = kCommandWrite | kCommandFast;
  constexpr uint32_t kRead = kCommandReadOnly | kCommandFast;
  registry.Add({Opcode::kRankEvent, -6, kWrite, 0, 0, 0, RankEventCommand});
  registry.Add({Opcode::kRankEvents, -9, kCommandWrite, 0, 0, 0, RankEventsCommand});
  registry.Add({Opcode::kRankWeights, -2, kWrite, 0, 0, 0, RankWeightsCommand});
  registry.Add({Opcode::kRankTop, 5, kRead, 0, 0, 0, RankTopCommand});
  registry.Add({Opcode::kRankOf, 4, kRead, 0, 0, 0, RankOfCommand});
  registry.Add({Opcode::kRankOfMany, -4, kRead, 0, 0, 0, RankOfManyCommand});
  registry.Add({Opcode::kRankCard, 3, kRead, 0, 0, 0, RankCardCommand});
  registry.Add({Opcode::kRankSignals, 4, kRead, 0, 0, 0, RankSignalsCommand});
  registry.Add({Opcode::kRankScan, 5, kCommandReadOnly, 0, 0, 0, RankScanCommand});
  registry.Add({Opcode::kRankPublish, -3, kCommandWrite, 0, 0, 0, RankPublishCommand});
}

}  // namespace podium::server
