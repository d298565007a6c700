#include "storage/member.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace podium::storage {
namespace {

int Sign(int value) { return (value > 0) - (value < 0); }

TEST(MemberKeyTest, CanonicalDecimalIntegersAreInline) {
  EXPECT_TRUE(MemberKey::FromBytes("0").is_integer());
  EXPECT_TRUE(MemberKey::FromBytes("42").is_integer());
  EXPECT_EQ(MemberKey::FromBytes("42").integer(), 42u);
  EXPECT_TRUE(MemberKey::FromBytes("9223372036854775807").is_integer());
  for (const char* text : {"", "042", "00", "+1", "-1", " 1", "1 ", "1.0", "abc",
                           "9223372036854775808", "18446744073709551616", "99999999999999999999"}) {
    EXPECT_FALSE(MemberKey::FromBytes(text).is_integer()) << text;
    EXPECT_EQ(MemberKey::FromBytes(text).ToString(), text);
  }
}

TEST(MemberKeyTest, RenderingRoundTrips) {
  for (uint64_t value : {0ull, 7ull, 10ull, 1234567890123ull, 9223372036854775807ull}) {
    const std::string text = MemberKey::FromInteger(value).ToString();
    EXPECT_EQ(text, std::to_string(value));
    EXPECT_EQ(MemberKey::FromBytes(text).integer(), value);
    EXPECT_EQ(MemberKey::FromBytes(text).size_bytes(), text.size());
  }
}

TEST(MemberKeyTest, SameBytesHashTheSameWhateverTheirForm) {
  EXPECT_EQ(MemberKey::FromBytes("12345").Hash(), MemberKey::FromInteger(12345).Hash());
  EXPECT_NE(MemberKey::FromBytes("12345").Hash(), MemberKey::FromBytes("012345").Hash());
  EXPECT_EQ(MemberKey::FromBytes("apple").Hash(), MemberKey::FromBytes("apple").Hash());
}

// Members must sort exactly as their bytes do (Redis's order), whatever their form.
TEST(MemberKeyTest, OrderIsLexicographicOnBytes) {
  std::mt19937_64 random(7);
  std::vector<std::string> texts = {"", "0", "1", "10", "100", "2", "9", "99", "a", "10a",
                                    "-5", "9223372036854775807", "9223372036854775808"};
  for (int i = 0; i < 2000; ++i) {
    const int digits = 1 + static_cast<int>(random() % 19);
    std::string text = std::to_string(1 + random() % 9);
    while (static_cast<int>(text.size()) < digits) text += static_cast<char>('0' + random() % 10);
    texts.push_back(text.substr(0, 1 + random() % text.size()));
  }
  for (const std::string& a : texts) {
    for (size_t j = 0; j < 40; ++j) {
      const std::string& b = texts[random() % texts.size()];
      const MemberKey key_a = MemberKey::FromBytes(a);
      const MemberKey key_b = MemberKey::FromBytes(b);
      ASSERT_EQ(CompareMembers(key_a, key_b), Sign(a.compare(b))) << a << " vs " << b;
      ASSERT_EQ(CompareMembers(key_b, key_a), Sign(b.compare(a))) << b << " vs " << a;
    }
  }
}

// Digit counting at every power of ten, where an estimate from the bit length can be off.
TEST(MemberKeyTest, OrderAtPowersOfTen) {
  std::vector<uint64_t> values = {0, 1, 9, kProductIdMax};
  for (uint64_t power = 10; power <= 1000000000000000000ull; power *= 10) {
    values.insert(values.end(), {power - 1, power, power + 1});
  }
  for (uint64_t a : values) {
    EXPECT_EQ(MemberKey::FromInteger(a).size_bytes(), std::to_string(a).size()) << a;
    for (uint64_t b : values) {
      ASSERT_EQ(CompareMembers(MemberKey::FromInteger(a), MemberKey::FromInteger(b)),
                Sign(std::to_string(a).compare(std::to_string(b))))
          << a << " vs " << b;
    }
  }
}

TEST(MemberWordTest, StoreViewAndFree) {
  const MemberWord integer = StoreMember(MemberKey::FromBytes("77"));
  EXPECT_EQ(integer, 77u);
  EXPECT_EQ(MemberHeapBytes(integer), 0u);
  const std::string text(300, 'x');
  const MemberWord string = StoreMember(MemberKey::FromBytes(text));
  EXPECT_NE(string & kMemberStringTag, 0u);
  EXPECT_EQ(string & kMemberHashMask, MemberHashBits(MemberKey::FromBytes(text).Hash()));
  EXPECT_EQ(ViewMember(string).bytes(), text);
  EXPECT_GT(MemberHeapBytes(string), text.size());
  EXPECT_TRUE(MemberWordEquals(string, MemberKey::FromBytes(text)));
  EXPECT_FALSE(MemberWordEquals(string, MemberKey::FromBytes("x")));
  EXPECT_FALSE(MemberWordEquals(integer, MemberKey::FromBytes(text)));
  const MemberWord empty = StoreMember(MemberKey::FromBytes(""));
  EXPECT_EQ(ViewMember(empty).bytes(), "");
  FreeMemberWord(integer);
  FreeMemberWord(string);
  FreeMemberWord(empty);
}

}  // namespace
}  // namespace podium::storage
