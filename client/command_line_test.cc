#include "client/command_line.h"

#include <gtest/gtest.h>

namespace podium::client {
namespace {

using Words = std::vector<std::string>;

TEST(CliCommandLineTest, SplitsOnWhitespace) {
  EXPECT_EQ(SplitCommandLine("ZREVRANGE b 0 9 WITHSCORES"),
            (Words{"ZREVRANGE", "b", "0", "9", "WITHSCORES"}));
  EXPECT_EQ(SplitCommandLine("  set \t k   v  "), (Words{"set", "k", "v"}));
  EXPECT_EQ(SplitCommandLine("GET k\r"), (Words{"GET", "k"}));
  EXPECT_EQ(SplitCommandLine(""), Words{});
  EXPECT_EQ(SplitCommandLine("   "), Words{});
}

TEST(CliCommandLineTest, DoubleQuotesTakeEscapes) {
  EXPECT_EQ(SplitCommandLine(R"(SET k "hello world")"), (Words{"SET", "k", "hello world"}));
  EXPECT_EQ(SplitCommandLine(R"(SET k "a\nb\t\"c\"\\")"), (Words{"SET", "k", "a\nb\t\"c\"\\"}));
  EXPECT_EQ(SplitCommandLine(R"(SET k "\x41\x7a\xff")"), (Words{"SET", "k", "Az\xff"}));
  EXPECT_EQ(SplitCommandLine(R"(SET k "")"), (Words{"SET", "k", ""}));
  // Not an \xHH escape: the x is kept as it is.
  EXPECT_EQ(SplitCommandLine(R"(SET k "\xZZ")"), (Words{"SET", "k", "xZZ"}));
}

TEST(CliCommandLineTest, SingleQuotesAreLiteralButForQuote) {
  EXPECT_EQ(SplitCommandLine(R"(SET k 'it\'s \n here')"), (Words{"SET", "k", "it's \\n here"}));
  EXPECT_EQ(SplitCommandLine("SET k 'a \"b\"'"), (Words{"SET", "k", "a \"b\""}));
}

TEST(CliCommandLineTest, QuotesMayJoinAWord) {
  EXPECT_EQ(SplitCommandLine(R"(SET k ab"cd ef")"), (Words{"SET", "k", "abcd ef"}));
}

TEST(CliCommandLineTest, RefusesUnbalancedQuotes) {
  EXPECT_EQ(SplitCommandLine(R"(SET k "open)"), std::nullopt);
  EXPECT_EQ(SplitCommandLine("SET k 'open"), std::nullopt);
  // A closing quote must be followed by whitespace or the end of the line.
  EXPECT_EQ(SplitCommandLine(R"(SET k "a"b)"), std::nullopt);
}

TEST(CliCommandLineTest, LinesWithSecretsStayOutOfTheHistory) {
  EXPECT_TRUE(LineHoldsSecret("AUTH s3cret"));
  EXPECT_TRUE(LineHoldsSecret("  auth default s3cret"));
  EXPECT_TRUE(LineHoldsSecret(R"(AUTH "my secret)"));  // unbalanced quotes: still kept out
  EXPECT_TRUE(LineHoldsSecret(R"("auth" 'x y')"));
  EXPECT_TRUE(LineHoldsSecret("HELLO 3 AUTH default s3cret"));
  EXPECT_TRUE(LineHoldsSecret("hello 2 SETNAME me auth default s3cret"));
  EXPECT_TRUE(LineHoldsSecret("CONFIG SET requirepass s3cret"));
  EXPECT_TRUE(LineHoldsSecret("config set maxmemory 1mb MasterAuth s3cret"));
  EXPECT_TRUE(LineHoldsSecret("ACL SETUSER alice on >s3cret"));
  EXPECT_TRUE(LineHoldsSecret("MIGRATE h 6379 k 0 5000 AUTH s3cret"));

  EXPECT_FALSE(LineHoldsSecret("GET auth"));
  EXPECT_FALSE(LineHoldsSecret("SET requirepass v"));
  EXPECT_FALSE(LineHoldsSecret("CONFIG GET requirepass"));
  EXPECT_FALSE(LineHoldsSecret("CONFIG SET maxmemory requirepass"));  // a value, not a name
  EXPECT_FALSE(LineHoldsSecret("HELLO 3"));
  EXPECT_FALSE(LineHoldsSecret("AUTHX s"));
  EXPECT_FALSE(LineHoldsSecret(""));
  EXPECT_FALSE(LineHoldsSecret(R"(SET k "open)"));
}

bool TakesValue(std::string_view name) { return name == "server" || name == "server_pass"; }

TEST(CliProgramArgumentsTest, FlagsThenCommand) {
  const ProgramArguments split = SplitProgramArguments(
      {"podium-cli", "--server", "127.0.0.1:7701", "--raw", "ZADD", "b", "-1", "a"}, TakesValue);
  EXPECT_EQ(split.flags, (Words{"podium-cli", "--server", "127.0.0.1:7701", "--raw"}));
  EXPECT_EQ(split.words, (Words{"ZADD", "b", "-1", "a"}));
}

TEST(CliProgramArgumentsTest, DashesInFlagNamesBecomeUnderscores) {
  const ProgramArguments split = SplitProgramArguments(
      {"podium-cli", "--server-pass", "secret", "-server-pass=x-y", "PING"}, TakesValue);
  EXPECT_EQ(split.flags, (Words{"podium-cli", "--server_pass", "secret", "--server_pass=x-y"}));
  EXPECT_EQ(split.words, (Words{"PING"}));
}

TEST(CliProgramArgumentsTest, DoubleDashEndsFlags) {
  const ProgramArguments split =
      SplitProgramArguments({"podium-cli", "--resp", "--", "-weird", "x"}, TakesValue);
  EXPECT_EQ(split.flags, (Words{"podium-cli", "--resp"}));
  EXPECT_EQ(split.words, (Words{"-weird", "x"}));
}

TEST(CliProgramArgumentsTest, NoCommand) {
  const ProgramArguments split = SplitProgramArguments({"podium-cli", "--raw"}, TakesValue);
  EXPECT_EQ(split.flags, (Words{"podium-cli", "--raw"}));
  EXPECT_TRUE(split.words.empty());
}

}  // namespace
}  // namespace podium::client
