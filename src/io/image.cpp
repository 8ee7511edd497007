// Decoding with stb_image, and timm's eval transform reproduced as PIL computes it: torchvision's
// Resize and CenterCrop on a PIL image call PIL's Image.resize, whose 8-bit path is separable
// resampling with antialiasing (the filter support widens by the downscale factor), coefficients
// in fixed point with 22 fractional bits, and rounding and clipping to uint8 after each pass.
#include "io/image.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "vkvision/error.h"

namespace vkvision::io {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's PRECISION_BITS for 8-bit images

double bilinear_filter(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coefficients {
  std::vector<int> first, count;  // source window per output position
  std::vector<int32_t> weights;   // fixed point, `taps` per output position
  int taps = 0;
};

// PIL's precompute_coeffs + normalize_coeffs_8bpc for one axis.
Coefficients coefficients(int in_size, int out_size, Interpolation interpolation) {
  const double support_base = interpolation == Interpolation::Bicubic ? 2.0 : 1.0;
  const auto filter = interpolation == Interpolation::Bicubic ? bicubic_filter : bilinear_filter;
  const double scale = double(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = support_base * filter_scale;
  Coefficients c;
  c.taps = int(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weights.assign(size_t(out_size) * c.taps, 0);
  std::vector<double> k(c.taps);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    int xmin = int(center - support + 0.5), xmax = int(center + support + 0.5);
    xmin = std::max(xmin, 0);
    xmax = std::min(xmax, in_size) - xmin;
    double total = 0;
    for (int x = 0; x < xmax; ++x) total += k[x] = filter((x + xmin - center + 0.5) / filter_scale);
    for (int x = 0; x < xmax; ++x) {
      const double w = total != 0 ? k[x] / total : 0.0;
      c.weights[size_t(xx) * c.taps + x] = int32_t(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t clip8(int64_t value) { return uint8_t(std::clamp<int64_t>(value >> kPrecisionBits, 0, 255)); }

// One separable pass over an interleaved image; `horizontal` picks the axis.
std::vector<uint8_t> resample(const std::vector<uint8_t>& in, int width, int height, int channels, int out_size,
                              bool horizontal, Interpolation interpolation) {
  const int in_size = horizontal ? width : height;
  const Coefficients c = coefficients(in_size, out_size, interpolation);
  const int out_w = horizontal ? out_size : width, out_h = horizontal ? height : out_size;
  std::vector<uint8_t> out(size_t(out_w) * out_h * channels);
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      const int position = horizontal ? x : y;
      const int32_t* k = &c.weights[size_t(position) * c.taps];
      for (int ch = 0; ch < channels; ++ch) {
        int64_t sum = int64_t(1) << (kPrecisionBits - 1);
        for (int t = 0; t < c.count[position]; ++t) {
          const int sx = horizontal ? c.first[position] + t : x, sy = horizontal ? y : c.first[position] + t;
          sum += int64_t(in[(size_t(sy) * width + sx) * channels + ch]) * k[t];
        }
        out[(size_t(y) * out_w + x) * channels + ch] = clip8(sum);
      }
    }
  return out;
}

}  // namespace

Image decode_image(const std::filesystem::path& path) {
  int width = 0, height = 0, channels = 0;
  stbi_uc* pixels = stbi_load(path.c_str(), &width, &height, &channels, 0);
  if (!pixels) {
    const char* reason = stbi_failure_reason();
    throw InputError(path.string() + ": cannot decode image (" + (reason ? reason : "unknown error") +
                     "); JPEG and PNG are supported");
  }
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels <= 2 ? 1 : 3;  // drop alpha
  image.pixels.resize(size_t(width) * height * image.channels);
  for (size_t i = 0; i < size_t(width) * height; ++i)
    for (int c = 0; c < image.channels; ++c) image.pixels[i * image.channels + c] = pixels[i * channels + c];
  stbi_image_free(pixels);
  return image;
}

std::vector<float> preprocess(const Image& image, const PreprocessConfig& config) {
  if (image.width <= 0 || image.height <= 0) throw InputError("empty image");
  // Channel conversion first, as timm's loader does (PIL convert): RGB -> L with PIL's fixed-point
  // ITU-R 601 luma; L -> RGB by replication.
  std::vector<uint8_t> pixels;
  const int channels = config.channels;
  const size_t count = size_t(image.width) * image.height;
  if (channels == image.channels) {
    pixels = image.pixels;
  } else if (channels == 1) {
    pixels.resize(count);
    for (size_t i = 0; i < count; ++i) {
      const uint8_t* rgb = &image.pixels[i * 3];
      pixels[i] = uint8_t((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
    }
  } else {
    pixels.resize(count * 3);
    for (size_t i = 0; i < count; ++i) pixels[i * 3] = pixels[i * 3 + 1] = pixels[i * 3 + 2] = image.pixels[i];
  }

  // torchvision Resize(int): the shorter side becomes floor(size / crop_pct) (timm's scale_size), the
  // longer int(new_short * long / short).
  const int scale_size = int(std::floor(config.input_size / config.crop_pct));
  int width = image.width, height = image.height;
  const bool portrait = height > width;
  const int shorter = std::min(width, height), longer = std::max(width, height);
  const int new_short = scale_size, new_long = int(double(scale_size) * longer / shorter);
  const int target_w = portrait ? new_short : new_long, target_h = portrait ? new_long : new_short;
  if (target_w != width) pixels = resample(pixels, width, height, channels, target_w, true, config.interpolation), width = target_w;
  if (target_h != height) pixels = resample(pixels, width, height, channels, target_h, false, config.interpolation), height = target_h;

  // CenterCrop: top = int(round((h - size) / 2)) with Python's round (ties to even).
  const int size = config.input_size;
  if (width < size || height < size) throw InputError("image smaller than the crop after resizing");
  const int top = int(std::nearbyint((height - size) / 2.0)), left = int(std::nearbyint((width - size) / 2.0));
  std::vector<float> chw(size_t(channels) * size * size);
  for (int c = 0; c < channels; ++c) {
    const float mean = config.mean.at(c), std = config.std.at(c);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        chw[(size_t(c) * size + y) * size + x] =
            (pixels[(size_t(y + top) * width + (x + left)) * channels + c] / 255.0f - mean) / std;
  }
  return chw;
}

}  // namespace vkvision::io
