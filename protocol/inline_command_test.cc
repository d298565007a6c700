#include "protocol/inline_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace podium::protocol {
namespace {

std::vector<std::string> Split(std::string_view line, bool* ok = nullptr) {
  std::string scratch;
  std::vector<std::string_view> words;
  const bool split = SplitInlineCommand(line, &scratch, &words);
  if (ok != nullptr) *ok = split;
  return {words.begin(), words.end()};
}

using Words = std::vector<std::string>;

TEST(RespInlineCommandTest, PlainWords) {
  EXPECT_EQ(Split("SET key value"), (Words{"SET", "key", "value"}));
  EXPECT_EQ(Split("  a\t\tb \v c\f "), (Words{"a", "b", "c"}));
  EXPECT_EQ(Split(""), Words{});
  EXPECT_EQ(Split("   "), Words{});
}

TEST(RespInlineCommandTest, DoubleQuotesTakeEscapes) {
  EXPECT_EQ(Split(R"(SET k "hello world")"), (Words{"SET", "k", "hello world"}));
  EXPECT_EQ(Split(R"("a\x41\x4a\n\r\t\b\a\\\"\q")"), (Words{std::string("aAJ\n\r\t\b\a\\\"q")}));
  EXPECT_EQ(Split(R"("\x4")"), (Words{"x4"}));  // not a full \xHH: '\x' is 'x'
  EXPECT_EQ(Split(R"("")"), (Words{""}));
  EXPECT_EQ(Split(R"(a"b c")"), (Words{"ab c"}));  // a quote may open mid-word
}

TEST(RespInlineCommandTest, SingleQuotesTakeOnlyEscapedQuotes) {
  EXPECT_EQ(Split(R"('it\'s' '\n')"), (Words{"it's", "\\n"}));
}

TEST(RespInlineCommandTest, UnbalancedQuotesFail) {
  bool ok = true;
  Split(R"(SET k "abc)", &ok);
  EXPECT_FALSE(ok);
  Split(R"(SET k 'abc)", &ok);
  EXPECT_FALSE(ok);
  Split(R"(SET k "a"b)", &ok);  // a closing quote must end the word
  EXPECT_FALSE(ok);
  Split(R"(SET k "abc\")", &ok);
  EXPECT_FALSE(ok);
}

TEST(RespInlineCommandTest, NulEndsTheLineAsInRedis) {
  EXPECT_EQ(Split(std::string_view("GET a\0b c", 9)), (Words{"GET", "a"}));
  bool ok = true;
  Split(std::string_view("GET \"a\0\"", 8), &ok);
  EXPECT_FALSE(ok);
}

TEST(RespInlineCommandTest, UnquotedWordsViewTheLine) {
  const std::string line = "GET key";
  std::string scratch;
  std::vector<std::string_view> words;
  ASSERT_TRUE(SplitInlineCommand(line, &scratch, &words));
  EXPECT_EQ(words[1].data(), line.data() + 4);
  EXPECT_TRUE(scratch.empty());
}

}  // namespace
}  // namespace podium::protocol
