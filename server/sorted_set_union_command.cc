// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
//
// Replies the destination's size, as Redis does; a missing source counts as empty. How it stays
// out of other clients' way (docs/protocol.md states the bound):
//  - Sources of kUnionInlineEntriesMax entries or fewer in all: on the event loop, each source
//    copied in one hold of its shard's lock, the union built, the destination swapped in. Well
//    under a millisecond.
//  - Bigger: the event loop only checks the sources' types; a worker thread does the rest while
//    the connection waits and every other client goes on. It copies each source
//    kUnionSliceEntries entries per hold of the source's shard lock (a SortedSetCopy, exact as
//    of its last slice); merges the copies with no lock held; then swaps the new set in under
//    the destination's lock and logs it there (so that its records and any other write to the
//    destination are logged in the order they were applied). An event loop that needs a key of
//    one of those shards meanwhile waits at most one slice, or the swap and the log append of
//    the new set's records.
// Either way a big old destination is freed by the database's LazyFree, not where it is swapped.
// So the union is exact per source, as of that source's last slice, but not atomic across
// sources: a writer may change one source after it was copied and before another was.
#include "server/sorted_set_union_command.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/request.h"
#include "protocol/status_codes.h"
#include "server/arguments.h"
#include "server/command.h"
#include "storage/database.h"
#include "storage/effects.h"
#include "storage/keyspace.h"
#include "storage/sorted_set.h"
#include "storage/sorted_set_copy.h"

namespace podium::server {
namespace {

using protocol::StatusCode;
using storage::MemberKey;
using storage::SortedSet;

// Unions of up to this many source entries are built on the event loop (well under a
// millisecond); bigger ones on a worker thread.
constexpr size_t kUnionInlineEntriesMax = 4096;
// Entries a worker copies from a source per hold of its shard lock (well under a millisecond).
constexpr size_t kUnionSliceEntries = 4096;

// Copies `key`'s sorted set into *copy, kUnionSliceEntries entries per hold of the key's shard
// lock. WrongType if the key holds another type when a slice looks at it.
storage::Status CopyInSlices(storage::Database& db, const std::string& key, int64_t now_ms,
                             storage::SortedSetCopy* copy) {
  for (;;) {
    storage::Status status;
    const bool done = db.WithKey(key, [&](storage::Keyspace& keys) {
      storage::Result<SortedSet*> found = keys.FindSortedSet(key, now_ms);
      if (!found.ok()) {
        status = found.status();
        copy->Abandon();
        return true;
      }
      return copy->CopySlice(*found, kUnionSliceEntries);
    });
    if (!status.ok()) return status;
    if (done) return storage::Status::Ok();
  }
}

// Adds weight * source into union_set by Redis's rules (zunionInterAggregate): inf * 0 and
// inf + -inf count as 0.
storage::Status MergeCopy(const storage::SortedSetCopy& source, double weight,
                          storage::Aggregate aggregate, SortedSet* union_set) {
  storage::Status status;
  source.ForEach([&](const MemberKey& member, double score) {
    if (!status.ok()) return;
    double value = storage::WeightedScore(weight, score);
    if (const std::optional<double> existing = union_set->Score(member)) {
      value = storage::AggregateScores(aggregate, *existing, value);
    }
    storage::Result<bool> set = union_set->Set(member, storage::WithoutNegativeZero(value));
    if (!set.ok()) status = set.status();
  });
  return status;
}

struct UnionRequest {
  std::string_view destination;
  std::vector<std::string_view> sources;
  std::vector<double> weights;
  storage::Aggregate aggregate = storage::Aggregate::kSum;
};

// Reads the options after the sources, from argument `index` on.
bool ReadUnionOptions(CommandContext& context, size_t index, UnionRequest* request) {
  const size_t count = request->sources.size();
  request->weights.assign(count, 1.0);
  while (index < context.argc()) {
    const size_t remaining = context.argc() - index;
    if (remaining >= count + 1 && ArgumentIs(context, index, "WEIGHTS")) {
      ++index;
      for (size_t i = 0; i < count; ++i, ++index) {
        const std::optional<double> weight = protocol::ArgumentToDouble(context.arg(index));
        if (!weight.has_value()) {
          context.reply.Error(StatusCode::kErr, "weight value is not a float");
          return false;
        }
        request->weights[i] = *weight;
      }
    } else if (remaining >= 2 && ArgumentIs(context, index, "AGGREGATE")) {
      if (ArgumentIs(context, index + 1, "SUM")) {
        request->aggregate = storage::Aggregate::kSum;
      } else if (ArgumentIs(context, index + 1, "MIN")) {
        request->aggregate = storage::Aggregate::kMin;
      } else if (ArgumentIs(context, index + 1, "MAX")) {
        request->aggregate = storage::Aggregate::kMax;
      } else {
        ReplySyntaxError(context);
        return false;
      }
      index += 2;
    } else {
      ReplySyntaxError(context);
      return false;
    }
  }
  return true;
}

// destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]
bool ReadUnionRequest(CommandContext& context, UnionRequest* request) {
  int64_t source_count = 0;
  if (!ReadKey(context, 0, &request->destination) || !ReadInt64(context, 1, &source_count)) {
    return false;
  }
  if (source_count < 1) {
    context.reply.Error(StatusCode::kErr,
                        "at least 1 input key is needed for 'zunionstore' command");
    return false;
  }
  if (static_cast<uint64_t>(source_count) > context.argc() - 2) {
    ReplySyntaxError(context);
    return false;
  }
  const size_t end = 2 + static_cast<size_t>(source_count);
  for (size_t index = 2; index < end; ++index) {
    std::string_view source;
    if (!ReadKey(context, index, &source)) return false;
    request->sources.push_back(source);
  }
  return ReadUnionOptions(context, end, request);
}

// Swaps `set` in at `destination` and logs it, under the destination's lock. A big old
// destination goes to the database's LazyFree.
void StoreUnion(storage::Database& db, const std::string& destination,
                std::unique_ptr<SortedSet> set, std::vector<std::string> records, int64_t now_ms) {
  db.WithKey(destination, [&](storage::Keyspace& keys) {
    const bool empty = set->size() == 0;
    keys.ReplaceSortedSet(destination, std::move(set), now_ms);
    if (empty) {
      storage::LogKeyDelete(db.log(), destination);
    } else {
      storage::LogSortedSetRecords(db.log(), std::move(records));
    }
  });
}

// A union too big for the event loop, run on a worker thread.
struct BigUnion {
  storage::Database* db = nullptr;
  int64_t now_ms = 0;
  std::string destination;
  std::vector<std::string> sources;
  std::vector<double> weights;
  storage::Aggregate aggregate = storage::Aggregate::kSum;
  storage::Status status;  // out: WrongType for a source that became another type
  size_t size = 0;         // out: the destination's size

