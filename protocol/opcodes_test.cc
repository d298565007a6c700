#include "protocol/opcodes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace podium::protocol {
namespace {

TEST(OpcodeTableTest, PublishedNumbers) {
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kPing), 1);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kGet), 16);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kStockSet), 64);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kStockReserve), 67);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kZAdd), 96);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kZIncrBy), 97);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kZUnionStore), 109);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kOrderPlace), 176);
  EXPECT_EQ(static_cast<uint16_t>(Opcode::kLikeList), 187);
}

TEST(OpcodeTableTest, FamiliesStayInTheirRanges) {
  for (const CommandName& command : kCommandNames) {
    const auto opcode = static_cast<uint16_t>(command.opcode);
    const std::string name(command.name);
    if (name.starts_with("STOCK.")) {
      EXPECT_TRUE(opcode >= 64 && opcode <= 95) << name;
    } else if (name.starts_with("Z")) {
      EXPECT_TRUE(opcode >= 96 && opcode <= 159) << name;
    } else if (name.starts_with("RANK.")) {
      EXPECT_TRUE(opcode >= 224 && opcode <= 255) << name;
    } else if (name.find('.') != std::string::npos) {
      EXPECT_TRUE(opcode >= 160 && opcode <= 223) << name;
    } else if (opcode < 16) {
      EXPECT_GE(opcode, 1) << name;
    } else {
      EXPECT_LE(opcode, 63) << name;
    }
  }
}

TEST(OpcodeTableTest, FindsEveryCommandByOpcodeAndByNameInAnyCase) {
  for (const CommandName& command : kCommandNames) {
    EXPECT_EQ(FindCommand(command.opcode), &command);
    EXPECT_EQ(FindCommand(command.name), &command);
    std::string lower(command.name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(FindCommand(lower), &command) << lower;
  }
  EXPECT_EQ(FindCommand("ZiNcRbY")->opcode, Opcode::kZIncrBy);
  EXPECT_EQ(FindCommand("stock.reserve")->opcode, Opcode::kStockReserve);
}

TEST(OpcodeTableTest, UnknownNamesAndNumbersAreAbsent) {
  EXPECT_EQ(FindCommand(Opcode::kNone), nullptr);
  EXPECT_EQ(FindCommand(static_cast<Opcode>(15)), nullptr);
  EXPECT_EQ(FindCommand(static_cast<Opcode>(65535)), nullptr);
  EXPECT_EQ(FindCommand(std::string_view("")), nullptr);
  EXPECT_EQ(FindCommand("ZADDX"), nullptr);
  EXPECT_EQ(FindCommand("ZAD"), nullptr);
  EXPECT_EQ(FindCommand("FLUSHALL"), nullptr);
  EXPECT_EQ(FindCommand(std::string_view("GET\0", 4)), nullptr);
}

TEST(OpcodeTableTest, NumbersAndNamesAreUnique) {
  std::set<uint16_t> opcodes;
  std::set<std::string_view> names;
  for (const CommandName& command : kCommandNames) {
    EXPECT_TRUE(opcodes.insert(static_cast<uint16_t>(command.opcode)).second);
    EXPECT_TRUE(names.insert(command.name).second);
  }
}

}  // namespace
}  // namespace podium::protocol
