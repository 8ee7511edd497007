#include "vkvision/image.h"

#include <climits>

#include "api/preprocess_config.h"
#include "io/image.h"
#include "vkvision/error.h"

namespace vkvision {
namespace detail {

io::PreprocessConfig preprocess_config(const Preprocessing& preprocessing, uint32_t input_size) {
  if (preprocessing.interpolation != "bicubic" && preprocessing.interpolation != "bilinear")
    throw InputError("eval transform: interpolation '" + preprocessing.interpolation +
                     "'; bicubic and bilinear are supported");
  const uint32_t size = input_size ? input_size : preprocessing.input_size;
  io::PreprocessConfig config;
  // Out-of-range values become ones io::check_config refuses, with its message.
  config.input_size = size > uint32_t(INT_MAX) ? INT_MAX : int(size);
  config.crop_pct = preprocessing.crop_pct;
  config.interpolation =
      preprocessing.interpolation == "bilinear" ? io::Interpolation::Bilinear : io::Interpolation::Bicubic;
  config.channels = preprocessing.channels > uint32_t(INT_MAX) ? INT_MAX : int(preprocessing.channels);
  config.mean = preprocessing.mean;
  config.std = preprocessing.std;
  return config;
}

}  // namespace detail

namespace {

Image from_io(io::Image&& image) {
  return Image{uint32_t(image.width), uint32_t(image.height), uint32_t(image.channels),
               std::move(image.pixels)};
}

}  // namespace

Image decode_image(const std::filesystem::path& path) { return from_io(io::decode_image(path)); }

Image decode_image(std::span<const std::byte> bytes, const std::string& name) {
  return from_io(io::decode_image(bytes, name));
}

std::vector<float> preprocess(const Image& image, const Preprocessing& preprocessing, uint32_t input_size) {
  const io::PreprocessConfig config = detail::preprocess_config(preprocessing, input_size);
  if (image.width == 0 || image.height == 0 || image.width > INT_MAX || image.height > INT_MAX ||
      (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != size_t(image.width) * image.height * image.channels)
    throw InputError("preprocess: the Image's " + std::to_string(image.pixels.size()) +
                     " bytes do not match " + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + "x" + std::to_string(image.channels) +
                     " (1 or 3 channels)");
  // io::preprocess reads the pixels in place; the copy costs one pass over them.
  const io::Image pixels{int(image.width), int(image.height), int(image.channels), image.pixels};
  return io::preprocess(pixels, config);
}

}  // namespace vkvision
