// Fixed-width little-endian integers and varints, byte by byte: how the WAL and snapshot
// formats put numbers on disk (docs/wal_format.md, docs/snapshot_format.md). Never a memcpy of
// a struct, so the layout does not depend on the compiler or the machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace podium::storage {

inline void StoreU16(char* p, uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void StoreU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void StoreU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline uint16_t LoadU16(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}
inline uint32_t LoadU32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | (uint32_t{b[1]} << 8) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 24);
}
inline uint64_t LoadU64(const char* p) { return LoadU32(p) | (uint64_t{LoadU32(p + 4)} << 32); }

inline void AppendU16(std::string* out, uint16_t v) {
  char bytes[2];
  StoreU16(bytes, v);
  out->append(bytes, sizeof(bytes));
}
inline void AppendU32(std::string* out, uint32_t v) {
  char bytes[4];
  StoreU32(bytes, v);
  out->append(bytes, sizeof(bytes));
}
inline void AppendU64(std::string* out, uint64_t v) {
  char bytes[8];
  StoreU64(bytes, v);
  out->append(bytes, sizeof(bytes));
}
// Unsigned LEB128.
inline void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// The bytes AppendVarint(v) appends.
inline size_t VarintBytes(uint64_t v) {
  size_t bytes = 1;
  for (; v >= 0x80; v >>= 7) ++bytes;
  return bytes;
}

// Reads fields from a byte string, never past its end: every Read returns false once the bytes
// run out (or a varint is longer than 10 bytes or overflows), and the reader stays failed.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : rest_(bytes) {}

  bool ReadU8(uint8_t* v) {
    if (!Take(1)) return false;
    *v = static_cast<uint8_t>(taken_[0]);
    return true;
  }
  bool ReadU64(uint64_t* v) {
    if (!Take(8)) return false;
    *v = LoadU64(taken_.data());
    return true;
  }
  bool ReadVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (!Take(1)) return false;
      const uint64_t byte = static_cast<uint8_t>(taken_[0]);
      if (shift == 63 && byte > 1) return Fail();
      result |= (byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail();
  }
  // A varint length, then that many bytes (a view into the input).
  bool ReadLengthPrefixed(std::string_view* v) {
    uint64_t length = 0;
    if (!ReadVarint(&length) || length > rest_.size()) return Fail();
    Take(static_cast<size_t>(length));
    *v = taken_;
    return true;
  }
  bool ReadBytes(size_t n, std::string_view* v) {
    if (!Take(n)) return false;
    *v = taken_;
    return true;
  }
  bool empty() const { return ok_ && rest_.empty(); }
  size_t remaining() const { return rest_.size(); }
  bool ok() const { return ok_; }

 private:
  bool Take(size_t n) {
    if (!ok_ || n > rest_.size()) return Fail();
    taken_ = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }

  std::string_view rest_;
  std::string_view taken_;
  bool ok_ = true;
};

inline void AppendLengthPrefixed(std::string* out, std::string_view bytes) {
  AppendVarint(out, bytes.size());
  out->append(bytes);
}

}  // namespace podium::storage
