// NumPy .npy files of float32, the exchange format for `vkvision run` and the PyTorch fixtures.
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

namespace vkvision::io {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Accepts little-endian '<f4' (and '<f8', converted), C order. Throws InputError naming the file.
NpyArray read_npy(const std::filesystem::path& path);
// Writes to a temporary file beside the target and renames it, so a failure leaves no partial file.
void write_npy(const std::filesystem::path& path, const std::vector<int64_t>& shape,
               const std::vector<float>& data);

}  // namespace vkvision::io
