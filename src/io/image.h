// Image decoding (JPEG, PNG) and the eval transform timm applies before a classifier.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace vkvision::io {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 (grey) or 3 (RGB); alpha is dropped
  std::vector<uint8_t> pixels;  // row-major, interleaved
};

// Throws InputError("<file>: ...") when the file is missing or not a decodable JPEG/PNG.
Image decode_image(const std::filesystem::path& path);

enum class Interpolation { Bilinear, Bicubic };

// timm's eval transform: resize the shorter side to floor(input_size / crop_pct) with PIL's
// antialiased filter, centre-crop input_size x input_size, scale to [0,1], normalise per channel.
struct PreprocessConfig {
  int input_size = 224;
  float crop_pct = 0.875f;
  Interpolation interpolation = Interpolation::Bicubic;
  int channels = 3;  // the model's input channels; grey <-> RGB converted as PIL's convert() does
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
};

// Returns CHW float32 of shape [channels, input_size, input_size].
std::vector<float> preprocess(const Image& image, const PreprocessConfig& config);

}  // namespace vkvision::io
