// Fixed-width little-endian integers and varints, byte by byte: how the WAL and snapshot
// formats put numbers on disk (docs/wal_format.md, docs/snapshot_format.md). Never a memcpy of
// a struct, so the layout does not depend on the compiler or the machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

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

}  // namespace podium::storage
