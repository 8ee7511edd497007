// Image decoding (JPEG and PNG only) and the eval transform timm applies before a classifier.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vkvision::io {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (grey) or 3 (RGB); alpha is dropped
  std::vector<uint8_t> pixels;  // row-major, interleaved
};

// What decode_image accepts, checked from the file's header before any pixel is decoded. The
// defaults take a 64-megapixel photo (8192 x 8192) or a strip up to 16,777,216 pixels long (stb_image's
// own side limit); decoding holds about three times width * height * channels bytes at its peak.
struct ImageLimits {
  int max_side = 1 << 24;
  int64_t max_pixels = int64_t(1) << 26;
};

// Throws InputError("<file>: ...") when the file is missing, a directory, not JPEG or PNG (other
// formats are named: "unsupported image format GIF; JPEG and PNG are supported"), past `limits`, or
// corrupt.
Image decode_image(const std::filesystem::path& path, const ImageLimits& limits = {});
// The same for a file's bytes already in memory; `name` is used only in messages.
Image decode_image(std::span<const std::byte> bytes, const std::string& name, const ImageLimits& limits = {});

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

// Returns CHW float32 of shape [channels, input_size, input_size], bit-identical to PIL's result
// (same uint8 pixels before the float normalisation). Only the pixels inside the crop are computed,
// so time and memory follow the crop and the source rows it draws on, whatever the aspect ratio.
// Throws InputError("eval transform: ...") for a config out of range (input_size 1..65536, crop_pct
// in (0, 1], channels 1 or 3, one mean and std per channel) and std::invalid_argument for an Image
// whose pixels do not match its shape.
std::vector<float> preprocess(const Image& image, const PreprocessConfig& config);

}  // namespace vkvision::io
