// NumPy .npy files of float32, the exchange format for `vkvision run` and the PyTorch fixtures.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace vkvision::io {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Accepts little-endian '<f4' (and '<f8', converted), C order, at most 32 dimensions. Throws
// InputError naming the file for anything else, before allocating more than the file's data.
NpyArray read_npy(const std::filesystem::path& path);
// The same for bytes in memory, named `path` in messages (fuzz targets, tests).
NpyArray parse_npy(const std::filesystem::path& path, std::span<const std::byte> bytes);
// Writes to a temporary file beside the target and renames it, so a failure leaves no partial file.
void write_npy(const std::filesystem::path& path, const std::vector<int64_t>& shape,
               const std::vector<float>& data);

}  // namespace vkvision::io
