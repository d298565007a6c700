#include "storage/sorted_set.h"

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace podium::storage {
namespace {

using Pair = std::pair<std::string, double>;

MemberKey Key(const std::string& text) { return MemberKey::FromBytes(text); }

std::vector<Pair> Collect(const SortedSet& set, size_t start, size_t stop, Order order) {
  std::vector<Pair> out;
  set.RangeByRank(start, stop, order,
                  [&](const MemberKey& member, double score) {
                    out.emplace_back(member.ToString(), score);
                  });
  return out;
}

// The reference: what Redis would hold. std::string orders by bytes, as Redis does.
class Model {
 public:
  void Set(const std::string& member, double score) {
    Remove(member);
    scores_[member] = score;
    order_.emplace(score, member);
  }
  bool Remove(const std::string& member) {
    const auto it = scores_.find(member);
    if (it == scores_.end()) return false;
    order_.erase({it->second, member});
    scores_.erase(it);
    return true;
  }
  std::optional<double> Score(const std::string& member) const {
    const auto it = scores_.find(member);
    if (it == scores_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<size_t> Rank(const std::string& member) const {
    const auto it = scores_.find(member);
    if (it == scores_.end()) return std::nullopt;
    return std::distance(order_.begin(), order_.find({it->second, member}));
  }
  std::vector<Pair> Range(size_t start, size_t stop, Order order) const {
    std::vector<Pair> all;
    for (const auto& [score, member] : order_) all.emplace_back(member, score);
    if (order == Order::kDescending) std::reverse(all.begin(), all.end());
    std::vector<Pair> out;
    for (size_t i = start; i <= stop && i < all.size(); ++i) out.push_back(all[i]);
    return out;
  }
  std::vector<Pair> RangeByScore(ScoreBound min, ScoreBound max, Order order, size_t offset,
                                 size_t count) const {
    std::vector<Pair> matching;
    for (const auto& [score, member] : order_) {
      const bool above = min.exclusive ? score > min.value : score >= min.value;
      const bool below = max.exclusive ? score < max.value : score <= max.value;
      if (above && below) matching.emplace_back(member, score);
    }
    if (order == Order::kDescending) std::reverse(matching.begin(), matching.end());
    std::vector<Pair> out;
    for (size_t i = offset; i < matching.size() && out.size() < count; ++i) {
      out.push_back(matching[i]);
    }
    return out;
  }
  size_t size() const { return scores_.size(); }
  const std::map<std::string, double>& scores() const { return scores_; }

 private:
  std::map<std::string, double> scores_;
  std::set<std::pair<double, std::string>> order_;
};

void ExpectSame(const SortedSet& set, const Model& model) {
  set.CheckInvariants();
  ASSERT_EQ(set.size(), model.size());
  ASSERT_EQ(Collect(set, 0, set.size(), Order::kAscending),
            model.Range(0, model.size(), Order::kAscending));
  ASSERT_EQ(Collect(set, 0, set.size(), Order::kDescending),
            model.Range(0, model.size(), Order::kDescending));
  const std::vector<Pair> ascending = model.Range(0, model.size(), Order::kAscending);
  for (size_t rank = 0; rank < ascending.size(); ++rank) {
    const auto& [member, score] = ascending[rank];
    ASSERT_EQ(set.Score(Key(member)), score) << member;
    ASSERT_EQ(set.Rank(Key(member), Order::kAscending), rank) << member;
    ASSERT_EQ(set.Rank(Key(member), Order::kDescending), model.size() - 1 - rank) << member;
  }
}

TEST(SortedSetTest, EmptySet) {
  SortedSet set;
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.Score(Key("1")), std::nullopt);
  EXPECT_EQ(set.Rank(Key("1"), Order::kAscending), std::nullopt);
  EXPECT_FALSE(set.Remove(Key("1")));
  EXPECT_FALSE(set.SeekRank(0, Order::kAscending).valid());
  EXPECT_TRUE(Collect(set, 0, 10, Order::kDescending).empty());
  EXPECT_EQ(set.CountBelow({0}), 0u);
  set.CheckInvariants();
}

// A reserved index stays reserved: score changes and removals on a nearly empty set would
// otherwise shrink it, and the set would regrow by rehashing as it fills (a carry-over build).
TEST(SortedSetTest, ReserveIsKeptThroughRemovals) {
  constexpr size_t kReserved = 100'000;
  constexpr size_t kIndexBytes = kReserved * sizeof(uint64_t);
  SortedSet reserved;
  SortedSet plain;
  reserved.Reserve(kReserved);
  for (SortedSet* set : {&reserved, &plain}) {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(set->Set(MemberKey::FromInteger(i), i).ok());
    for (int i = 0; i < 990; ++i) ASSERT_TRUE(set->Remove(MemberKey::FromInteger(i)));
    ASSERT_TRUE(set->IncrementBy(MemberKey::FromInteger(995), -1e6).ok());
    set->CheckInvariants();
  }
  EXPECT_GE(reserved.memory_bytes(), kIndexBytes);
  EXPECT_LT(plain.memory_bytes(), kIndexBytes / 10);
}

TEST(SortedSetTest, AddScoreRankRangeRemove) {
  SortedSet set;
  EXPECT_TRUE(*set.Set(Key("7"), 3.0));
  EXPECT_TRUE(*set.Set(Key("apple"), 1.0));
  EXPECT_TRUE(*set.Set(Key("12"), 2.0));
  EXPECT_FALSE(*set.Set(Key("12"), 5.0));  // moved, not added
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.Score(Key("12")), 5.0);
  EXPECT_EQ(set.Rank(Key("12"), Order::kAscending), 2u);
  EXPECT_EQ(set.Rank(Key("12"), Order::kDescending), 0u);
  EXPECT_EQ(Collect(set, 0, 1, Order::kDescending),
            (std::vector<Pair>{{"12", 5.0}, {"7", 3.0}}));
  EXPECT_EQ(*set.IncrementBy(Key("apple"), 10), 11.0);
  EXPECT_EQ(*set.IncrementBy(Key("new"), -2), -2.0);
  EXPECT_EQ(Collect(set, 0, 99, Order::kAscending),
            (std::vector<Pair>{{"new", -2}, {"7", 3}, {"12", 5}, {"apple", 11}}));
  EXPECT_TRUE(set.Remove(Key("7")));
  EXPECT_FALSE(set.Remove(Key("7")));
  EXPECT_EQ(set.size(), 3u);
  set.CheckInvariants();
}

TEST(SortedSetTest, EqualScoresOrderByMemberBytes) {
  SortedSet set;
  for (const char* member : {"9", "10", "100", "b", "a", "1", "-1"}) {
    ASSERT_TRUE(set.Set(Key(member), 1.0).ok());
  }
  std::vector<std::string> order;
  for (const auto& [member, score] : Collect(set, 0, 99, Order::kAscending)) {
    order.push_back(member);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"-1", "1", "10", "100", "9", "a", "b"}));
}

