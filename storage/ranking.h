// Rankings: time-windowed boards of products, fed by weighted, idempotent events, with an
// exact carry-over from one window into the next that never stalls. docs/rankings.md is the
// model (windows, weights, carry-over, retention); this header is the engine's contract.
//
// A namespace (e.g. "all") holds one window per calendar day of the configured time zone,
// named yyyyMMdd. A window is a sorted set of products plus each product's raw signals (views,
// net likes, sum of ln(1 + qty x unit_price), and the carried-over part). A product's score in
// window W is
//     score(W, p) = w_view x views + w_like x likes + w_order x order_sum + carried(W, p)
//     carried(W, p) = w_carry x score(W - 1, p)
// kept exact at every moment:
//   - an event changes score(W, p) by some delta and then walks forward: carried(W + 1, p) gains
//     w_carry x delta, which changes score(W + 1, p), and so on while later windows exist;
//   - a new window W + 1 is opened `lead` before its day begins (or by its first event). Its
//     carried parts are copied from W by a background stepper, kRankingCarrySliceMembers per
//     step, walking W in (score, member) order and resuming after the last member copied; an
//     event on a product not yet copied copies that product first. Each product is copied
//     exactly once (a per-product flag), so nothing can apply the carry twice;
//   - until its copy is done a window is "building": queries on it answer BUSY rather than a
//     partial board. With the default lead of an hour it is done long before its day begins.
//
// Event ids are remembered per window until the window expires (retention), so a redelivered
// event counts once; an event for a window that has expired, or from past now + skew, is an
// error that changes nothing.
//
// An expired window's raw signals (not its board, event ids or carried parts) move into a
// compact archive of the day, a few of its 256 parts per step, kept until the end of the month
// after the day's own: the weekly and monthly boards are built from them by podium-batch
// (ScanDay), which publishes each board whole (Publish). Period boards are named "2026W49" or
// "202612" and live until the next Publish of the same name.
//
// Thread-safety: every method takes the engine's mutex; each call is short (O(log n) per
// window touched, or one slice). Durable through set_log (below).
#pragma once

#include <array>
#include <climits>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storage/sharded_hash.h"
#include "storage/sorted_set.h"
#include "storage/status.h"

namespace podium::storage {

class EffectLog;

enum class RankEventKind : uint8_t { kView, kLike, kUnlike, kOrder };

struct RankEvent {
  std::string_view id;
  RankEventKind kind = RankEventKind::kView;
  uint64_t product = 0;
  int64_t ts_ms = 0;
  int64_t quantity = 0;    // ORDER only
  int64_t unit_price = 0;  // ORDER only
};

struct RankWeights {
  double view = 0.1;
  double like = 0.2;
  double order = 0.7;
  double carry = 0.1;
};

struct RankSignals {
  int64_t views = 0;
  int64_t likes = 0;  // net: likes - unlikes
  double order_sum = 0;
  double carried = 0;
  double score = 0;
};

// One product's raw signals in one day, as ScanDay reads them.
struct DaySignals {
  uint64_t product = 0;
  int64_t views = 0;
  int64_t likes = 0;
  double order_sum = 0;
  bool operator==(const DaySignals&) const = default;
};

struct RankingOptions {
  int64_t retention_ms = int64_t{2} * 24 * 3600 * 1000;  // a daily window lives 2 days
  int64_t future_skew_ms = int64_t{5} * 60 * 1000;       // events up to now + 5 min
  int64_t open_lead_ms = int64_t{3600} * 1000;           // open the next window 1 h ahead
  // How long before a window opens the housekeeper thread starts sizing its tables, so the
  // stepper's thread does not spend ~10 ms allocating them at the opening. 0: sized by the
  // stepper at the opening (tests that step the clock by hand). A window whose sizing is under
  // way when it is due opens at the first step after it is done.
  int64_t spare_lead_ms = 0;
};

// Days of the configured time zone (the process's TZ, set from --ranking-tz at start).
struct RankDay {
  int32_t index = 0;      // days since 1970-01-01 in that zone
  std::string name;       // yyyyMMdd
  int64_t start_ms = 0;   // local midnight, as Unix ms
};
RankDay RankDayOf(int64_t unix_ms);
RankDay RankDayAt(int32_t index);
std::optional<int32_t> ParseRankDayName(std::string_view name);  // yyyyMMdd

class Rankings {
 public:
  explicit Rankings(RankingOptions options = {});
  ~Rankings();
  Rankings(const Rankings&) = delete;
  Rankings& operator=(const Rankings&) = delete;

