// SortedSetCopy: a copy taken in slices, with the set changing between them in every way that
// fools a plain resumed scan (members moved behind or ahead of the cursor, added, removed, the
// set replaced or gone), equals the set as it is at the last slice.
#include "storage/sorted_set_copy.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>

namespace podium::storage {
namespace {

using Content = std::map<std::string, double>;

Content ContentOf(const SortedSet& set) {
  Content content;
  set.RangeByRank(0, set.size(), Order::kAscending, [&](const MemberKey& member, double score) {
    content[member.ToString()] = score;
  });
  return content;
}

Content ContentOf(const SortedSetCopy& copy) {
  Content content;
  copy.ForEach([&](const MemberKey& member, double score) {
    EXPECT_TRUE(content.emplace(member.ToString(), score).second)
        << "member " << member.ToString() << " visited twice";
  });
  return content;
}

// Members 0..n-1 (integers) and "s0".."s{n/4}" (strings), scores 0..99.
std::unique_ptr<SortedSet> Board(int n, std::mt19937_64& random) {
  auto set = std::make_unique<SortedSet>();
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(set->Set(MemberKey::FromInteger(i), static_cast<double>(random() % 100)).ok());
  }
  for (int i = 0; i < n / 4; ++i) {
    const std::string member = "s" + std::to_string(i);
    EXPECT_TRUE(set->Set(MemberKey::FromBytes(member), static_cast<double>(random() % 100)).ok());
  }
  return set;
}

TEST(SortedSetCopyTest, ExactAsOfTheLastSliceWhileTheSetChanges) {
  constexpr int kMembers = 20'000;
  constexpr size_t kSlice = 500;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 random(seed);
    std::unique_ptr<SortedSet> set = Board(kMembers, random);
    SortedSetCopy copy;
    int slices = 0;
    while (!copy.CopySlice(set.get(), kSlice)) {
      ++slices;
      // Between slices: members jump to the very start (behind any cursor) and the very end
      // (ahead of it), scores change a little, members come and go.
      for (int change = 0; change < 40; ++change) {
        const MemberKey member = MemberKey::FromInteger(random() % (kMembers + 2'000));
        switch (random() % 5) {
          case 0:
            ASSERT_TRUE(set->Set(member, -1.0 - static_cast<double>(random() % 10)).ok());
            break;
          case 1:
            ASSERT_TRUE(set->Set(member, 1000.0 + static_cast<double>(random() % 10)).ok());
            break;
          case 2:
            ASSERT_TRUE(set->IncrementBy(member, 1.0).ok());
            break;
          case 3:
            set->Remove(member);
            break;
          default:
            set->Remove(MemberKey::FromBytes("s" + std::to_string(random() % (kMembers / 4))));
            break;
        }
      }
    }
    EXPECT_GT(slices, 40);
    ASSERT_TRUE(copy.complete());
    EXPECT_EQ(ContentOf(copy), ContentOf(*set));
  }
}

TEST(SortedSetCopyTest, StartsOverWhenTheSetIsReplacedAndIsEmptyWhenItIsGone) {
  std::mt19937_64 random(7);
  std::unique_ptr<SortedSet> set = Board(4'000, random);
  SortedSetCopy copy;
  ASSERT_FALSE(copy.CopySlice(set.get(), 1'000));
  set = Board(3'000, random);  // the old set is destroyed: its watch hears of it
  ASSERT_FALSE(copy.CopySlice(set.get(), 1'000));
  while (!copy.CopySlice(set.get(), 1'000)) {
  }
  EXPECT_EQ(ContentOf(copy), ContentOf(*set));

  SortedSetCopy gone;
  ASSERT_FALSE(gone.CopySlice(set.get(), 1'000));
  set.reset();
  EXPECT_TRUE(gone.CopySlice(nullptr, 1'000));
  EXPECT_TRUE(ContentOf(gone).empty());
}

TEST(SortedSetCopyTest, AbandonedCopyLeavesTheSetUnwatched) {
  std::mt19937_64 random(3);
  std::unique_ptr<SortedSet> set = Board(4'000, random);
  {
    SortedSetCopy copy;
    ASSERT_FALSE(copy.CopySlice(set.get(), 100));
    copy.Abandon();  // its destructor would CHECK-fail while attached
  }
  ASSERT_TRUE(set->IncrementBy(MemberKey::FromInteger(1), 1).ok());  // notes into no watch
  set->CheckInvariants();
}

}  // namespace
}  // namespace podium::storage
