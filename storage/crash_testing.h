// Helpers shared by the crash tests that start a Database from a FaultInjectionEnv after a
// simulated power cut (snapshot_crash_test.cc, recovery_crash_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "storage/database.h"
#include "storage/effect_log.h"
#include "storage/fault_injection_file.h"
#include "storage/recovery.h"

namespace podium::storage::crash_testing {

// A database and its log, as a server holds them after a start.
struct Open {
  std::unique_ptr<Database> db = std::make_unique<Database>();
  std::unique_ptr<EffectLog> log;
};

// Opens the log in `dir` after a recovery that gave `report`, and hands it to open->db.
inline void OpenLog(FaultInjectionEnv& env, const std::string& dir, const RecoveryReport& report,
                    const EffectLogOptions& options, Open* open) {
  Result<std::unique_ptr<EffectLog>> log =
      EffectLog::Open(&env, dir, report.next_sequence, options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  open->log = std::move(log).value();
  open->db->set_log(open->log.get());
}

// Detaches the log and drops it.
inline void Stop(Open& open) {
  open.db->set_log(nullptr);
  open.log.reset();  // after a crash its closing calls fail: logged, not fatal
}

// Expects the stock of products 0..products-1 and the string keys "s0".."s<string_keys - 1>"
// of `db` to be exactly `stock` and `strings` (a missing entry: no such product or key).
inline void ExpectStockAndStrings(Database& db, const std::map<uint64_t, int64_t>& stock,
                                  const std::map<std::string, std::string>& strings,
                                  uint64_t products, int string_keys, int64_t now_ms) {
  for (uint64_t product = 0; product < products; ++product) {
    const Result<int64_t> units = db.stock().Get(product);
    const auto it = stock.find(product);
    ASSERT_EQ(units.ok(), it != stock.end()) << "product " << product;
    if (units.ok()) {
      EXPECT_EQ(*units, it->second) << "product " << product;
    }
  }
  for (int k = 0; k < string_keys; ++k) {
    const std::string key = "s" + std::to_string(k);
    const auto it = strings.find(key);
    db.WithKey(key, [&](Keyspace& keys) {
      const std::optional<std::string_view> value = keys.strings().Get(key, now_ms);
      ASSERT_EQ(value.has_value(), it != strings.end()) << key;
      if (value.has_value()) {
        EXPECT_EQ(*value, it->second) << key;
      }
    });
  }
}

}  // namespace podium::storage::crash_testing