  // Applies one event: true when applied, false when its id was already applied.
  Result<bool> Apply(std::string_view ns, const RankEvent& event, int64_t now_ms);

  struct WeightsState {
    RankWeights weights;     // in force: new events and re-scored products use them
    bool rescoring = false;  // a change is still re-scoring the windows
  };
  WeightsState Weights(std::string_view ns);
  // New weights for ns. The windows are re-scored from their raw signals by the stepper, oldest
  // window first, one of a window's 256 parts per step (a product's score, signals and carried
  // part use one set of weights at every moment: the new ones once its part is done). Busy
  // while the previous change is still re-scoring.
  Status SetWeights(std::string_view ns, const RankWeights& weights);
  // The weights product's score in window uses now (RANK.SIGNALS reports them).
  Result<RankWeights> WeightsOf(std::string_view ns, std::string_view window, uint64_t product);

  struct Entry {
    uint64_t product;
    double score;
  };
  // Queries: a window still being built is Busy; a window that does not exist (no event yet,
  // or expired) is an empty board; a bad window name is InvalidArgument.
  Result<std::vector<Entry>> Top(std::string_view ns, std::string_view window, size_t offset,
                                 size_t count);
  // 1-based rank and score, or nullopt when the product is not on the board.
  struct Position {
    uint64_t rank;
    double score;
  };
  Result<std::vector<std::optional<Position>>> Of(std::string_view ns, std::string_view window,
                                                  const std::vector<uint64_t>& products);
  Result<uint64_t> Card(std::string_view ns, std::string_view window);
  // *weights, when given, gets the weights the score uses, read under the same lock.
  Result<std::optional<RankSignals>> Signals(std::string_view ns, std::string_view window,
                                             uint64_t product, RankWeights* weights = nullptr);

  // Window names: a day "yyyyMMdd" names a day's window; any other name a period board (the
  // caller validates period names: protocol/rank_periods.h). Signals takes days only.

  // One chunk of a day's raw signals, live window or archive: the products with non-zero
  // raw signals that day (not those only carried in) of the day's parts
  // from `cursor` (0..kShardedHashShards-1) on, whole parts until at least `count`; each part
  // is read under the lock at once, so a full scan yields each product exactly once. The next
  // cursor is 0 when the day is done. InvalidArgument for a bad day name or cursor, or a day
  // whose raw signals are no longer kept (before the previous month of now's day).
  struct SignalChunk {
    uint64_t next_cursor = 0;
    std::vector<DaySignals> entries;  // by part, then by product
  };
  Result<SignalChunk> ScanDay(std::string_view ns, std::string_view day, uint64_t cursor,
                              size_t count, int64_t now_ms);
  // Replaces the board of period `name` with `entries` in one step (readers see the old board
  // or the new one). InvalidArgument, changing nothing, for more than kRankBoardMembersMax
  // entries, a product twice, a product id out of range or a score that is not finite.
  // Returns the board's size.
  Result<uint64_t> Publish(std::string_view ns, std::string_view name,
                           const std::vector<Entry>& entries);

  // Background work, called from a timer: opens windows `lead` ahead, copies carried parts a
  // slice at a time, drops expired windows. Returns true while a copy has more to do.
  bool Step(int64_t now_ms);

