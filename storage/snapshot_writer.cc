#include "storage/snapshot_writer.h"

#include <lz4.h>

#include <cmath>

#include "storage/limits.h"

namespace podium::storage {

namespace sf = snapshot_format;

namespace {

constexpr size_t kCompressedBlockBytesMax =
    sf::kBlockHeaderBytes + LZ4_COMPRESSBOUND(kSnapshotBlockBytesMax);
static_assert(kSnapshotBlockBytesMax <= LZ4_MAX_INPUT_SIZE, "a block is one LZ4 call");

void CheckDeadline(std::optional<int64_t> deadline_ms) {
  CHECK(!deadline_ms.has_value() || *deadline_ms >= 0) << "deadline " << *deadline_ms;
}

}  // namespace

SnapshotWriter::SnapshotWriter(Env* env) : env_(env), file_hash_(XXH3_createState()) {
  CHECK(env_ != nullptr);
  CHECK(file_hash_ != nullptr) << "out of memory";
}

SnapshotWriter::~SnapshotWriter() {
  if (stage_ != Stage::kIdle && stage_ != Stage::kFinished && stage_ != Stage::kFailed) {
    file_.reset();  // closes the descriptor
    Status removed = env_->RemoveFile(temp_path_);
    if (!removed.ok()) LOG(WARNING) << "abandoned snapshot: " << removed.ToString();
  }
  XXH3_freeState(file_hash_);
}

Status SnapshotWriter::Fail(Status status) {
  CHECK(!status.ok());
  if (stage_ == Stage::kFailed) return error_;
  stage_ = Stage::kFailed;
  error_ = status;
  file_.reset();
  Status removed = env_->RemoveFile(temp_path_);
  if (!removed.ok()) LOG(WARNING) << "failed snapshot: " << removed.ToString();
  return status;
}

Status SnapshotWriter::WriteRaw(std::string_view bytes) {
  CHECK_EQ(file_->size(), file_bytes_) << "the file and the writer disagree on its size";
  if (Status status = file_->Append(bytes); !status.ok()) return Fail(std::move(status));
  CHECK_EQ(XXH3_64bits_update(file_hash_, bytes.data(), bytes.size()), XXH_OK);
  file_bytes_ += bytes.size();
  CHECK_EQ(file_->size(), file_bytes_);
  return Status::Ok();
}

Status SnapshotWriter::Begin(const std::string& dir, uint64_t wal_sequence,
                             int64_t created_unix_ms) {
  CHECK(stage_ == Stage::kIdle) << "Begin on a used writer";
  dir_ = dir;
  final_path_ = JoinPath(dir, sf::FileName(wal_sequence));
  temp_path_ = final_path_ + std::string(sf::kTempSuffix);
  Result<std::unique_ptr<WritableFile>> file = env_->NewWritableFile(temp_path_);
  if (!file.ok()) {
    stage_ = Stage::kFailed;
    error_ = file.status();
    return error_;
  }
  file_ = std::move(file).value();
  stage_ = Stage::kStock;
  CHECK_EQ(XXH3_64bits_reset(file_hash_), XXH_OK);
  block_.reserve(kSnapshotBlockBytesMax);
  compressed_.reserve(kCompressedBlockBytesMax);

  char header[sf::kHeaderBytes];
  std::copy(std::begin(sf::kMagic), std::end(sf::kMagic), header);
  StoreU16(header + 4, sf::kVersion);
  StoreU16(header + 6, 0);
  StoreU64(header + 8, wal_sequence);
  StoreU64(header + 16, static_cast<uint64_t>(created_unix_ms));
  StoreU64(header + sf::kHeaderChecksumOffset, XXH3_64bits(header, sf::kHeaderChecksumOffset));
  if (Status status = WriteRaw(std::string_view(header, sizeof(header))); !status.ok()) {
    return status;
  }
  return StartSection(sf::SectionType::kStock);
}

Status SnapshotWriter::StartSection(sf::SectionType type) {
  CHECK(block_.empty());
  const char byte = static_cast<char>(type);
  return WriteRaw(std::string_view(&byte, 1));
}

Status SnapshotWriter::AppendContent(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t room = kSnapshotBlockBytesMax - block_.size();
    const size_t take = std::min(room, bytes.size());
    block_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (block_.size() == kSnapshotBlockBytesMax) {
      if (Status status = FlushBlock(); !status.ok()) return status;
    }
  }
  return Status::Ok();
}

