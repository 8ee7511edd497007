// Image decoding and a model's eval transform on the CPU: the CLI's own path, so that a host with
// pixels in memory gets the numbers `vkvision classify` gets without re-implementing PIL.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "vkvision/model.h"

namespace vkvision {

// Decoded pixels: row-major, interleaved, 1 (grey) or 3 (RGB) channels; alpha is dropped.
struct Image {
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t channels = 0;
  std::vector<uint8_t> pixels;
};

// Decodes a PNG or JPEG file, or its bytes (`name` only names it in messages). Throws InputError
// naming the file for a missing, unsupported, corrupt or too large image (64 megapixels). Thread-safe.
Image decode_image(const std::filesystem::path& path);
Image decode_image(std::span<const std::byte> bytes, const std::string& name);

// The model's eval transform (timm's: resize the shorter side to input_size / crop_pct with PIL's
// antialiased filter, centre crop, scale to [0, 1], normalise with the model's mean and std):
// float32 CHW [channels, input_size, input_size], bit-identical to PIL's. input_size 0: the
// preprocessing's own. Throws InputError for an Image whose pixels do not match its shape or a
// preprocessing out of range. Thread-safe (pure).
std::vector<float> preprocess(const Image& image, const Preprocessing& preprocessing,
                              uint32_t input_size = 0);

}  // namespace vkvision