  // Durability (docs/wal_format.md, "Ranking entries"). With a log set, every call that
  // changes state logs, under the engine's lock, one kRanking record per namespace touched:
  // the final values of the cells it changed (a product's signals in a window, a window's
  // state, an event id, the weights), so replay reaches the same state in the same order.
  void set_log(EffectLog* log);
  // Replay of one record, or of one chunk of a snapshot's ranking section: InvalidArgument if
  // it does not decode (nothing applied then); else how many entries besides namespace ones.
  Result<uint64_t> ApplyEntries(std::string_view entries);
  // A snapshot's ranking section: every namespace's weights and re-score state, windows, event
  // ids, products, archives and period boards, in chunks of about kRankingSnapshotChunkBytes
  // that each start with their namespace (each one an ApplyEntries payload); returns how many
  // entries besides the namespace ones. Encoded a slice per lock hold (a window's shard, an
  // archive's part, a period board) while events go on: the image is fuzzy, and the WAL
  // records after the snapshot point, which assign final values, put it right at recovery
  // (storage/snapshot_capture.h). *longest_hold_us, when given, gets the longest hold.
  uint64_t AppendSnapshotChunks(std::vector<std::string>* chunks,
                                int64_t* longest_hold_us = nullptr);
  // The same, each chunk handed to `sink` with its entry count as soon as it is complete,
  // outside the lock (so the image never sits in memory whole); stops at the sink's first
  // error and returns it.
  using ChunkSink = std::function<Status(std::string_view chunk, uint64_t entries)>;
  Status StreamSnapshotChunks(const ChunkSink& sink, int64_t* longest_hold_us = nullptr);

 private:
  struct ProductState {
    RankSignals signals;
    bool carried_in = false;  // this window's carry from the previous one is applied
  };
  struct Window {
    RankDay day;
    SortedSet board;
    ShardedMap<ProductState> products;  // sharded: growth never rehashes a million at once
    ShardedStringSet event_ids;
    bool building = false;  // copying carried parts from the previous window
    bool cursor_set = false;
    double cursor_score = 0;
    uint64_t cursor_product = 0;
  };
  // An expired day's raw signals: kShardedHashShards arrays sorted by product, part i holding
  // the products of the window's shard i. Filled from `source` by the stepper, a few parts per
  // step; parts >= parts_done are still read from source.
  struct Archive {
    std::array<std::vector<DaySignals>, kShardedHashShards> parts;
    std::unique_ptr<Window> source;
    size_t parts_done = kShardedHashShards;
  };
  // A weight change in progress: windows before `day` are re-scored, and parts < `part` of the
  // window of `day`; everything else still uses `old_weights`.
  struct Rescore {
    RankWeights old_weights;
    int32_t day = INT32_MIN;
    size_t part = 0;
  };
  struct Namespace {
    RankWeights weights;
    std::optional<Rescore> rescore;
    std::map<int32_t, std::unique_ptr<Window>> windows;  // by day index
    std::map<int32_t, std::unique_ptr<Archive>> archives;  // by day index
    std::map<std::string, std::unique_ptr<SortedSet>, std::less<>> periods;  // by name
  };

