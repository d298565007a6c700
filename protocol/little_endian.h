// Little-endian integer and float encoding for the binary protocol. Byte by byte with shifts:
// portable, free of alignment and aliasing rules, and compiled to single moves on x86-64.
#pragma once

#include <bit>
#include <cstdint>
#include <string>

namespace podium::protocol {

inline uint16_t LoadU16(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}

inline uint32_t LoadU32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | (uint32_t{b[1]} << 8) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 24);
}

inline uint64_t LoadU64(const char* p) { return LoadU32(p) | (uint64_t{LoadU32(p + 4)} << 32); }

inline void StoreU16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v);
  p[1] = static_cast<char>(v >> 8);
}

inline void StoreU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

inline void StoreU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

inline void AppendU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

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

inline void AppendF64(std::string* out, double v) { AppendU64(out, std::bit_cast<uint64_t>(v)); }

inline double LoadF64(const char* p) { return std::bit_cast<double>(LoadU64(p)); }

}  // namespace podium::protocol
