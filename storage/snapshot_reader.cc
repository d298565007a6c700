#include "storage/snapshot_reader.h"

#include <lz4.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "storage/book_effects.h"
#include "storage/limits.h"
#include "storage/ranking.h"
#include "storage/snapshot_format.h"

namespace podium::storage {

namespace sf = snapshot_format;

// VerifySnapshotFile reads this much at a time.
constexpr size_t kVerifyChunkBytes = size_t{1} << 20;

namespace {

// Reads one file front to back: raw bytes (all through the file checksum), and section content
// through blocks. Every error names the file and an offset.
class Reader {
 public:
  Reader(std::string path, std::unique_ptr<SequentialFile> file)
      : path_(std::move(path)), file_(std::move(file)), hash_(XXH3_createState()) {
    CHECK(hash_ != nullptr) << "out of memory";
    CHECK_EQ(XXH3_64bits_reset(hash_), XXH_OK);
  }
  ~Reader() { XXH3_freeState(hash_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  uint64_t offset() const { return offset_; }
  uint64_t Digest() const { return XXH3_64bits_digest(hash_); }

  Status Corrupt(std::string_view what, uint64_t offset) const {
    return Status::Corruption("snapshot " + path_ + ": " + std::string(what) + " at offset " +
                              std::to_string(offset));
  }
  // An error inside section content: names the block it is in and the position there.
  Status CorruptEntry(std::string_view what) const {
    return Corrupt(
        std::string(what) + " (content position " + std::to_string(block_pos_) + " of the block)",
        block_offset_);
  }

  // Exactly n raw bytes, or a truncation error. n is always a small fixed size or a block.
  Status ReadRaw(size_t n, std::string* out) {
    if (Status status = file_->Read(n, out); !status.ok()) return status;
    CHECK_LE(out->size(), n);
    if (out->size() < n)
      return Corrupt("truncated file: wanted " + std::to_string(n) + " bytes, found " +
                         std::to_string(out->size()),
                     offset_);
    CHECK_EQ(XXH3_64bits_update(hash_, out->data(), out->size()), XXH_OK);
    offset_ += n;
    return Status::Ok();
  }
  Status AtEndOfFile() {
    std::string rest;
    if (Status status = file_->Read(1, &rest); !status.ok()) return status;
    if (!rest.empty()) return Corrupt("bytes after the footer", offset_);
    return Status::Ok();
  }

  // Starts reading a section's content; the type byte was read by the caller.
  void StartSection() {
    block_.clear();
    block_pos_ = 0;
    section_ended_ = false;
  }
  // True when the section's content is exhausted (reading its terminator if needed).
  Result<bool> AtSectionEnd() {
    if (block_pos_ == block_.size() && !section_ended_) {
      if (Status status = NextBlock(); !status.ok()) return status;
    }
    return section_ended_;
  }
  // n content bytes appended to *out, across blocks; never allocates ahead of the bytes read.
  Status ReadContent(size_t n, std::string* out) {
    while (n > 0) {
      Result<bool> ended = AtSectionEnd();
      if (!ended.ok()) return ended.status();
      if (*ended) return CorruptEntry("section ends inside an entry");
      const size_t take = std::min(n, block_.size() - block_pos_);
      out->append(block_, block_pos_, take);
      block_pos_ += take;
      n -= take;
    }
    return Status::Ok();
  }
  Status ReadFixed(size_t n, char* out) {
    scratch_.clear();
    if (Status status = ReadContent(n, &scratch_); !status.ok()) return status;
    std::copy(scratch_.begin(), scratch_.end(), out);
    return Status::Ok();
  }
  Status ReadU32(uint32_t* value) {
    char bytes[4];
    if (Status status = ReadFixed(4, bytes); !status.ok()) return status;
    *value = LoadU32(bytes);
    return Status::Ok();
  }
  Status ReadU64(uint64_t* value) {
    char bytes[8];
    if (Status status = ReadFixed(8, bytes); !status.ok()) return status;
    *value = LoadU64(bytes);
    return Status::Ok();
  }
  Status ReadByte(uint8_t* byte) {
    if (block_pos_ < block_.size()) {  // the common case: no block boundary
      *byte = static_cast<uint8_t>(block_[block_pos_++]);
      return Status::Ok();
    }
    char byte_char;
    if (Status status = ReadFixed(1, &byte_char); !status.ok()) return status;
    *byte = static_cast<uint8_t>(byte_char);
    return Status::Ok();
  }
  Status ReadVarint(uint64_t* value) {
    *value = 0;
    for (size_t i = 0; i < sf::kVarintBytesMax; ++i) {
      uint8_t byte = 0;
      if (Status status = ReadByte(&byte); !status.ok()) return status;
      if (i == sf::kVarintBytesMax - 1 && byte > 1) return CorruptEntry("varint overflows");
      *value |= uint64_t{byte & 0x7Fu} << (7 * i);
      if ((byte & 0x80) == 0) return Status::Ok();
    }
    return CorruptEntry("varint longer than 10 bytes");
  }

 private:
  Status NextBlock() {
    const uint64_t header_offset = offset_;
    if (Status status = ReadRaw(sf::kBlockHeaderBytes, &raw_); !status.ok()) return status;
    const uint32_t uncompressed = LoadU32(raw_.data());
    const uint32_t compressed = LoadU32(raw_.data() + 4);
    const uint64_t checksum = LoadU64(raw_.data() + 8);
    block_offset_ = header_offset;
    block_.clear();
    block_pos_ = 0;
    if (uncompressed == 0) {
      if (compressed != 0 || checksum != 0) return Corrupt("bad section terminator", header_offset);
      section_ended_ = true;
      return Status::Ok();
    }
    if (uncompressed > kSnapshotBlockBytesMax || compressed == 0 ||
        compressed > static_cast<uint32_t>(LZ4_compressBound(static_cast<int>(uncompressed)))) {
      return Corrupt("block lengths out of range (" + std::to_string(uncompressed) + ", " +
                         std::to_string(compressed) + ")",
                     header_offset);
    }
    if (Status status = ReadRaw(compressed, &raw_); !status.ok()) return status;
    if (XXH3_64bits(raw_.data(), raw_.size()) != checksum) {
      return Corrupt("block checksum mismatch", header_offset);
    }
    block_.resize(uncompressed);
    const int produced = LZ4_decompress_safe(
        raw_.data(), block_.data(), static_cast<int>(compressed), static_cast<int>(uncompressed));
    if (produced != static_cast<int>(uncompressed)) {
      return Corrupt("block does not decompress to its length", header_offset);
    }
    return Status::Ok();
  }

  const std::string path_;
  std::unique_ptr<SequentialFile> file_;
  XXH3_state_t* hash_;
  uint64_t offset_ = 0;
  std::string raw_;      // one block header or compressed block
  std::string block_;    // the current block's content
  std::string scratch_;  // one fixed-size field
  size_t block_pos_ = 0;
  uint64_t block_offset_ = 0;  // file offset of the current block's header
  bool section_ended_ = false;
};

Status ReadDeadline(Reader& reader, std::optional<int64_t>* deadline_ms) {
  uint64_t raw = 0;
  if (Status status = reader.ReadU64(&raw); !status.ok()) return status;
  const auto deadline = static_cast<int64_t>(raw);
  if (deadline < sf::kNoDeadline) return reader.CorruptEntry("negative deadline");
  *deadline_ms = deadline == sf::kNoDeadline ? std::nullopt : std::optional<int64_t>(deadline);
  return Status::Ok();
}

Status ReadKey(Reader& reader, std::string* key) {
  uint32_t size = 0;
  if (Status status = reader.ReadU32(&size); !status.ok()) return status;
  if (size == 0 || size > kKeySizeBytesMax) return reader.CorruptEntry("key length out of range");
  key->clear();
  return reader.ReadContent(size, key);
}

Status ReadStockSection(Reader& reader, SnapshotVisitor* visitor, uint64_t* count) {
  char entry[sf::kStockEntryBytes];
  for (;;) {
    Result<bool> ended = reader.AtSectionEnd();
    if (!ended.ok()) return ended.status();
    if (*ended) {
      Status status = visitor->OnStockEnd();
      return status.ok() ? status : reader.CorruptEntry(status.message());
    }
    if (Status status = reader.ReadFixed(sizeof(entry), entry); !status.ok()) return status;
    const uint64_t product = LoadU64(entry);
    const auto units = static_cast<int64_t>(LoadU64(entry + 8));
    if (product > kProductIdMax) return reader.CorruptEntry("product id out of range");
    if (units < 0 || units > kStockUnitsMax) return reader.CorruptEntry("units out of range");
    if (Status status = visitor->OnStock(product, units); !status.ok()) {
      return reader.CorruptEntry(status.message());
    }
    ++*count;
  }
}

Status ReadStringSection(Reader& reader, SnapshotVisitor* visitor, uint64_t* count) {
  std::string key;
  std::string value;
  for (;;) {
    Result<bool> ended = reader.AtSectionEnd();
    if (!ended.ok()) return ended.status();
    if (*ended) return Status::Ok();
    if (Status status = ReadKey(reader, &key); !status.ok()) return status;
    uint32_t size = 0;
    if (Status status = reader.ReadU32(&size); !status.ok()) return status;
    if (size > kValueSizeBytesMax) return reader.CorruptEntry("value length out of range");
    value.clear();
    if (Status status = reader.ReadContent(size, &value); !status.ok()) return status;
    std::optional<int64_t> deadline_ms;
    if (Status status = ReadDeadline(reader, &deadline_ms); !status.ok()) return status;
    if (Status status = visitor->OnString(key, value, deadline_ms); !status.ok()) {
      return reader.CorruptEntry(status.message());
    }
    ++*count;
  }
}

// A member already in `set` is corruption in a set's first part; in a continuation it was
// captured twice while it moved, and the later score wins.
//
// Members are decoded kLoadLookahead ahead of their insertion, and the set is told to prefetch
// each one's index slot as it is decoded: a million-member load otherwise waits for one cache
// miss per member in the index.
Status ReadMembers(Reader& reader, uint64_t members, bool continues, SortedSet* set) {
  constexpr size_t kLoadLookahead = 8;
  struct Decoded {
    bool is_integer = true;
    uint64_t integer = 0;
    std::string bytes;
    double score = 0;
    MemberKey key() const {
      return is_integer ? MemberKey::FromInteger(integer) : MemberKey::FromBytes(bytes);
    }
  };
  std::array<Decoded, kLoadLookahead> ring;
  size_t first = 0;  // the oldest decoded member not yet inserted
  size_t pending = 0;
  const auto insert_oldest = [&]() -> Status {
    const Decoded& member = ring[first];
    Result<bool> added = set->Set(member.key(), member.score);
    if (!added.ok()) return reader.CorruptEntry(added.status().message());
    if (!*added && !continues) return reader.CorruptEntry("member appears twice in a sorted set");
    first = (first + 1) % kLoadLookahead;
    --pending;
    return Status::Ok();
  };
  uint64_t previous_key = sf::kFirstScoreKey;
  for (uint64_t i = 0; i < members; ++i) {
    Decoded& member = ring[(first + pending) % kLoadLookahead];
    uint64_t head = 0;
    if (Status status = reader.ReadVarint(&head); !status.ok()) return status;
    member.is_integer = (head & 1) == 0;
    if (member.is_integer) {
      member.integer = head >> 1;  // at most 2^63 - 1 == kProductIdMax
    } else {
      if ((head >> 1) > kMemberSizeBytesMax) return reader.CorruptEntry("member too long");
      member.bytes.clear();
      if (Status status = reader.ReadContent(head >> 1, &member.bytes); !status.ok()) {
        return status;
      }
    }
    uint64_t delta = 0;
    if (Status status = reader.ReadVarint(&delta); !status.ok()) return status;
    previous_key += sf::UnZigZag(delta);
    member.score = sf::ScoreFromKey(previous_key);
    if (std::isnan(member.score)) return reader.CorruptEntry("NaN score");
    set->Prefetch(member.key());
    if (++pending == kLoadLookahead) {
      if (Status status = insert_oldest(); !status.ok()) return status;
    }
  }
  while (pending > 0) {
    if (Status status = insert_oldest(); !status.ok()) return status;
  }
  return Status::Ok();
}

// A set is handed to the visitor when the next entry does not continue it (or the section
// ends), so its parts arrive as one set.
Status ReadSortedSetSection(Reader& reader, SnapshotVisitor* visitor, uint64_t* count,
                            uint64_t* member_count) {
  std::string key;
  std::string set_key;
  std::optional<int64_t> set_deadline_ms;
  std::unique_ptr<SortedSet> set;
  const auto deliver = [&]() -> Status {
    if (set == nullptr) return Status::Ok();
    if (Status status = visitor->OnSortedSet(set_key, set_deadline_ms, std::move(set));
        !status.ok()) {
      return reader.CorruptEntry(status.message());
    }
    set = nullptr;
    return Status::Ok();
  };
  for (;;) {
    Result<bool> ended = reader.AtSectionEnd();
    if (!ended.ok()) return ended.status();
    if (*ended) return deliver();
    if (Status status = ReadKey(reader, &key); !status.ok()) return status;
    std::optional<int64_t> deadline_ms;
    if (Status status = ReadDeadline(reader, &deadline_ms); !status.ok()) return status;
    uint64_t field = 0;
    if (Status status = reader.ReadU64(&field); !status.ok()) return status;
    const bool continues = (field & sf::kContinuesSetBit) != 0;
    const uint64_t members = field & ~sf::kContinuesSetBit;
    if (members == 0 || members > kSortedSetMembersMax) {
      return reader.CorruptEntry("member count out of range");
    }
    if (continues) {
      if (set == nullptr || key != set_key) {
        return reader.CorruptEntry("a part continues a set that does not precede it");
      }
    } else {
      if (Status status = deliver(); !status.ok()) return status;
      set = std::make_unique<SortedSet>();
      set_key = key;
      ++*count;
    }
    set_deadline_ms = deadline_ms;
    if (Status status = ReadMembers(reader, members, continues, set.get()); !status.ok()) {
      return status;
    }
    *member_count += members;
  }
}

Status ReadBookSection(Reader& reader, SnapshotVisitor* visitor, uint64_t* count) {
  std::string payload;
  BookEntry entry;
  for (;;) {
    Result<bool> ended = reader.AtSectionEnd();
    if (!ended.ok()) return ended.status();
    if (*ended) return Status::Ok();
    char tag = 0;
    uint64_t size = 0;
    if (Status status = reader.ReadFixed(1, &tag); !status.ok()) return status;
    if (Status status = reader.ReadVarint(&size); !status.ok()) return status;
    if (size > kBookEntryBytesMax) return reader.CorruptEntry("book entry too long");
    payload.clear();
    if (Status status = reader.ReadContent(size, &payload); !status.ok()) return status;
    if (Status status = DecodeBookEntry(static_cast<uint8_t>(tag), payload, &entry);
        !status.ok()) {
      return reader.CorruptEntry(status.message());
    }
    if (Status status = visitor->OnBookEntry(entry); !status.ok()) {
      return reader.CorruptEntry(status.message());
    }
    ++*count;
  }
}

Status ReadRankingSection(Reader& reader, SnapshotVisitor* visitor, uint64_t* count) {
  std::string chunk;
  for (;;) {
    Result<bool> ended = reader.AtSectionEnd();
    if (!ended.ok()) return ended.status();
    if (*ended) return Status::Ok();
    uint64_t size = 0;
    if (Status status = reader.ReadVarint(&size); !status.ok()) return status;
    if (size == 0 || size > kRankingChunkBytesMax) {
      return reader.CorruptEntry("ranking chunk length out of range");
    }
    chunk.clear();
    if (Status status = reader.ReadContent(size, &chunk); !status.ok()) return status;
    Result<uint64_t> entries = visitor->OnRankingChunk(chunk);
    if (!entries.ok()) return reader.CorruptEntry(entries.status().message());
    *count += *entries;
  }
}

Status ReadHeader(Reader& reader, SnapshotInfo* info) {
  std::string header;
  if (Status status = reader.ReadRaw(sf::kHeaderBytes, &header); !status.ok()) return status;
  if (!std::equal(std::begin(sf::kMagic), std::end(sf::kMagic), header.begin())) {
    return reader.Corrupt("not a snapshot (bad magic)", 0);
  }
  if (LoadU64(header.data() + sf::kHeaderChecksumOffset) !=
      XXH3_64bits(header.data(), sf::kHeaderChecksumOffset)) {
    return reader.Corrupt("header checksum mismatch", 0);
  }
  const uint16_t version = LoadU16(header.data() + 4);
  if (version != sf::kVersion) {
    return reader.Corrupt("unsupported format version " + std::to_string(version), 4);
  }
  if (LoadU16(header.data() + 6) != 0) return reader.Corrupt("reserved field not 0", 6);
  info->wal_sequence = LoadU64(header.data() + 8);
  info->created_unix_ms = static_cast<int64_t>(LoadU64(header.data() + 16));
  return Status::Ok();
}

Status ExpectSectionType(Reader& reader, sf::SectionType type) {
  std::string byte;
  const uint64_t offset = reader.offset();
  if (Status status = reader.ReadRaw(1, &byte); !status.ok()) return status;
  if (static_cast<uint8_t>(byte[0]) != static_cast<uint8_t>(type)) {
    return reader.Corrupt("expected section type " + std::to_string(static_cast<int>(type)) +
                              ", found " + std::to_string(static_cast<uint8_t>(byte[0])),
                          offset);
  }
  reader.StartSection();
  return Status::Ok();
}

Status ReadFooter(Reader& reader, const SnapshotInfo& read) {
  const uint64_t offset = reader.offset();
  std::string counts;
  if (Status status = reader.ReadRaw(6 * 8, &counts); !status.ok()) return status;
  if (LoadU64(counts.data()) != read.stock_counters ||
      LoadU64(counts.data() + 8) != read.strings ||
      LoadU64(counts.data() + 16) != read.sorted_sets ||
      LoadU64(counts.data() + 24) != read.sorted_set_members ||
      LoadU64(counts.data() + 32) != read.book_entries ||
      LoadU64(counts.data() + 40) != read.ranking_entries) {
    return reader.Corrupt("footer counts differ from the entries read", offset);
  }
  const uint64_t expected = reader.Digest();
  std::string checksum;
  if (Status status = reader.ReadRaw(8, &checksum); !status.ok()) return status;
  if (LoadU64(checksum.data()) != expected) {
    return reader.Corrupt("file checksum mismatch", offset + 6 * 8);
  }
  return reader.AtEndOfFile();
}

}  // namespace

Result<uint64_t> SnapshotVisitor::OnRankingChunk(std::string_view chunk) {
  Rankings scratch;
  return scratch.ApplyEntries(chunk);
}

Status VerifySnapshotFile(Env* env, const std::string& path) {
  CHECK(env != nullptr);
  Result<std::unique_ptr<SequentialFile>> file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status();
  XXH3_state_t* const hash = XXH3_createState();
  CHECK(hash != nullptr);
  CHECK_EQ(XXH3_64bits_reset(hash), XXH_OK);
  // The last 8 bytes read so far are held back: at the end they are the stored checksum.
  std::string chunk;
  std::string tail;
  uint64_t bytes = 0;
  Status status = Status::Ok();
  for (;;) {
    status = (*file)->Read(kVerifyChunkBytes, &chunk);
    if (!status.ok() || chunk.empty()) break;
    bytes += chunk.size();
    tail += chunk;
    if (tail.size() > 8) {
      CHECK_EQ(XXH3_64bits_update(hash, tail.data(), tail.size() - 8), XXH_OK);
      tail.erase(0, tail.size() - 8);
    }
  }
  const uint64_t digest = XXH3_64bits_digest(hash);
  XXH3_freeState(hash);
  if (!status.ok()) return status;
  if (bytes < sf::kHeaderBytes + 1 + sf::kFooterBytes) {
    return Status::Corruption("snapshot " + path + ": " + std::to_string(bytes) +
                              " bytes, shorter than a header, an end marker and a footer");
  }
  if (LoadU64(tail.data()) != digest) {
    return Status::Corruption("snapshot " + path + ": file checksum mismatch at offset " +
                              std::to_string(bytes - 8));
  }
  return Status::Ok();
}

Result<SnapshotInfo> ReadSnapshot(Env* env, const std::string& path, SnapshotVisitor* visitor) {
  CHECK(env != nullptr && visitor != nullptr);
  Result<std::unique_ptr<SequentialFile>> file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status();
  Reader reader(path, std::move(file).value());
  SnapshotInfo info;
  if (Status status = ReadHeader(reader, &info); !status.ok()) return status;
  Status status = ExpectSectionType(reader, sf::SectionType::kStock);
  if (status.ok()) status = ReadStockSection(reader, visitor, &info.stock_counters);
  if (status.ok()) status = ExpectSectionType(reader, sf::SectionType::kStrings);
  if (status.ok()) status = ReadStringSection(reader, visitor, &info.strings);
  if (status.ok()) status = ExpectSectionType(reader, sf::SectionType::kSortedSets);
  if (status.ok()) {
    status = ReadSortedSetSection(reader, visitor, &info.sorted_sets, &info.sorted_set_members);
  }
  if (status.ok()) status = ExpectSectionType(reader, sf::SectionType::kBook);
  if (status.ok()) status = ReadBookSection(reader, visitor, &info.book_entries);
  if (status.ok()) status = ExpectSectionType(reader, sf::SectionType::kRankings);
  if (status.ok()) status = ReadRankingSection(reader, visitor, &info.ranking_entries);
  if (status.ok()) status = ExpectSectionType(reader, sf::SectionType::kEnd);
  if (status.ok()) status = ReadFooter(reader, info);
  if (!status.ok()) return status;
  info.file_bytes = reader.offset();
  return info;
}

}  // namespace podium::storage
