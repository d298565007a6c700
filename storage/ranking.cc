#include "storage/ranking.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <tuple>

#include "storage/limits.h"

namespace podium::storage {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

// The process's time zone offset at `unix_s`, through localtime_r (TZ is set at start).
int64_t LocalOffsetSeconds(int64_t unix_s) {
  const time_t t = static_cast<time_t>(unix_s);
  struct tm local {};
  localtime_r(&t, &local);
  return local.tm_gmtoff;
}

std::string DayName(int32_t index) {
  const year_month_day date{sys_days{days{index}}};
  char name[16];
  std::snprintf(name, sizeof(name), "%04d%02u%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return name;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

RankDay RankDayOf(int64_t unix_ms) {
  const int64_t unix_s = FloorDiv(unix_ms, 1000);
  const int64_t local_s = unix_s + LocalOffsetSeconds(unix_s);
  return RankDayAt(static_cast<int32_t>(FloorDiv(local_s, 86'400)));
}

RankDay RankDayAt(int32_t index) {
  RankDay day;
  day.index = index;
  day.name = DayName(index);
  // Local midnight: the offset in force then (a DST change at midnight is rare; the offset of
  // noon that day would be off by the change for that one day only).
  const int64_t local_midnight_s = int64_t{index} * 86'400;
  const int64_t guess_s = local_midnight_s - LocalOffsetSeconds(local_midnight_s);
  day.start_ms = (local_midnight_s - LocalOffsetSeconds(guess_s)) * 1000;
  return day;
}

std::optional<int32_t> ParseRankDayName(std::string_view name) {
  if (name.size() != 8) return std::nullopt;
  int value[3] = {0, 0, 0};
  const size_t widths[3] = {4, 2, 2};
  size_t at = 0;
  for (int part = 0; part < 3; ++part) {
    for (size_t i = 0; i < widths[part]; ++i, ++at) {
      if (name[at] < '0' || name[at] > '9') return std::nullopt;
      value[part] = value[part] * 10 + (name[at] - '0');
    }
  }
  const year_month_day date{std::chrono::year{value[0]},
                            std::chrono::month{static_cast<unsigned>(value[1])},
                            std::chrono::day{static_cast<unsigned>(value[2])}};
  if (!date.ok()) return std::nullopt;
  return static_cast<int32_t>(sys_days{date}.time_since_epoch().count());
}

Rankings::Rankings(RankingOptions options) : options_(options) {
  housekeeper_ = std::thread([this] { RunHousekeeper(); });
}

Rankings::~Rankings() {
  {
    std::lock_guard<std::mutex> lock(housekeeper_mutex_);
    housekeeper_stopping_ = true;
  }
  housekeeper_wake_.notify_one();
  housekeeper_.join();
}

// Freeing an expired window of a million products takes hundreds of milliseconds, and sizing
// the next one about 10 ms; both happen here, holding no lock any request needs.
void Rankings::RunHousekeeper() {
  const auto next_spare = [this] {
    for (auto& [key, spare] : spares_) {
      if (!spare.sizing && spare.window == nullptr) return &spare;
    }
    return static_cast<Spare*>(nullptr);
  };
  std::unique_lock<std::mutex> lock(housekeeper_mutex_);
  for (;;) {
    housekeeper_wake_.wait(lock, [&] {
      return housekeeper_stopping_ || !graveyard_.empty() || next_spare() != nullptr;
    });
    std::vector<std::shared_ptr<void>> dead;
    dead.swap(graveyard_);
    Spare* spare = housekeeper_stopping_ ? nullptr : next_spare();
    if (dead.empty() && spare == nullptr) return;  // stopping
    if (spare != nullptr) spare->sizing = true;    // entries leave spares_ only when not sizing
    lock.unlock();
    dead.clear();
    std::unique_ptr<Window> window;
    if (spare != nullptr) window = SizedWindow(spare->products, spare->board, spare->event_ids);
    lock.lock();
    if (spare != nullptr) {
      spare->window = std::move(window);
      spare->sizing = false;
    }
  }
}

void Rankings::Bury(std::shared_ptr<void> dead) {
  {
    std::lock_guard<std::mutex> lock(housekeeper_mutex_);
    graveyard_.push_back(std::move(dead));
  }
  housekeeper_wake_.notify_one();
}

Rankings::Namespace& Rankings::NamespaceLocked(std::string_view ns) {
  auto it = namespaces_.find(std::string(ns));
  if (it == namespaces_.end()) it = namespaces_.try_emplace(std::string(ns)).first;
  return it->second;
}

Rankings::Window* Rankings::FindWindowLocked(Namespace& space, int32_t day) {
  const auto it = space.windows.find(day);
  return it == space.windows.end() ? nullptr : it->second.get();
}

// A window opens building when the one before it exists: its carried parts come from there.
std::unique_ptr<Rankings::Window> Rankings::SizedWindow(size_t products, size_t board,
                                                       size_t event_ids) {
  auto window = std::make_unique<Window>();
  window->products.Reserve(products);
  window->board.Reserve(board);
  window->event_ids.Reserve(event_ids);
  return window;
}

Rankings::Window& Rankings::OpenWindowLocked(Namespace& space, int32_t day,
                                             std::unique_ptr<Window>* spare) {
  auto [it, created] = space.windows.try_emplace(day);
  if (created) {
    const Window* previous = FindWindowLocked(space, day - 1);
    if (spare != nullptr && *spare != nullptr) {
      it->second = std::move(*spare);
    } else if (previous != nullptr) {
      // Sized for what it is about to receive, so its tables do not rehash a million entries
      // at once under the lock as they grow.
      it->second = SizedWindow(previous->products.size(), previous->board.size(),
                               previous->event_ids.size());
    } else {
      it->second = std::make_unique<Window>();
    }
    Window& window = *it->second;
    window.day = RankDayAt(day);
    window.building = previous != nullptr;
    TouchWindowLocked(day);
  }
  return *it->second;
}

double Rankings::RescoreLocked(const RankWeights& weights, Window& window, uint64_t product,
                               ProductState& state) {
  RankSignals& signals = state.signals;
  const double old_score = signals.score;
  signals.score = weights.view * static_cast<double>(signals.views) +
                  weights.like * static_cast<double>(signals.likes) +
                  weights.order * signals.order_sum + signals.carried;
  CHECK(window.board.Set(MemberKey::FromInteger(product), signals.score).ok());
  TouchProductLocked(window.day.index, product);
  return signals.score - old_score;
}

void Rankings::CopyCarryLocked(const RankWeights& weights, const Window& previous,
                               Window& window, uint64_t product, ProductState& state) {
  DCHECK(!state.carried_in);
  state.carried_in = true;
  TouchProductLocked(window.day.index, product);
  const ProductState* before = previous.products.Find(product);
  if (before == nullptr) return;
  state.signals.carried += weights.carry * before->signals.score;
  RescoreLocked(weights, window, product, state);
}

// score(from_day, p) changed by delta: the windows after it follow, as far as they exist.
void Rankings::PropagateLocked(Namespace& space, int32_t from_day, uint64_t product,
                               double delta) {
  for (int32_t day = from_day + 1; delta != 0; ++day) {
    Window* window = FindWindowLocked(space, day);
    if (window == nullptr) return;
    ProductState& state = window->products[product];
    if (window->building && !state.carried_in) {
      // Not copied yet: copy it now, from the previous window's current score (which includes
      // this delta), instead of adding the delta to a carry that was never applied.
      const Window* previous = FindWindowLocked(space, day - 1);
      const double before = state.signals.score;
      CopyCarryLocked(WeightsFor(space, day, product), *previous, *window, product, state);
      delta = state.signals.score - before;
      continue;
    }
    state.carried_in = true;
    const RankWeights& weights = WeightsFor(space, day, product);
    state.signals.carried += weights.carry * delta;
    delta = RescoreLocked(weights, *window, product, state);
  }
}

Result<bool> Rankings::Apply(std::string_view ns, const RankEvent& event, int64_t now_ms) {
  if (event.id.empty() || event.id.size() > kIdBytesMax) {
    return Status::InvalidArgument("event id must be 1 to " + std::to_string(kIdBytesMax) +
                                   " bytes");
  }
  if (event.product > kProductIdMax) return Status::InvalidArgument("product id out of range");
  double order_amount = 0;
  if (event.kind == RankEventKind::kOrder) {
    if (event.quantity < 1 || event.quantity > kOrderQuantityMax || event.unit_price < 0 ||
        event.unit_price > kAmountMax) {
      return Status::InvalidArgument("an ORDER event needs qty 1.." +
                                     std::to_string(kOrderQuantityMax) + " and unit_price 0.." +
                                     std::to_string(kAmountMax));
    }
    order_amount = std::log1p(static_cast<double>(event.quantity) *
                              static_cast<double>(event.unit_price));
  }
  if (event.ts_ms > now_ms + options_.future_skew_ms) {
    return Status::InvalidArgument("event time " + std::to_string(event.ts_ms) +
                                   " is in the future (now " + std::to_string(now_ms) + ")");
  }
  const RankDay day = RankDayOf(event.ts_ms);
  if (day.start_ms + options_.retention_ms <= now_ms) {
    return Status::InvalidArgument("event time " + std::to_string(event.ts_ms) +
                                   " is older than the retention of window " + day.name);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Namespace& space = NamespaceLocked(ns);
  if (space.archives.contains(day.index)) {  // expired between the check above and the lock
    return Status::InvalidArgument("event time " + std::to_string(event.ts_ms) +
                                   " is older than the retention of window " + day.name);
  }
  for (const auto& [index, window] : space.windows) {
    if (window->event_ids.Contains(event.id)) return false;
  }
  Window& window = OpenWindowLocked(space, day.index);
  window.event_ids.Insert(event.id);
  touched_event_id_.assign(event.id);
  touched_event_day_ = day.index;
  ProductState& state = window.products[event.product];
  const double before = state.signals.score;
  if (window.building && !state.carried_in) {
    CopyCarryLocked(WeightsFor(space, day.index, event.product),
                    *FindWindowLocked(space, day.index - 1), window, event.product, state);
  }
  RankSignals& signals = state.signals;
  switch (event.kind) {
    case RankEventKind::kView:
      ++signals.views;
      break;
    case RankEventKind::kLike:
      ++signals.likes;
      break;
    case RankEventKind::kUnlike:
      --signals.likes;
      break;
    case RankEventKind::kOrder:
      signals.order_sum += order_amount;
      break;
  }
  RescoreLocked(WeightsFor(space, day.index, event.product), window, event.product, state);
  PropagateLocked(space, day.index, event.product, state.signals.score - before);
  LogTouchedLocked(ns, space);
  return true;
}

Rankings::WeightsState Rankings::Weights(std::string_view ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  const Namespace& space = NamespaceLocked(ns);
  return {space.weights, space.rescore.has_value()};
}

Status Rankings::SetWeights(std::string_view ns, const RankWeights& weights) {
  for (double weight : {weights.view, weights.like, weights.order}) {
    if (!std::isfinite(weight) || std::abs(weight) > 1e9) {
      return Status::InvalidArgument("weights must be finite numbers of magnitude <= 1e9");
    }
  }
  if (!(weights.carry >= 0 && weights.carry < 1)) {
    return Status::InvalidArgument("carry must be in [0, 1)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Namespace& space = NamespaceLocked(ns);
  if (space.rescore.has_value()) {
    return Status::Busy("the windows are still being re-scored with the weights set before; "
                        "retry once RANK.WEIGHTS shows rescoring 0");
  }
  StartRescoreLocked(space, weights);
  // Logged as the weights alone: replay starts the same re-score, and the stepper's slices of
  // it are logged as they run (LogTouchedLocked).
  weights_changed_ = true;
  LogTouchedLocked(ns, space);
  return Status::Ok();
}

Result<const Rankings::Window*> Rankings::QueryWindowLocked(std::string_view ns,
                                                            std::string_view name) {
  const std::optional<int32_t> day = ParseRankDayName(name);
  if (!day.has_value()) {
    return Status::InvalidArgument("window must be a day yyyyMMdd (weekly and monthly boards "
                                   "keep scores only), got '" + std::string(name) + "'");
  }
  const auto space = namespaces_.find(std::string(ns));
  if (space == namespaces_.end()) return static_cast<const Window*>(nullptr);
  const Window* window = FindWindowLocked(space->second, *day);
  if (window != nullptr && window->building) {
    return Status::Busy("window " + window->day.name +
                        " is being built (carry-over from the day before); retry shortly");
  }
  return window;
}

Result<const SortedSet*> Rankings::QueryBoardLocked(std::string_view ns, std::string_view name) {
  if (ParseRankDayName(name).has_value()) {
    Result<const Window*> window = QueryWindowLocked(ns, name);
    if (!window.ok()) return window.status();
    return *window == nullptr ? nullptr : &(*window)->board;
  }
  const auto space = namespaces_.find(std::string(ns));
  if (space == namespaces_.end()) return static_cast<const SortedSet*>(nullptr);
  const auto period = space->second.periods.find(name);
  return period == space->second.periods.end() ? nullptr : period->second.get();
}

Result<std::vector<Rankings::Entry>> Rankings::Top(std::string_view ns, std::string_view name,
                                                   size_t offset, size_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<const SortedSet*> board = QueryBoardLocked(ns, name);
  if (!board.ok()) return board.status();
  std::vector<Entry> entries;
  if (*board == nullptr || count == 0) return entries;
  (*board)->RangeByRank(offset, offset + count - 1, Order::kDescending,
                        [&](const MemberKey& member, double score) {
                          entries.push_back({member.integer(), score});
                        });
  return entries;
}

Result<std::vector<std::optional<Rankings::Position>>> Rankings::Of(
    std::string_view ns, std::string_view name, const std::vector<uint64_t>& products) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<const SortedSet*> board = QueryBoardLocked(ns, name);
  if (!board.ok()) return board.status();
  std::vector<std::optional<Position>> positions(products.size());
  if (*board == nullptr) return positions;
  for (size_t i = 0; i < products.size(); ++i) {
    const MemberKey member = MemberKey::FromInteger(products[i]);
    const std::optional<size_t> rank = (*board)->Rank(member, Order::kDescending);
    if (rank.has_value()) positions[i] = Position{*rank + 1, *(*board)->Score(member)};
  }
  return positions;
}

Result<uint64_t> Rankings::Card(std::string_view ns, std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<const SortedSet*> board = QueryBoardLocked(ns, name);
  if (!board.ok()) return board.status();
  return *board == nullptr ? 0 : (*board)->size();
}

Result<std::optional<RankSignals>> Rankings::Signals(std::string_view ns, std::string_view name,
                                                     uint64_t product, RankWeights* weights) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<const Window*> window = QueryWindowLocked(ns, name);
  if (!window.ok()) return window.status();
  if (*window == nullptr) return std::optional<RankSignals>();
  if (weights != nullptr) {
    *weights = WeightsFor(namespaces_.at(std::string(ns)), (*window)->day.index, product);
  }
  const ProductState* state = (*window)->products.Find(product);
  if (state == nullptr) return std::optional<RankSignals>();
  return std::optional<RankSignals>(state->signals);
}

// One slice of the copy of the previous window's scores into `window`, in (score, product)
// order from the cursor. Returns true when the copy is complete.
bool Rankings::StepCopyLocked(Namespace& space, Window& window) {
  const Window* previous = FindWindowLocked(space, window.day.index - 1);
  if (previous == nullptr) return true;  // expired meanwhile: nothing left to carry
  SortedSet::Cursor cursor =
      window.cursor_set
          ? previous->board.SeekAfter(window.cursor_score,
                                      MemberKey::FromInteger(window.cursor_product))
          : previous->board.SeekRank(0, Order::kAscending);
  for (size_t copied = 0; cursor.valid() && copied < kRankingCarrySliceMembers;
       ++copied, cursor.Next()) {
    const uint64_t product = cursor.member().integer();
    TouchWindowLocked(window.day.index);
    window.cursor_set = true;
    window.cursor_score = cursor.score();
    window.cursor_product = product;
    ProductState& state = window.products[product];
    if (state.carried_in) continue;
    const double before = state.signals.score;
    CopyCarryLocked(WeightsFor(space, window.day.index, product), *previous, window, product,
                    state);
    // A later window (opened while this one was building) follows.
    PropagateLocked(space, window.day.index, product, state.signals.score - before);
  }
  return !cursor.valid();
}

std::map<Rankings::SpareKey, std::unique_ptr<Rankings::Window>> Rankings::TakeSpares(
    const std::vector<NextWindow>& prepare, const std::vector<NextWindow>& opening,
    const std::map<std::string, int32_t>& open_through, std::set<SpareKey>* deferred) {
  std::map<SpareKey, std::unique_ptr<Window>> taken;
  std::vector<NextWindow> unprepared;
  bool wake = false;  // work for the housekeeper
  {
    std::lock_guard<std::mutex> lock(housekeeper_mutex_);
    for (auto it = spares_.begin(); it != spares_.end();) {
      const auto through = open_through.find(it->first.first);
      const bool stale = through == open_through.end() || it->first.second <= through->second;
      if (stale && !it->second.sizing) {
        if (it->second.window != nullptr) {
          graveyard_.push_back(std::move(it->second.window));
          wake = true;
        }
        it = spares_.erase(it);
      } else {
        ++it;
      }
    }
    for (const NextWindow& next : prepare) {
      if (spares_.contains(next.key)) continue;
      // With an eighth to spare: the window before still grows until the opening.
      Spare& spare = spares_[next.key];
      spare.products = next.products + next.products / 8;
      spare.board = next.board + next.board / 8;
      spare.event_ids = next.event_ids + next.event_ids / 8;
      wake = true;
    }
    for (const NextWindow& next : opening) {
      const auto it = spares_.find(next.key);
      if (it == spares_.end()) {
        unprepared.push_back(next);
      } else if (it->second.window == nullptr) {
        deferred->insert(next.key);  // being sized, or about to be
      } else {
        taken[next.key] = std::move(it->second.window);
        spares_.erase(it);
      }
    }
  }
  if (wake) housekeeper_wake_.notify_one();
  for (const NextWindow& next : unprepared) {
    taken[next.key] = SizedWindow(next.products, next.board, next.event_ids);
  }
  return taken;
}

bool Rankings::Step(int64_t now_ms) {
  const int32_t ahead = RankDayOf(now_ms + options_.open_lead_ms).index;
  const int32_t first_live = RankDayOf(now_ms - options_.retention_ms).index;
  const int32_t first_kept = FirstKeptDay(now_ms);
  // The next window each namespace is about to open is allocated and sized without the lock
  // (the sizes are read under it): sizing a million-product window takes about 10 ms. With
  // spare_lead_ms, the housekeeper does it ahead of time; otherwise it is done here.
  std::map<SpareKey, std::unique_ptr<Window>> spares;
  std::set<SpareKey> deferred;
  {
    const int32_t prepare_through =
        options_.spare_lead_ms > 0
            ? RankDayOf(now_ms + options_.open_lead_ms + options_.spare_lead_ms).index
            : ahead;
    std::vector<NextWindow> prepare;
    std::vector<NextWindow> opening;
    std::map<std::string, int32_t> open_through;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [name, space] : namespaces_) {
        if (space.windows.empty()) continue;
        const auto& [last_day, last] = *space.windows.rbegin();
        open_through[name] = last_day;
        const int32_t day = last_day + 1;
        if (day > prepare_through || day < first_live) continue;
        NextWindow next{{name, day}, last->products.size(), last->board.size(),
                        last->event_ids.size()};
        (day <= ahead ? opening : prepare).push_back(std::move(next));
      }
    }
    spares = TakeSpares(prepare, opening, open_through, &deferred);
  }
  std::vector<std::shared_ptr<void>> dead;
  std::unique_lock<std::mutex> lock(mutex_);
  bool more = false;
  for (auto& [name, space] : namespaces_) {
    // Expired windows: their raw signals go to the day's archive, the rest is freed.
    while (!space.windows.empty() &&
           space.windows.begin()->second->day.start_ms + options_.retention_ms <= now_ms) {
      dropped_windows_.push_back(space.windows.begin()->first);
      std::unique_ptr<Window> window = std::move(space.windows.begin()->second);
      space.windows.erase(space.windows.begin());
      ArchiveWindowLocked(space, std::move(window));
    }
    // One slice of one archive's conversion; archives past keeping are dropped.
    for (auto& [day, archive] : space.archives) {
      if (archive->source == nullptr) continue;
      if (ConvertArchiveLocked(*archive, kRankingArchiveSliceShards)) {
        dead.push_back(std::move(archive->source));
      } else {
        more = true;
      }
      break;
    }
    while (!space.archives.empty() && space.archives.begin()->first < first_kept) {
      dropped_archives_.push_back(space.archives.begin()->first);
      dead.push_back(std::move(space.archives.begin()->second));
      space.archives.erase(space.archives.begin());
    }
    // One part of a weight change's re-score (before windows open: replay keeps this order).
    if (space.rescore.has_value()) {
      StepRescoreLocked(space);
      more = more || space.rescore.has_value();
    }
    // Open every day up to the one `lead` ahead, each from the one before.
    if (!space.windows.empty()) {
      for (int32_t day = std::max(space.windows.rbegin()->first + 1, first_live); day <= ahead;
           ++day) {
        if (deferred.contains({name, day})) break;  // opens once the housekeeper sized it
        const auto spare = spares.find({name, day});
        OpenWindowLocked(space, day, spare == spares.end() ? nullptr : &spare->second);
      }
    }
    for (auto& [index, window] : space.windows) {
      if (!window->building) continue;
      if (StepCopyLocked(space, *window)) {
        window->building = false;
        TouchWindowLocked(index);
      } else {
        more = true;
      }
      break;  // one slice per namespace per step
    }
    LogTouchedLocked(name, space);
  }
  lock.unlock();
  for (auto& thing : dead) Bury(std::move(thing));
  for (auto& [key, window] : spares) {
    if (window != nullptr) Bury(std::move(window));  // its day was opened meanwhile
  }
  return more;
}

}  // namespace podium::storage
