// Helpers shared by the WAL tests: write a log of known records, read a whole log back.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "storage/file.h"
#include "storage/wal_reader.h"
#include "storage/wal_writer.h"

namespace podium::storage::testing {

// A payload whose bytes depend on the sequence, so that a misplaced record cannot pass as
// another.
inline std::string PayloadFor(uint64_t sequence, size_t size_bytes) {
  std::string payload(size_bytes, '\0');
  for (size_t i = 0; i < size_bytes; ++i) {
    payload[i] = static_cast<char>((sequence * 131 + i * 7) & 0xff);
  }
  return payload;
}

// Appends `count` records (payload sizes cycling through 0..size_bytes_max), syncs, closes.
inline std::vector<WalRecord> WriteLog(Env* env, const std::string& dir, uint64_t first_sequence,
                                       size_t count, uint64_t segment_bytes_max,
                                       size_t size_bytes_max = 100) {
  WalWriterOptions options;
  options.segment_bytes_max = segment_bytes_max;
  Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(env, dir, first_sequence, options);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<WalRecord> records;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t sequence = first_sequence + i;
    WalRecord record{static_cast<uint8_t>(1 + i % 127), sequence,
                     PayloadFor(sequence, (i * 37) % (size_bytes_max + 1))};
    Result<uint64_t> appended = (*writer)->Append(record.type, record.payload);
    EXPECT_TRUE(appended.ok()) << appended.status().ToString();
    EXPECT_EQ(appended.ok() ? *appended : 0, sequence);
    records.push_back(std::move(record));
  }
  EXPECT_TRUE((*writer)->Close().ok());
  return records;
}

struct ReadOutcome {
  std::vector<WalRecord> records;
  Status status;  // the error that ended the reading, or ok
  WalTail tail;
  uint64_t last_sequence = 0;
  std::vector<std::string> stray_segments;
};

inline ReadOutcome ReadLog(Env* env, const std::string& dir, WalReaderOptions options = {}) {
  ReadOutcome outcome;
  Result<std::unique_ptr<WalReader>> reader = WalReader::Open(env, dir, options);
  if (!reader.ok()) {
    outcome.status = reader.status();
    return outcome;
  }
  WalRecord record;
  while (true) {
    Result<bool> next = (*reader)->Next(&record);
    if (!next.ok()) {
      outcome.status = next.status();
      break;
    }
    if (!*next) break;
    outcome.records.push_back(record);
  }
  outcome.tail = (*reader)->tail();
  outcome.last_sequence = (*reader)->last_sequence();
  outcome.stray_segments = (*reader)->stray_segments();
  return outcome;
}

}  // namespace podium::storage::testing