Status SnapshotWriter::FlushBlock() {
  if (block_.empty()) return Status::Ok();
  CHECK_LE(block_.size(), kSnapshotBlockBytesMax);
  const int bound = LZ4_compressBound(static_cast<int>(block_.size()));
  compressed_.resize(sf::kBlockHeaderBytes + static_cast<size_t>(bound));
  const int compressed_bytes =
      LZ4_compress_default(block_.data(), compressed_.data() + sf::kBlockHeaderBytes,
                           static_cast<int>(block_.size()), bound);
  CHECK_GT(compressed_bytes, 0) << "LZ4 cannot fail with a bound-sized output";
  compressed_.resize(sf::kBlockHeaderBytes + static_cast<size_t>(compressed_bytes));
  const char* payload = compressed_.data() + sf::kBlockHeaderBytes;
  StoreU32(compressed_.data(), static_cast<uint32_t>(block_.size()));
  StoreU32(compressed_.data() + 4, static_cast<uint32_t>(compressed_bytes));
  StoreU64(compressed_.data() + 8, XXH3_64bits(payload, static_cast<size_t>(compressed_bytes)));
  block_.clear();
  return WriteRaw(compressed_);
}

Status SnapshotWriter::EndSection() {
  if (Status status = FlushBlock(); !status.ok()) return status;
  const char terminator[sf::kBlockHeaderBytes] = {};
  return WriteRaw(std::string_view(terminator, sizeof(terminator)));
}

Status SnapshotWriter::AddStock(uint64_t product, int64_t units) {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kStock) << "AddStock outside the stock section";
  CHECK_LE(product, kProductIdMax);
  CHECK(units >= 0 && units <= kStockUnitsMax) << "units " << units;
  char entry[sf::kStockEntryBytes];
  StoreU64(entry, product);
  StoreU64(entry + 8, static_cast<uint64_t>(units));
  ++stock_count_;
  return AppendContent(std::string_view(entry, sizeof(entry)));
}

Status SnapshotWriter::BeginStrings() {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kStock) << "BeginStrings must follow the stock section";
  stage_ = Stage::kStrings;
  if (Status status = EndSection(); !status.ok()) return status;
  return StartSection(sf::SectionType::kStrings);
}

void SnapshotWriter::AppendKeyAndDeadline(std::string_view key, std::optional<int64_t> deadline_ms,
                                          std::string* out) const {
  CHECK(!key.empty() && key.size() <= kKeySizeBytesMax) << "key of " << key.size() << " bytes";
  CheckDeadline(deadline_ms);
  AppendU32(out, static_cast<uint32_t>(key.size()));
  out->append(key);
  AppendU64(out, static_cast<uint64_t>(deadline_ms.value_or(sf::kNoDeadline)));
}

Status SnapshotWriter::AddString(std::string_view key, std::string_view value,
                                 std::optional<int64_t> deadline_ms) {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kStrings) << "AddString outside the strings section";
  CHECK(!key.empty() && key.size() <= kKeySizeBytesMax) << "key of " << key.size() << " bytes";
  CHECK_LE(value.size(), kValueSizeBytesMax);
  CheckDeadline(deadline_ms);
  entry_.clear();
  AppendU32(&entry_, static_cast<uint32_t>(key.size()));
  entry_.append(key);
  AppendU32(&entry_, static_cast<uint32_t>(value.size()));
  if (Status status = AppendContent(entry_); !status.ok()) return status;
  if (Status status = AppendContent(value); !status.ok()) return status;  // up to 8 MiB
  entry_.clear();
  AppendU64(&entry_, static_cast<uint64_t>(deadline_ms.value_or(sf::kNoDeadline)));
  ++string_count_;
  return AppendContent(entry_);
}

Status SnapshotWriter::BeginSortedSets() {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kStrings) << "BeginSortedSets must follow the strings section";
  stage_ = Stage::kSortedSets;
  if (Status status = EndSection(); !status.ok()) return status;
  return StartSection(sf::SectionType::kSortedSets);
}

Status SnapshotWriter::BeginSortedSet(std::string_view key, std::optional<int64_t> deadline_ms,
                                      uint64_t member_count, bool continues) {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kSortedSets) << "BeginSortedSet outside the sorted-sets section";
  CHECK(member_count >= 1 && member_count <= kSortedSetMembersMax) << member_count;
  if (continues) {
    CHECK(sorted_set_count_ > 0 && key == set_key_) << "a part continues another set";
  } else {
    set_key_.assign(key);
    ++sorted_set_count_;
  }
  stage_ = Stage::kInSortedSet;
  set_members_expected_ = member_count;
  previous_score_key_ = sf::kFirstScoreKey;
  entry_.clear();
  AppendKeyAndDeadline(key, deadline_ms, &entry_);
  AppendU64(&entry_, continues ? member_count | sf::kContinuesSetBit : member_count);
  return AppendContent(entry_);
}

