// io::Sha256 against the FIPS 180-4 example messages (NIST's SHA256.pdf, the "abc", two-block and
// one-million-'a' vectors), fed whole and in odd pieces so that block boundaries fall mid-update.
#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <string>

#include "io/sha256.h"

namespace vkvision::io {
namespace {

std::string digest_of(const std::string& message, size_t piece) {
  Sha256 digest;
  const auto* bytes = reinterpret_cast<const std::byte*>(message.data());
  for (size_t offset = 0; offset < message.size(); offset += piece)
    digest.update({bytes + offset, std::min(piece, message.size() - offset)});
  return digest.hex_digest();
}

TEST(Sha256Test, AbcMatchesFips180Vector) {
  EXPECT_EQ(digest_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlockMessageMatchesFips180Vector) {
  const std::string message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";  // 448 bits
  const std::string expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  EXPECT_EQ(digest_of(message, message.size()), expected);
  EXPECT_EQ(digest_of(message, 5), expected);
}

TEST(Sha256Test, OneMillionAMatchesFips180Vector) {
  const std::string message(1000000, 'a');
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  EXPECT_EQ(digest_of(message, message.size()), expected);
  EXPECT_EQ(digest_of(message, 997), expected);
}

TEST(Sha256Test, EmptyMessage) {
  EXPECT_EQ(Sha256().hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, FileDigestReadsTheWholeFile) {
  const auto path = std::filesystem::temp_directory_path() / "vkvision_sha256_test.bin";
  { std::ofstream(path, std::ios::binary) << "abc"; }
  EXPECT_EQ(sha256_file(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vkvision::io
