// Image decoding and timm's eval transform. The first two bytes choose the transform (input size
// 1..64, bilinear or bicubic, 1 or 3 channels, crop_pct in (0, 1]) so the resize and crop
// arithmetic is fuzzed with the decoder; the rest is the image file. The pixel limit is lowered to
// one megapixel so each input takes milliseconds; the checks that enforce it are the library's.
#include <cstdint>

#include "fuzz_support.h"
#include "io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  vkvision::io::PreprocessConfig config;
  config.input_size = 1 + (data[0] & 63);
  config.interpolation =
      data[0] & 64 ? vkvision::io::Interpolation::Bicubic : vkvision::io::Interpolation::Bilinear;
  config.channels = data[0] & 128 ? 3 : 1;
  config.crop_pct = float(data[1] + 1) / 256.0f;
  config.mean.assign(config.channels, 0.5f);
  config.std.assign(config.channels, 0.25f);
  const auto file = vkvision::fuzz::as_bytes(data + 2, size - 2);
  vkvision::fuzz::expect_clean_outcome("fuzz.img", [&] {
    const vkvision::io::Image image = vkvision::io::decode_image(file, "fuzz.img", {.max_pixels = 1 << 20});
    vkvision::io::preprocess(image, config);
  });
  return 0;
}
