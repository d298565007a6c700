// Sorted-set members, and how a set stores them in eight bytes.
//
// Most members are product ids. A member whose bytes are the canonical decimal form of an
// integer in [0, kProductIdMax] ("0", "42", not "042" or "+42") is kept as that integer, inline
// in a 64-bit word with the top bit clear: no allocation, no pointer to chase. Any other byte
// string lives in a heap block the set owns, and the word holds its address with the top bit
// set. Canonicalisation happens once, in MemberKey::FromBytes, so the same bytes always take the
// same form, hash the same, and compare the same.
//
// Order is Redis's: members of equal score sort by their bytes, lexicographically ("10" < "9").
// Integer members are compared in that order without rendering them to text.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/limits.h"

namespace podium::storage {

// A non-owning view of a member, cheap to copy. For a string member the bytes must outlive it.
class MemberKey {
 public:
  // Canonical decimal integers in [0, kProductIdMax] become integer members.
  static MemberKey FromBytes(std::string_view bytes);
  static MemberKey FromInteger(uint64_t value);  // value <= kProductIdMax
  // For bytes already known not to be a canonical integer (a stored string member).
  static MemberKey FromNonIntegerBytes(std::string_view bytes) { return {0, bytes, false}; }

  bool is_integer() const { return is_integer_; }
  uint64_t integer() const { return integer_; }    // only when is_integer()
  std::string_view bytes() const { return bytes_; }  // only when !is_integer()
  size_t size_bytes() const;                       // length of the member's text

  uint64_t Hash() const;
  void AppendTo(std::string* out) const;  // the member's bytes (integers in decimal)
  std::string ToString() const;

 private:
  MemberKey(uint64_t integer, std::string_view bytes, bool is_integer)
      : integer_(integer), bytes_(bytes), is_integer_(is_integer) {}

  uint64_t integer_;
  std::string_view bytes_;
  bool is_integer_;
};

namespace member_internal {
inline constexpr int kIntegerDigitsMax = 19;  // kProductIdMax has 19 decimal digits
inline constexpr uint64_t kPowersOf10[kIntegerDigitsMax + 1] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
    1000000000000000000ull,
    10000000000000000000ull,
};

// Decimal digits of value: log10 estimated from the bit length (1233/4096 ~ log10(2)).
inline int DecimalDigits(uint64_t value) {
  const int estimate = ((64 - std::countl_zero(value | 1)) * 1233) >> 12;
  return estimate + 1 - (estimate > 0 && value < kPowersOf10[estimate]);
}
}  // namespace member_internal

// Lexicographic order of the decimal texts of a and b. If a has fewer digits, pad it with
// zeros to b's length: a*10^k < b means a's text sorts first; a*10^k == b means a's text is a
// prefix of b's, which also sorts first. Both fit in 64 bits since b < 10^19.
inline int CompareIntegersAsText(uint64_t a, uint64_t b) {
  using member_internal::DecimalDigits;
  using member_internal::kPowersOf10;
  const int digits_a = DecimalDigits(a);
  const int digits_b = DecimalDigits(b);
  if (digits_a == digits_b) return a < b ? -1 : (a > b ? 1 : 0);
  if (digits_a < digits_b) return a * kPowersOf10[digits_b - digits_a] <= b ? -1 : 1;
  return b * kPowersOf10[digits_a - digits_b] <= a ? 1 : -1;
}

// <0, 0, >0 as a's bytes sort before, equal to, or after b's.
int CompareMembers(const MemberKey& a, const MemberKey& b);
inline bool operator==(const MemberKey& a, const MemberKey& b) {
  return CompareMembers(a, b) == 0;
}

// The stored form: an inline integer (top bit clear) or a string word: the top bit set, 15
// bits of the member's hash, and the address of an owned block of [uint32 length][bytes]. User
// addresses fit in 48 bits on x86-64, and on AArch64 without heap tagging (MTE and HWASan put a
// tag in the top byte); StoreMember checks. The hash bits let a search for one member pass
// over the others of a node without reading their blocks. The owner calls FreeMemberWord
// exactly once per StoreMember.
using MemberWord = uint64_t;
inline constexpr MemberWord kMemberStringTag = uint64_t{1} << 63;
inline constexpr int kMemberAddressBits = 48;
inline constexpr MemberWord kMemberAddressMask = (uint64_t{1} << kMemberAddressBits) - 1;
inline constexpr MemberWord kMemberHashMask = ~kMemberStringTag & ~kMemberAddressMask;

// The hash bits a string member's word carries, from its MemberKey::Hash().
inline MemberWord MemberHashBits(uint64_t hash) { return (hash << kMemberAddressBits) & kMemberHashMask; }

MemberWord StoreMember(const MemberKey& key, uint64_t hash);  // hash = key.Hash()
inline MemberWord StoreMember(const MemberKey& key) { return StoreMember(key, key.Hash()); }
void FreeMemberWord(MemberWord word);
MemberKey ViewMember(MemberWord word);
// Bytes a stored member owns on the heap (0 for integers).
size_t MemberHeapBytes(MemberWord word);

// Whether the stored member is `key`, whose Hash() is `hash`.
inline bool MemberWordEquals(MemberWord word, const MemberKey& key, uint64_t hash) {
  if (key.is_integer()) return word == key.integer();
  if ((word & (kMemberStringTag | kMemberHashMask)) != (kMemberStringTag | MemberHashBits(hash))) {
    return false;
  }
  return ViewMember(word).bytes() == key.bytes();
}
inline bool MemberWordEquals(MemberWord word, const MemberKey& key) {
  return MemberWordEquals(word, key, key.is_integer() ? 0 : key.Hash());
}

}  // namespace podium::storage
