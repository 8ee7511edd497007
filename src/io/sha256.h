// SHA-256 (FIPS 180-4, section 6.2) of bytes fed in pieces: the model-file digest in bench records
// (docs/BENCH_FORMAT.md). Written here rather than taken from OpenSSL: one small, fully specified
// function, and no crypto library pulled into a library users embed (third_party_notes/README.md).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace vkvision::io {

class Sha256 {
 public:
  Sha256();
  // Appends bytes to the message. Throws nothing.
  void update(std::span<const std::byte> bytes);
  // Pads the message (FIPS 180-4 5.1.1) and returns the digest as 64 lower-case hex digits; the
  // object is spent afterwards. Throws nothing but std::bad_alloc.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> block_{};
  size_t block_used_ = 0;
  uint64_t message_bytes_ = 0;
};

// The digest of a whole file, read through a read-only mapping. Throws InputError as MappedFile.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace vkvision::io
