#include "io/resample_weights.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "vkvision/error.h"

namespace vkvision::io {
namespace {

constexpr int kMaxInputSize = 1 << 14;
// Keeps resized positions (at most this times 2^24 source pixels per short side pixel) below 2^52,
// where double still holds xx + 0.5 exactly.
constexpr int64_t kMaxScaleSize = int64_t(1) << 24;

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

}  // namespace

AxisWeights axis_weights(int in_size, int64_t out_size, int64_t begin, int size,
                         Interpolation interpolation) {
  AxisWeights axis;
  axis.first.resize(size);
  axis.count.resize(size);
  if (in_size == out_size) {
    axis.taps = 1;
    axis.weights.assign(size, int32_t(1) << kResamplePrecisionBits);
    for (int i = 0; i < size; ++i) axis.first[i] = int(begin + i), axis.count[i] = 1;
  } else {
    const double support_base = interpolation == Interpolation::Bicubic ? 2.0 : 1.0;
    const auto filter = interpolation == Interpolation::Bicubic ? bicubic_filter : bilinear_filter;
    const double scale = double(in_size) / double(out_size);
    const double filter_scale = std::max(scale, 1.0);
    const double support = support_base * filter_scale;
    const double inverse_filter_scale = 1.0 / filter_scale;  // PIL multiplies by the reciprocal
    axis.taps = int(std::ceil(support)) * 2 + 1;             // support <= 2 * in_size: no overflow
    axis.weights.assign(size_t(size) * axis.taps, 0);
    std::vector<double> k(axis.taps);
    for (int i = 0; i < size; ++i) {
      const double center = (double(begin + i) + 0.5) * scale;
      const int xmin = std::max(int(center - support + 0.5), 0);
      const int xmax = std::min(int(center + support + 0.5), in_size) - xmin;
      double total = 0;
      for (int x = 0; x < xmax; ++x) total += k[x] = filter((x + xmin - center + 0.5) * inverse_filter_scale);
      for (int x = 0; x < xmax; ++x) {
        const double w = total != 0 ? k[x] / total : 0.0;
        axis.weights[size_t(i) * axis.taps + x] = int32_t(w < 0 ? -0.5 + w * (1 << kResamplePrecisionBits)
                                                                : 0.5 + w * (1 << kResamplePrecisionBits));
      }
      axis.first[i] = xmin;
      axis.count[i] = xmax;
    }
  }
  axis.source_begin = axis.first.front();
  for (int i = 0; i < size; ++i) axis.source_end = std::max(axis.source_end, axis.first[i] + axis.count[i]);
  return axis;
}

int64_t centre_offset(int64_t resized, int size) {
  const int64_t twice = resized - size, half = twice / 2;
  return twice % 2 == 0 ? half : half + (half & 1);
}

void check_config(const PreprocessConfig& config) {
  const auto fail = [](const std::string& problem) { throw InputError("eval transform: " + problem); };
  if (config.input_size < 1 || config.input_size > kMaxInputSize)
    fail("input_size " + std::to_string(config.input_size) + " is outside 1.." +
         std::to_string(kMaxInputSize));
  if (!(config.crop_pct > 0 && config.crop_pct <= 1))
    fail("crop_pct " + std::to_string(config.crop_pct) + " is outside (0, 1]");
  if (config.input_size / config.crop_pct > float(kMaxScaleSize))
    fail("resize to input_size / crop_pct is past " + std::to_string(kMaxScaleSize));
  if (config.channels != 1 && config.channels != 3)
    fail(std::to_string(config.channels) + " channels; 1 or 3 are supported");
  if (config.mean.size() != size_t(config.channels) || config.std.size() != size_t(config.channels))
    fail("mean and std need one value per channel");
}

ResizedSize resized_size(int width, int height, const PreprocessConfig& config) {
  check_config(config);
  const int64_t scale_size = int64_t(std::floor(config.input_size / config.crop_pct));
  const bool portrait = height > width;
  const int shorter = std::min(width, height), longer = std::max(width, height);
  const int64_t new_long = int64_t(double(scale_size) * longer / shorter);
  const ResizedSize resized{portrait ? scale_size : new_long, portrait ? new_long : scale_size};
  if (resized.width < config.input_size || resized.height < config.input_size)
    throw InputError("eval transform: the resized image is smaller than the crop");
  return resized;
}

CropResampling crop_resampling(int width, int height, const PreprocessConfig& config) {
  const ResizedSize resized = resized_size(width, height, config);
  const int size = config.input_size;
  return {
      axis_weights(width, resized.width, centre_offset(resized.width, size), size, config.interpolation),
      axis_weights(height, resized.height, centre_offset(resized.height, size), size, config.interpolation)};
}

}  // namespace vkvision::io
