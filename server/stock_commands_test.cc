// Stock commands, in-process: exact RESP replies, the "-SOLDOUT <available>" contract, and
// that bad input changes no counter.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>

#include "server/command_test_util.h"
#include "storage/effect_log.h"
#include "storage/effects.h"
#include "storage/fault_injection_file.h"
#include "storage/limits.h"

namespace podium::server {
namespace {

using testing::BytesArg;
using testing::CommandHarness;
using testing::Float64Arg;
using testing::Int64Arg;
using testing::kRespNil;
using testing::kRespNotInteger;
using testing::RespArity;
using testing::RespError;
using testing::RespInt;

const std::string kBadProduct = RespError("ERR product id must be an integer in [0, 2^63-1]");

class StockCommandsTest : public ::testing::Test {
 protected:
  std::string Run(std::initializer_list<std::string_view> words) { return harness_.Run(words); }

  CommandHarness harness_;
};

TEST_F(StockCommandsTest, SetGetAdd) {
  EXPECT_EQ(Run({"STOCK.GET", "7"}), kRespNil);  // no counter: nil, as GET of a missing key
  EXPECT_EQ(Run({"STOCK.SET", "7", "10"}), RespInt(10));
  EXPECT_EQ(Run({"STOCK.GET", "7"}), RespInt(10));
  EXPECT_EQ(Run({"STOCK.ADD", "7", "5"}), RespInt(15));
  EXPECT_EQ(Run({"STOCK.SET", "7", "0"}), RespInt(0));
  EXPECT_EQ(Run({"STOCK.GET", "7"}), RespInt(0));
  EXPECT_EQ(Run({"STOCK.ADD", "8", "3"}), RespInt(3));  // a restock creates the counter
  EXPECT_EQ(Run({"STOCK.GET", "8"}), RespInt(3));
  EXPECT_EQ(Run({"stock.get", "9223372036854775807"}), kRespNil);
}

TEST_F(StockCommandsTest, ReserveAndRelease) {
  ASSERT_EQ(Run({"STOCK.SET", "1", "5"}), RespInt(5));
  EXPECT_EQ(Run({"STOCK.RESERVE", "1", "2"}), RespInt(3));
  EXPECT_EQ(Run({"STOCK.RESERVE", "1", "4"}), "-SOLDOUT 3\r\n");
  EXPECT_EQ(Run({"STOCK.GET", "1"}), RespInt(3));
  EXPECT_EQ(Run({"STOCK.RESERVE", "1", "3"}), RespInt(0));
  EXPECT_EQ(Run({"STOCK.RESERVE", "1", "1"}), "-SOLDOUT 0\r\n");
  EXPECT_EQ(Run({"STOCK.RELEASE", "1", "2"}), RespInt(2));
  EXPECT_EQ(Run({"STOCK.GET", "1"}), RespInt(2));
}

TEST_F(StockCommandsTest, UnknownProduct) {
  EXPECT_EQ(Run({"STOCK.RESERVE", "99", "1"}),
            RespError("NOTFOUND no stock counter for product 99"));
  EXPECT_EQ(Run({"STOCK.RELEASE", "99", "1"}),
            RespError("NOTFOUND no stock counter for product 99"));
  EXPECT_EQ(Run({"STOCK.GET", "99"}), kRespNil);  // neither call created it
}

TEST_F(StockCommandsTest, BinaryArguments) {
  EXPECT_EQ(harness_.RunArgs("STOCK.SET", {Int64Arg(1001), Int64Arg(3)}), RespInt(3));
  EXPECT_EQ(harness_.RunArgs("STOCK.RESERVE", {Int64Arg(1001), Int64Arg(5)}), "-SOLDOUT 3\r\n");
  EXPECT_EQ(harness_.RunArgs("STOCK.RESERVE", {BytesArg("1001"), Int64Arg(1)}), RespInt(2));
  EXPECT_EQ(harness_.RunArgs("STOCK.ADD", {Int64Arg(1001), Float64Arg(1.0)}), kRespNotInteger);
  EXPECT_EQ(harness_.RunArgs("STOCK.GET", {Float64Arg(1001)}), kBadProduct);
  EXPECT_EQ(harness_.RunArgs("STOCK.GET", {Int64Arg(1001)}), RespInt(2));
}

TEST_F(StockCommandsTest, BadInputChangesNothing) {
  ASSERT_EQ(Run({"STOCK.SET", "1", "5"}), RespInt(5));
  EXPECT_EQ(Run({"STOCK.SET", "-1", "5"}), kBadProduct);
  EXPECT_EQ(Run({"STOCK.SET", "abc", "5"}), kBadProduct);
  EXPECT_EQ(Run({"STOCK.SET", "9223372036854775808", "5"}), kBadProduct);
  EXPECT_EQ(Run({"STOCK.SET", "1", "five"}), kRespNotInteger);
  EXPECT_EQ(Run({"STOCK.SET", "1", "1.5"}), kRespNotInteger);
  EXPECT_EQ(Run({"STOCK.SET", "1", "-1"}),
            RespError("ERR units -1 out of range [0, 1000000000000]"));
  EXPECT_EQ(Run({"STOCK.SET", "1", "1000000000001"}),
            RespError("ERR units 1000000000001 out of range [0, 1000000000000]"));
  EXPECT_EQ(Run({"STOCK.ADD", "1", "0"}), RespError("ERR units 0 out of range [1, 1000000000000]"));
  EXPECT_EQ(Run({"STOCK.RESERVE", "1", "0"}),
            RespError("ERR units 0 out of range [1, 1000000000000]"));
  EXPECT_EQ(Run({"STOCK.RESERVE", "1", "-2"}),
            RespError("ERR units -2 out of range [1, 1000000000000]"));
  EXPECT_EQ(Run({"STOCK.RELEASE", "1", "-2"}),
            RespError("ERR units -2 out of range [1, 1000000000000]"));
  EXPECT_EQ(Run({"STOCK.GET", "1"}), RespInt(5));
  EXPECT_EQ(Run({"STOCK.GET", "2"}), kRespNil);  // failed SETs created nothing
}

TEST_F(StockCommandsTest, UnitsLimit) {
  const std::string max = std::to_string(storage::kStockUnitsMax);
  ASSERT_EQ(Run({"STOCK.SET", "1", max}), RespInt(storage::kStockUnitsMax));
  const std::string limit_error = RespError(
      "LIMIT product 1 has 1000000000000 units; adding 1 would pass kStockUnitsMax "
      "(1000000000000)");
  EXPECT_EQ(Run({"STOCK.ADD", "1", "1"}), limit_error);
  EXPECT_EQ(Run({"STOCK.RELEASE", "1", "1"}), limit_error);
  EXPECT_EQ(Run({"STOCK.GET", "1"}), RespInt(storage::kStockUnitsMax));
}

// WITHHELD adds the units pending orders hold (none here: docs/orders.md has the rest).
TEST_F(StockCommandsTest, GetWithHeld) {
  EXPECT_EQ(Run({"STOCK.GET", "7", "withheld"}), "*2\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(Run({"STOCK.SET", "7", "5"}), RespInt(5));
  EXPECT_EQ(Run({"STOCK.GET", "7", "WITHHELD"}), "*2\r\n:5\r\n:0\r\n");
}

TEST_F(StockCommandsTest, Arity) {
  EXPECT_EQ(Run({"STOCK.SET", "1"}), RespArity("stock.set"));
  EXPECT_EQ(Run({"STOCK.GET"}), RespArity("stock.get"));
  EXPECT_EQ(Run({"STOCK.GET", "1", "2"}), RespError("ERR syntax error"));
  EXPECT_EQ(Run({"STOCK.GET", "1", "WITHHELD", "x"}), RespArity("stock.get"));
  EXPECT_EQ(Run({"STOCK.RESERVE", "1", "2", "3"}), RespArity("stock.reserve"));
}

// With a log open, a reservation changes its counter and then queues its record, both under
// the product's stripe lock. STOCK.GET must not show the change in between: its reply is held
// only for records already queued (Connection::HoldUntilDurable), so it would acknowledge a
// value a crash could take back. A writer changes the counter under the stripe and waits (up to
// 100 ms) for a reader to answer before it logs; the reader may answer 5 only once the record
// is queued.
TEST(StockCommandsLogTest, GetNeverShowsAChangeBeforeItsRecordIsQueued) {
  storage::FaultInjectionEnv env;
  ASSERT_TRUE(env.CreateDir("/data").ok());
  storage::EffectLogOptions options;
  options.fsync = storage::FsyncPolicy::kNo;
  storage::Result<std::unique_ptr<storage::EffectLog>> log =
      storage::EffectLog::Open(&env, "/data", 1, options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Database db;
  db.set_log(log->get());
  CommandHarness harness(&db);
  ASSERT_EQ(harness.Run({"STOCK.SET", "7", "3"}), RespInt(3));

  std::latch changed(1);
  std::atomic<bool> answered{false};
  std::thread writer([&] {
    db.WithStockOrder(7, [&] {
      ASSERT_TRUE(db.stock().Set(7, 5).ok());
      changed.count_down();
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
      while (!answered.load() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::yield();
      }
      storage::LogStockSet(db.log(), 7, 5);
    });
  });
  changed.wait();
  const uint64_t queued_before = (*log)->last_sequence();
  const std::string reply = harness.Run({"STOCK.GET", "7"});
  const uint64_t queued_after = (*log)->last_sequence();
  answered.store(true);
  writer.join();
  EXPECT_EQ(reply, RespInt(5));
  EXPECT_EQ(queued_after, queued_before + 1) << "STOCK.GET showed 5 before its record was queued";
  db.set_log(nullptr);
}

}  // namespace
}  // namespace podium::server
