#include "storage/member.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include <glog/logging.h>
#include <xxhash.h>

namespace podium::storage {
namespace {

using member_internal::DecimalDigits;
using member_internal::kIntegerDigitsMax;

int CompareBytes(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool ParseCanonicalInteger(std::string_view bytes, uint64_t* value) {
  if (bytes.empty() || bytes.size() > kIntegerDigitsMax) return false;
  if (bytes.size() > 1 && bytes[0] == '0') return false;
  uint64_t parsed = 0;
  const auto [end, error] = std::from_chars(bytes.data(), bytes.data() + bytes.size(), parsed);
  if (error != std::errc() || end != bytes.data() + bytes.size()) return false;
  if (parsed > kProductIdMax) return false;
  *value = parsed;
  return true;
}

// Final mix of splitmix64: a cheap bijection that spreads sequential ids over all 64 bits.
uint64_t MixInteger(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

struct StringBlockHeader {
  uint32_t size_bytes;
};

}  // namespace

MemberKey MemberKey::FromBytes(std::string_view bytes) {
  uint64_t value = 0;
  if (ParseCanonicalInteger(bytes, &value)) return MemberKey(value, {}, true);
  return MemberKey(0, bytes, false);
}

MemberKey MemberKey::FromInteger(uint64_t value) {
  DCHECK_LE(value, kProductIdMax);
  return MemberKey(value, {}, true);
}

size_t MemberKey::size_bytes() const {
  return is_integer_ ? static_cast<size_t>(DecimalDigits(integer_)) : bytes_.size();
}

uint64_t MemberKey::Hash() const {
  return is_integer_ ? MixInteger(integer_) : XXH3_64bits(bytes_.data(), bytes_.size());
}

void MemberKey::AppendTo(std::string* out) const {
  if (!is_integer_) {
    out->append(bytes_);
    return;
  }
  char buffer[kIntegerDigitsMax + 1];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), integer_);
  DCHECK(error == std::errc());
  out->append(buffer, end);
}

std::string MemberKey::ToString() const {
  std::string text;
  AppendTo(&text);
  return text;
}

int CompareMembers(const MemberKey& a, const MemberKey& b) {
  if (a.is_integer() && b.is_integer()) return CompareIntegersAsText(a.integer(), b.integer());
  if (!a.is_integer() && !b.is_integer()) return CompareBytes(a.bytes(), b.bytes());
  char buffer[kIntegerDigitsMax + 1];
  const MemberKey& integer_side = a.is_integer() ? a : b;
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), integer_side.integer());
  DCHECK(error == std::errc());
  const std::string_view text(buffer, static_cast<size_t>(end - buffer));
  return a.is_integer() ? CompareBytes(text, b.bytes()) : CompareBytes(a.bytes(), text);
}

MemberWord StoreMember(const MemberKey& key, uint64_t hash) {
  if (key.is_integer()) return key.integer();
  const std::string_view bytes = key.bytes();
  CHECK_LE(bytes.size(), kMemberSizeBytesMax);
  void* block = std::malloc(sizeof(StringBlockHeader) + bytes.size());
  CHECK(block != nullptr) << "out of memory";
  const auto address = reinterpret_cast<uintptr_t>(block);
  CHECK_EQ(address & ~kMemberAddressMask, 0u) << "heap address above 48 bits";
  StringBlockHeader header{static_cast<uint32_t>(bytes.size())};
  std::memcpy(block, &header, sizeof(header));
  if (!bytes.empty()) {
    std::memcpy(static_cast<char*>(block) + sizeof(header), bytes.data(), bytes.size());
  }
  return kMemberStringTag | MemberHashBits(hash) | address;
}

void FreeMemberWord(MemberWord word) {
  if (word & kMemberStringTag) std::free(reinterpret_cast<void*>(word & kMemberAddressMask));
}

MemberKey ViewMember(MemberWord word) {
  if ((word & kMemberStringTag) == 0) return MemberKey::FromInteger(word);
  const char* block = reinterpret_cast<const char*>(word & kMemberAddressMask);
  StringBlockHeader header;
  std::memcpy(&header, block, sizeof(header));
  return MemberKey::FromNonIntegerBytes(std::string_view(block + sizeof(header), header.size_bytes));
}

size_t MemberHeapBytes(MemberWord word) {
  if ((word & kMemberStringTag) == 0) return 0;
  return sizeof(StringBlockHeader) + ViewMember(word).bytes().size();
}

}  // namespace podium::storage
