// The Fashion-MNIST IDX files that Debian's dataset-fashion-mnist package installs.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vkvision::io {

inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct LabeledImages {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, row-major grey
  std::vector<uint8_t> labels;  // count
};

// split: "train" or "t10k". Reads the gzip-compressed IDX files. Throws InputError naming the file.
LabeledImages read_fashion_mnist(const std::filesystem::path& dir, const std::string& split);

}  // namespace vkvision::io