  Namespace& NamespaceLocked(std::string_view ns);
  Window* FindWindowLocked(Namespace& space, int32_t day);
  Result<const Window*> QueryWindowLocked(std::string_view ns, std::string_view window);
  // The board a query names: a day's window board, or a period board; nullptr when empty.
  Result<const SortedSet*> QueryBoardLocked(std::string_view ns, std::string_view name);
  // The first day whose raw signals are kept at now_ms: the 1st of the previous month.
  static int32_t FirstKeptDay(int64_t now_ms);
  // Moves an expired window into the day's archive (converted later, ConvertArchiveLocked).
  void ArchiveWindowLocked(Namespace& space, std::unique_ptr<Window> window);
  // Converts up to `parts` more parts of the archive; true when it is complete.
  static bool ConvertArchiveLocked(Archive& archive, size_t parts);
  static void AppendPartSignals(const Archive& archive, size_t part,
                                std::vector<DaySignals>* out);
  static void InsertArchived(Archive& archive, const DaySignals& signals);
  // Opens the window of `day` if it is not open, from *spare when given and not null (a
  // window allocated and sized outside the lock: SizedWindow).
  Window& OpenWindowLocked(Namespace& space, int32_t day, std::unique_ptr<Window>* spare = nullptr);
  // A new window with its tables sized for one like `previous` (about 10 ms of allocation at a
  // million products: done outside the engine's lock where it can be).
  static std::unique_ptr<Window> SizedWindow(size_t products, size_t board, size_t event_ids);
  // Sets p's score in w from its signals; returns the change.
  double RescoreLocked(const RankWeights& weights, Window& window, uint64_t product,
                       ProductState& state);
  void PropagateLocked(Namespace& space, int32_t from_day, uint64_t product, double delta);
  // The weights of product's score in the window of `day` (Rescore).
  static const RankWeights& WeightsFor(const Namespace& space, int32_t day, uint64_t product);
  // SetWeights and its replay: the new weights, and a re-score from the oldest window.
  static void StartRescoreLocked(Namespace& space, const RankWeights& weights);
  // One part of the re-score, or its end when no window is left; logged (LogTouchedLocked):
  // the position, and the part's products as final values.
  void StepRescoreLocked(Namespace& space);
  // Re-scores part `part` of window `day` with the weights in force.
  void RescorePartLocked(Namespace& space, int32_t day, size_t part);
  void CopyCarryLocked(const RankWeights& weights, const Window& previous, Window& window,
                       uint64_t product, ProductState& state);
  bool StepCopyLocked(Namespace& space, Window& window);

  // What one locked call changed, logged at its end (LogTouchedLocked).
  void TouchProductLocked(int32_t day, uint64_t product);
  void TouchWindowLocked(int32_t day);
  void LogTouchedLocked(std::string_view ns, const Namespace& space);
  static void AppendProductEntry(int32_t day, uint64_t product, const ProductState& state,
                                 std::string* out);
  static void AppendWindowEntry(const Window& window, std::string* out);
  void LogPeriodLocked(std::string_view ns, std::string_view name, const SortedSet& board);
  void Bury(std::shared_ptr<void> dead);  // freed by the housekeeper thread

  // A window the housekeeper sizes before it opens (RankingOptions::spare_lead_ms).
  using SpareKey = std::pair<std::string, int32_t>;  // namespace, day
  struct Spare {
    size_t products = 0;
    size_t board = 0;
    size_t event_ids = 0;
    bool sizing = false;             // the housekeeper is on it
    std::unique_ptr<Window> window;  // set when sized
  };
  struct NextWindow {
    SpareKey key;
    size_t products, board, event_ids;  // of the window before it
  };
  // Step's part outside the engine's lock: asks for the spares of `prepare`, and returns the
  // windows for `opening`, sized, except those whose sizing is under way (in *deferred). Spares
  // of days up to `open_through` (namespace's last open day) are stale and freed.
  std::map<SpareKey, std::unique_ptr<Window>> TakeSpares(
      const std::vector<NextWindow>& prepare, const std::vector<NextWindow>& opening,
      const std::map<std::string, int32_t>& open_through, std::set<SpareKey>* deferred);

  void RunHousekeeper();

  const RankingOptions options_;
  std::mutex mutex_;
  // Expired windows are freed, and the next windows sized, on a thread of their own
  // (RunHousekeeper), holding no lock a request needs.
  std::mutex housekeeper_mutex_;
  std::condition_variable housekeeper_wake_;
  std::vector<std::shared_ptr<void>> graveyard_;
  std::map<SpareKey, Spare> spares_;
  bool housekeeper_stopping_ = false;
  std::thread housekeeper_;
  std::unordered_map<std::string, Namespace> namespaces_;
  EffectLog* log_ = nullptr;
  std::vector<std::pair<int32_t, uint64_t>> touched_products_;
  std::vector<int32_t> touched_windows_;
  std::vector<int32_t> dropped_windows_;
  std::vector<int32_t> dropped_archives_;
  std::string touched_event_id_;
  int32_t touched_event_day_ = 0;
  bool weights_changed_ = false;
  std::vector<std::pair<int32_t, size_t>> rescored_parts_;  // (day, part), in order
  bool rescore_ended_ = false;
};

}  // namespace podium::storage
