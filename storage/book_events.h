// Book events: the ranking events (storage/ranking.h) that the order book's changes stand for,
// made only of what the book keeps and logs. docs/orders.md, "Ranking events", is the model.
//
// A command that changes the book logs its book record first and applies its ranking events
// after, so a crash between the two keeps the change and loses the events. A retry of the
// command finds the change done (ORDER.CONFIRM of a PAID order, LIKE.ADD of a liked product,
// LIKE.DEL of an unliked one) and applies the same events again: the same ids, times and
// amounts, since they come from the book. The rankings count an event id once, so the retry
// adds what the crash lost and nothing else; an event whose window has expired is refused,
// never counted in another window.
//
// Ids are 1..kIdBytesMax bytes, whatever the order id or product: "<kind>:<key>" when that fits
// (an order's "order:<order id>:<product>" is the id confirms have always used), else
// "<kind>#" and 32 hex digits of the XXH3-128 digest of "<kind>:<key>", which no readable id
// can equal (a readable one has ':' right after the kind).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/order_book.h"
#include "storage/ranking.h"

namespace podium::storage {

struct BookEvent {
  std::string id;
  RankEventKind kind = RankEventKind::kOrder;
  uint64_t product = 0;
  int64_t ts_ms = 0;
  int64_t quantity = 0;    // ORDER only
  int64_t unit_price = 0;  // ORDER only

  // Valid while this BookEvent lives (the id is a view).
  RankEvent view() const { return {id, kind, product, ts_ms, quantity, unit_price}; }
};

// "<kind>:<key>" if it is at most kIdBytesMax bytes, else "<kind>#<32 hex digits>".
std::string BookEventId(std::string_view kind, std::string_view key);

// One ORDER event per item of a PAID order, at its paid time (at its placement time if it was
// paid before paid times were logged: no later than the original event, so that event's
// window, if still kept, remembers the id).
std::vector<BookEvent> OrderEvents(const OrderRecord& order);

// The LIKE (like) or UNLIKE event of the like or unlike with this sequence, at the time the
// sequence carries (LikeSequenceTimeMs).
BookEvent LikeEvent(bool like, uint64_t user, uint64_t product, uint64_t sequence);

}  // namespace podium::storage