TEST(SortedSetTest, BadInputChangesNothing) {
  SortedSet set;
  ASSERT_TRUE(set.Set(Key("1"), 1.0).ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(set.Set(Key("2"), nan).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(set.IncrementBy(Key("1"), nan).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(set.Set(Key(std::string(kMemberSizeBytesMax + 1, 'm')), 1).status().code(),
            StatusCode::kLimitExceeded);
  EXPECT_TRUE(set.Set(Key(std::string(kMemberSizeBytesMax, 'm')), 1).ok());
  ASSERT_TRUE(set.Set(Key("big"), inf).ok());
  EXPECT_EQ(set.IncrementBy(Key("big"), -inf).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(set.Score(Key("big")), inf);
  EXPECT_EQ(set.Score(Key("1")), 1.0);
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.MergeInto(&set, 1, Aggregate::kSum).code(), StatusCode::kInvalidArgument);
  set.CheckInvariants();
}

TEST(SortedSetTest, AscendingAndDescendingLoadsThenDrain) {
  SortedSet set;
  Model model;
  constexpr int kMembers = 5000;
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_TRUE(set.Set(MemberKey::FromInteger(i), i).ok());
    model.Set(std::to_string(i), i);
  }
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_TRUE(set.Set(Key("s" + std::to_string(i)), -i).ok());
    model.Set("s" + std::to_string(i), -i);
  }
  ExpectSame(set, model);
  // Full nodes after an ascending load: well under two node headers' worth per entry.
  EXPECT_LT(set.memory_bytes(), 2 * kMembers * 40u + 200'000u);
  for (int i = 0; i < kMembers; i += 2) {
    ASSERT_TRUE(set.Remove(MemberKey::FromInteger(i)));
    model.Remove(std::to_string(i));
  }
  ExpectSame(set, model);
  for (const auto& [member, score] : std::map<std::string, double>(model.scores())) {
    ASSERT_TRUE(set.Remove(Key(member)));
  }
  EXPECT_EQ(set.size(), 0u);
  set.CheckInvariants();
}

// At least 100k random operations of every kind against the reference, checking after each
// batch. Scores come from a small range so ties (ordered by member) are common; members mix
// integers and strings.
TEST(SortedSetTest, MatchesReferenceModelUnderRandomOperations) {
  std::mt19937_64 random(20261122);
  SortedSet set;
  Model model;
  constexpr int kOperations = 120'000;
  constexpr int kBatch = 2'000;
  const auto random_member = [&] {
    const uint64_t id = random() % 3000;
    std::string member = std::to_string(id);
    if (random() % 4 == 0) member.insert(member.begin(), 'm');
    return member;
  };
  const auto random_score = [&] { return static_cast<double>(random() % 40) / 4 - 2; };
  for (int op = 1; op <= kOperations; ++op) {
    const std::string member = random_member();
    switch (random() % 10) {
      case 0:
      case 1:
      case 2: {
        const double score = random_score();
        ASSERT_EQ(*set.Set(Key(member), score), !model.Score(member).has_value());
        model.Set(member, score);
        break;
      }
      case 3:
      case 4: {
        const double delta = random_score();
        const double expected = model.Score(member).value_or(0) + delta;
        ASSERT_EQ(*set.IncrementBy(Key(member), delta), expected);
        model.Set(member, expected);
        break;
      }
      case 5:
        ASSERT_EQ(set.Remove(Key(member)), model.Remove(member));
        break;
      case 6:
        ASSERT_EQ(set.Score(Key(member)), model.Score(member));
        ASSERT_EQ(set.Rank(Key(member), Order::kAscending), model.Rank(member));
        break;
      case 7: {
        const size_t start = random() % (model.size() + 5);
        const size_t stop = start + random() % 30;
        const Order order = random() % 2 ? Order::kAscending : Order::kDescending;
        ASSERT_EQ(Collect(set, start, stop, order), model.Range(start, stop, order));
        break;
      }
      default: {
        ScoreBound min{random_score(), random() % 2 == 0};
        ScoreBound max{min.value + random_score() + 2, random() % 2 == 0};
        if (random() % 10 == 0) min.value = -std::numeric_limits<double>::infinity();
        const Order order = random() % 2 ? Order::kAscending : Order::kDescending;
        const size_t offset = random() % 5;
        const size_t count = 1 + random() % 40;
        std::vector<Pair> got;
        set.RangeByScore(min, max, order, offset, count,
                         [&](const MemberKey& m, double s) { got.emplace_back(m.ToString(), s); });
        ASSERT_EQ(got, model.RangeByScore(min, max, order, offset, count));
        break;
      }
    }
    if (op % kBatch == 0) {
      SCOPED_TRACE("after op " + std::to_string(op));
      ASSERT_NO_FATAL_FAILURE(ExpectSame(set, model));
    }
  }
}

// A score change keeps the member's index slot while the entry moves; meanwhile its old node
// can empty, be freed and have its id reused by a split. Draining the last node of an ascending
// load to the front (full nodes there, so inserts split) does all of that, at every set size
// from a few nodes up, with the invariants (every member found at its node) after each move.
TEST(SortedSetTest, ScoreChangesThatEmptyAndSplitNodesKeepTheIndexExact) {
  for (uint64_t members = 2 * 125; members < 4 * 125; members += 7) {
    SCOPED_TRACE("members " + std::to_string(members));
    SortedSet set;
    for (uint64_t id = 0; id < members; ++id) {
      ASSERT_TRUE(set.Set(MemberKey::FromInteger(id), static_cast<double>(id)).ok());
    }
    for (uint64_t moved = 0; moved < members; ++moved) {
      const uint64_t id = members - 1 - moved;  // the last entry, to the front
      ASSERT_EQ(*set.IncrementBy(MemberKey::FromInteger(id), -10.0 * members),
                static_cast<double>(id) - 10.0 * members);
      set.CheckInvariants();
    }
    EXPECT_EQ(*set.Rank(MemberKey::FromInteger(0), Order::kAscending), 0u);
    EXPECT_EQ(*set.Rank(MemberKey::FromInteger(members - 1), Order::kAscending), members - 1);
  }
}

// Many levels and long moves: score changes on a large set take the finger-search path.
TEST(SortedSetTest, ScoreChangesOnLargeSetMatchModel) {
  std::mt19937_64 random(99);
  SortedSet set;
  Model model;
  constexpr uint64_t kMembers = 60'000;
  for (uint64_t id = 0; id < kMembers; ++id) {
    const double score = static_cast<double>(random() % 5000);
    ASSERT_TRUE(set.Set(MemberKey::FromInteger(id), score).ok());
    model.Set(std::to_string(id), score);
  }
  for (int op = 0; op < 150'000; ++op) {
    const uint64_t id = random() % kMembers;
    const double delta = static_cast<double>(static_cast<int64_t>(random() % 2001) - 1000) / 2;
    const double expected = *model.Score(std::to_string(id)) + delta;
    ASSERT_EQ(*set.IncrementBy(MemberKey::FromInteger(id), delta), expected);
    model.Set(std::to_string(id), expected);
  }
  ExpectSame(set, model);
}

TEST(SortedSetTest, WeightedMergeMatchesRedisAggregates) {
  SortedSet source;
  SortedSet sum, min, max;
  std::map<std::string, double> sum_model, min_model, max_model;
  for (int i = 0; i < 500; ++i) {
    const std::string member = std::to_string(i);
    ASSERT_TRUE(source.Set(Key(member), i).ok());
    if (i % 3 == 0) {
      for (SortedSet* target : {&sum, &min, &max}) ASSERT_TRUE(target->Set(Key(member), 7).ok());
      sum_model[member] = 7 + 0.1 * i;
      min_model[member] = std::min(7.0, 0.1 * i);
      max_model[member] = std::max(7.0, 0.1 * i);
    } else {
      sum_model[member] = min_model[member] = max_model[member] = 0.1 * i;
    }
  }
  ASSERT_TRUE(sum.Set(Key("only-in-target"), 1).ok());
  sum_model["only-in-target"] = 1;
  ASSERT_TRUE(source.MergeInto(&sum, 0.1, Aggregate::kSum).ok());
  ASSERT_TRUE(source.MergeInto(&min, 0.1, Aggregate::kMin).ok());
  ASSERT_TRUE(source.MergeInto(&max, 0.1, Aggregate::kMax).ok());
  for (auto [set, model] : {std::pair{&sum, &sum_model}, std::pair{&min, &min_model},
                            std::pair{&max, &max_model}}) {
    set->CheckInvariants();
    ASSERT_EQ(set->size(), model->size());
    for (const auto& [member, score] : *model) {
      ASSERT_NEAR(*set->Score(Key(member)), score, 1e-9) << member;
    }
  }
  // inf * 0 counts as 0, as in Redis.
  SortedSet infinite, target;
  ASSERT_TRUE(infinite.Set(Key("x"), std::numeric_limits<double>::infinity()).ok());
  ASSERT_TRUE(infinite.MergeInto(&target, 0, Aggregate::kSum).ok());
  EXPECT_EQ(target.Score(Key("x")), 0.0);
}

TEST(SortedSetTest, CursorWalksBothWays) {
  SortedSet set;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(set.Set(MemberKey::FromInteger(i), i % 17).ok());
  size_t seen = 0;
  double last = -1;
  for (auto cursor = set.SeekRank(0, Order::kAscending); cursor.valid(); cursor.Next()) {
    EXPECT_GE(cursor.score(), last);
    last = cursor.score();
    ++seen;
  }
  EXPECT_EQ(seen, 1000u);
  seen = 0;
  for (auto cursor = set.SeekRank(10, Order::kDescending); cursor.valid(); cursor.Next()) ++seen;
  EXPECT_EQ(seen, 990u);
  EXPECT_EQ(set.CountBelow({16}), 1000u - 1000u / 17);
  EXPECT_EQ(set.CountBelow({16, true}), 1000u);
}

// A scan that resumes after (score, member) visits exactly the entries after that key, whether
// the key is still in the set or was removed (which is how a sliced snapshot resumes).
TEST(SortedSetTest, SeekAfterResumesAtTheNextKey) {
  SortedSet set;
  Model model;
  std::mt19937_64 random(7);
  for (int i = 0; i < 5000; ++i) {
    const std::string member =
        i % 3 == 0 ? std::to_string(random() % 100000) : "m" + std::to_string(random() % 20000);
    const double score = static_cast<double>(random() % 50);  // many ties
    ASSERT_TRUE(set.Set(Key(member), score).ok());
    model.Set(member, score);
  }
  const std::vector<Pair> all = model.Range(0, set.size() - 1, Order::kAscending);
  ASSERT_EQ(Collect(set, 0, set.size() - 1, Order::kAscending), all);
  for (int trial = 0; trial < 400; ++trial) {
    const size_t rank = random() % all.size();
    const auto& [member, score] = all[rank];
    if (trial % 2 == 1) {
      ASSERT_TRUE(set.Remove(Key(member)));
    }
    SortedSet::Cursor cursor = set.SeekAfter(score, Key(member));
    for (size_t expected = rank + 1; expected < std::min(all.size(), rank + 4); ++expected) {
      ASSERT_TRUE(cursor.valid()) << "after rank " << rank;
      EXPECT_EQ(cursor.member().ToString(), all[expected].first);
      EXPECT_EQ(cursor.score(), all[expected].second);
      cursor.Next();
    }
    if (rank + 1 == all.size()) {
      EXPECT_FALSE(cursor.valid());
    }
    if (trial % 2 == 1) {
      ASSERT_TRUE(set.Set(Key(member), score).ok());
    }
  }
  EXPECT_FALSE(set.SeekAfter(1e9, Key("x")).valid());
  EXPECT_EQ(set.SeekAfter(-1, Key("x")).score(), all.front().second);
  EXPECT_FALSE(SortedSet().SeekAfter(0, Key("x")).valid());
}

}  // namespace
}  // namespace podium::storage