  void Run() {
    auto union_set = std::make_unique<SortedSet>();
    for (size_t i = 0; i < sources.size() && status.ok(); ++i) {
      storage::SortedSetCopy copy;
      status = CopyInSlices(*db, sources[i], now_ms, &copy);
      if (status.ok()) status = MergeCopy(copy, weights[i], aggregate, union_set.get());
    }
    if (!status.ok()) return;
    size = union_set->size();
    std::vector<std::string> records;
    if (db->log() != nullptr && size > 0) {
      records = storage::EncodeSortedSetStore(destination, *union_set);
    }
    StoreUnion(*db, destination, std::move(union_set), std::move(records), now_ms);
  }
};

void ZUnionStoreCommand(CommandContext& context) {
  UnionRequest request;
  if (!ReadUnionRequest(context, &request)) return;
  // Each source's type and size, and while the union stays small, its entries: one lock hold
  // a source.
  std::vector<storage::SortedSetCopy> copies(request.sources.size());
  size_t entries_total = 0;
  for (size_t i = 0; i < request.sources.size(); ++i) {
    const bool ok = context.db.WithKey(request.sources[i], [&](storage::Keyspace& keys) {
      storage::Result<SortedSet*> found = keys.FindSortedSet(request.sources[i], context.now_ms);
      if (!found.ok()) {
        ReplyStatus(context, found.status());  // WRONGTYPE; nothing changed
        return false;
      }
      if (*found == nullptr) return true;
      entries_total += (*found)->size();
      if (entries_total <= kUnionInlineEntriesMax) {
        copies[i].CopySlice(*found, kUnionInlineEntriesMax);  // complete in one slice
      }
      return true;
    });
    if (!ok) return;
  }
  if (entries_total > kUnionInlineEntriesMax) {
    auto job = std::make_shared<BigUnion>();
    job->db = &context.db;
    job->now_ms = context.now_ms;
    job->destination = request.destination;
    job->sources.assign(request.sources.begin(), request.sources.end());
    job->weights = std::move(request.weights);
    job->aggregate = request.aggregate;
    context.deferred = std::make_unique<DeferredCommand>(
        DeferredCommand{[job] { job->Run(); },
                        [job](CommandContext& done) {
                          if (!job->status.ok()) {
                            ReplyStatus(done, job->status);
                            return;
                          }
                          done.reply.Integer(static_cast<int64_t>(job->size));
                        }});
    return;
  }
  auto union_set = std::make_unique<SortedSet>();
  for (size_t i = 0; i < copies.size(); ++i) {
    storage::Status status =
        MergeCopy(copies[i], request.weights[i], request.aggregate, union_set.get());
    if (!status.ok()) {
      ReplyStatus(context, status);
      return;
    }
  }
  const size_t size = union_set->size();
  const std::string destination(request.destination);
  std::vector<std::string> records;
  if (context.db.log() != nullptr && size > 0) {
    records = storage::EncodeSortedSetStore(destination, *union_set);
  }
  StoreUnion(context.db, destination, std::move(union_set), std::move(records), context.now_ms);
  context.reply.Integer(static_cast<int64_t>(size));
}

}  // namespace

void RegisterSortedSetUnionCommand(CommandRegistry& registry) {
  // Arity, flags and key positions as Redis 7's COMMAND reports them: the sources are
  // "movable keys" there, so COMMAND gives only the destination's position, as Redis does.
  registry.Add({protocol::Opcode::kZUnionStore, -4, kCommandWrite, 1, 1, 1, ZUnionStoreCommand});
}

}  // namespace podium::server