Status SnapshotWriter::AddMember(const MemberKey& member, double score) {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kInSortedSet) << "AddMember outside a sorted set";
  CHECK_GT(set_members_expected_, 0u) << "more members than BeginSortedSet announced";
  CHECK(!std::isnan(score));
  entry_.clear();
  if (member.is_integer()) {
    CHECK_LE(member.integer(), kProductIdMax);
    AppendVarint(&entry_, member.integer() << 1);
  } else {
    CHECK_LE(member.bytes().size(), kMemberSizeBytesMax);
    AppendVarint(&entry_, (uint64_t{member.bytes().size()} << 1) | 1);
    entry_.append(member.bytes());
  }
  const uint64_t score_key = sf::ScoreKey(score);
  AppendVarint(&entry_, sf::ZigZag(score_key - previous_score_key_));
  previous_score_key_ = score_key;
  --set_members_expected_;
  ++member_count_;
  return AppendContent(entry_);
}

Status SnapshotWriter::EndSortedSet() {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kInSortedSet) << "EndSortedSet without BeginSortedSet";
  CHECK_EQ(set_members_expected_, 0u) << "fewer members than BeginSortedSet announced";
  stage_ = Stage::kSortedSets;
  return Status::Ok();
}

Status SnapshotWriter::AddSortedSet(std::string_view key, std::optional<int64_t> deadline_ms,
                                    const SortedSet& set) {
  if (Status status = BeginSortedSet(key, deadline_ms, set.size()); !status.ok()) return status;
  for (SortedSet::Cursor cursor = set.SeekRank(0, Order::kAscending); cursor.valid();
       cursor.Next()) {
    if (Status status = AddMember(cursor.member(), cursor.score()); !status.ok()) return status;
  }
  return EndSortedSet();
}

Status SnapshotWriter::BeginBook() {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kSortedSets) << "BeginBook must follow the sorted-sets section";
  stage_ = Stage::kBook;
  if (Status status = EndSection(); !status.ok()) return status;
  return StartSection(sf::SectionType::kBook);
}

Status SnapshotWriter::AddBookEntries(std::string_view entries, uint64_t count) {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kBook) << "AddBookEntries outside the book section";
  book_entry_count_ += count;
  return AppendContent(entries);
}

Status SnapshotWriter::BeginRankings() {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kBook) << "BeginRankings must follow the book section";
  stage_ = Stage::kRankings;
  if (Status status = EndSection(); !status.ok()) return status;
  return StartSection(sf::SectionType::kRankings);
}

Status SnapshotWriter::AddRankingChunk(std::string_view chunk, uint64_t entries) {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kRankings) << "AddRankingChunk outside the rankings section";
  CHECK(!chunk.empty() && chunk.size() <= kRankingChunkBytesMax) << chunk.size();
  ranking_entry_count_ += entries;
  entry_.clear();
  AppendVarint(&entry_, chunk.size());
  if (Status status = AppendContent(entry_); !status.ok()) return status;
  return AppendContent(chunk);
}

Result<std::string> SnapshotWriter::Finish() {
  if (stage_ == Stage::kFailed) return error_;
  CHECK(stage_ == Stage::kRankings) << "Finish must follow the rankings section";
  if (Status status = EndSection(); !status.ok()) return status;
  std::string footer(1, static_cast<char>(sf::SectionType::kEnd));
  AppendU64(&footer, stock_count_);
  AppendU64(&footer, string_count_);
  AppendU64(&footer, sorted_set_count_);
  AppendU64(&footer, member_count_);
  AppendU64(&footer, book_entry_count_);
  AppendU64(&footer, ranking_entry_count_);
  if (Status status = WriteRaw(footer); !status.ok()) return status;
  std::string checksum;
  AppendU64(&checksum, XXH3_64bits_digest(file_hash_));
  if (Status status = WriteRaw(checksum); !status.ok()) return status;
  CHECK_EQ(file_->size(), file_bytes_);

  if (Status status = file_->Sync(); !status.ok()) return Fail(std::move(status));
  if (Status status = file_->Close(); !status.ok()) return Fail(std::move(status));
  file_.reset();
  if (Status status = env_->RenameFile(temp_path_, final_path_); !status.ok()) {
    return Fail(std::move(status));
  }
  stage_ = Stage::kFinished;  // the .tmp name is gone; nothing to remove any more
  if (Status status = env_->SyncDir(dir_); !status.ok()) {
    stage_ = Stage::kFailed;
    error_ = status;
    return status;
  }
  return final_path_;
}

}  // namespace podium::storage
