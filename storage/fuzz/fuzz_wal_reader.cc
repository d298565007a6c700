// Fuzzes WalReader with arbitrary bytes as the last WAL segment, alone and after a valid
// segment, on FaultInjectionEnv. Invariants: no crash or out-of-bounds read; every record
// returned is within the limits and continues the sequence chain; a tail never drops more
// bytes than there are; the lenient reader never fails where the strict one returns records
// it does not; and after TruncateWal(tail) the log reads back cleanly with the same records.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "storage/fault_injection_file.h"
#include "storage/fuzz/fuzz_check.h"
#include "storage/wal_format.h"
#include "storage/wal_reader.h"

namespace podium::storage::fuzz {
namespace {

constexpr char kDir[] = "/wal";

struct Outcome {
  std::vector<WalRecord> records;
  Status status;
  WalTail tail;
};

Outcome Read(Env* env, bool truncate_at_first_corruption) {
  Outcome outcome;
  WalReaderOptions options;
  options.truncate_at_first_corruption = truncate_at_first_corruption;
  Result<std::unique_ptr<WalReader>> reader = WalReader::Open(env, kDir, options);
  PODIUM_FUZZ_CHECK(reader.ok());
  WalRecord record;
  while (true) {
    Result<bool> next = (*reader)->Next(&record);
    if (!next.ok()) {
      outcome.status = next.status();
      PODIUM_FUZZ_CHECK(outcome.status.code() == StatusCode::kCorruption);
      break;
    }
    if (!*next) break;
    PODIUM_FUZZ_CHECK(IsWalRecordType(record.type));
    PODIUM_FUZZ_CHECK(record.payload.size() <= kWalRecordPayloadBytesMax);
    if (!outcome.records.empty()) {
      PODIUM_FUZZ_CHECK(record.sequence == outcome.records.back().sequence + 1);
    }
    outcome.records.push_back(record);
  }
  outcome.tail = (*reader)->tail();
  return outcome;
}

void Put(FaultInjectionEnv* env, uint64_t first_sequence, std::string_view bytes) {
  Result<std::unique_ptr<WritableFile>> file =
      env->NewWritableFile(JoinPath(kDir, WalSegmentFileName(first_sequence)));
  PODIUM_FUZZ_CHECK(file.ok());
  PODIUM_FUZZ_CHECK((*file)->Append(bytes).ok());
}

void Check(std::string_view input, bool after_valid_segment) {
  FaultInjectionEnv env;
  PODIUM_FUZZ_CHECK(env.CreateDir(kDir).ok());
  uint64_t total_bytes = input.size();
  if (after_valid_segment) {
    std::string valid;
    AppendWalSegmentHeader(1, &valid);
    for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
      AppendWalRecord(1, sequence, "seed", &valid);
    }
    Put(&env, 1, valid);
    total_bytes += valid.size();
  }
  // Name the input after the first sequence its header claims, so that the reader gets past
  // the name check; 4 (after the valid segment) when it has no header.
  uint64_t first_sequence = 4;
  if (input.size() >= kWalSegmentHeaderBytes) {
    first_sequence = 0;
    for (int i = 7; i >= 0; --i) first_sequence = (first_sequence << 8) | uint8_t(input[6 + i]);
  }
  if (after_valid_segment && first_sequence == 1) return;  // same name as the valid segment
  Put(&env, first_sequence, input);

  const Outcome strict = Read(&env, false);
  const Outcome lenient = Read(&env, true);
  PODIUM_FUZZ_CHECK(lenient.status.ok());
  PODIUM_FUZZ_CHECK(lenient.records == strict.records);
  PODIUM_FUZZ_CHECK(lenient.tail.bytes_dropped <= total_bytes);
  if (strict.status.ok()) {
    PODIUM_FUZZ_CHECK(lenient.tail.kind != WalTail::Kind::kCorruptionDropped);
  }
  PODIUM_FUZZ_CHECK(TruncateWal(&env, kDir, lenient.tail).ok());
  const Outcome repaired = Read(&env, false);
  PODIUM_FUZZ_CHECK(repaired.status.ok());
  PODIUM_FUZZ_CHECK(repaired.tail.kind == WalTail::Kind::kClean);
  PODIUM_FUZZ_CHECK(repaired.records == lenient.records);
}

}  // namespace
}  // namespace podium::storage::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  podium::storage::fuzz::Check(input, /*after_valid_segment=*/false);
  podium::storage::fuzz::Check(input, /*after_valid_segment=*/true);
  return 0;
}
