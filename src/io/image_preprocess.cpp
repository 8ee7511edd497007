// timm's eval transform reproduced as PIL computes it: torchvision's Resize and CenterCrop on a PIL
// image call PIL's Image.resize, whose 8-bit path is separable resampling with antialiasing (the
// filter support widens by the downscale factor), coefficients in fixed point with 22 fractional
// bits, rounding and clipping to uint8 after each pass, the horizontal pass first
// (ImagingResampleInner in PIL's Resample.c).
//
// Only the crop is computed. PIL's coefficients for output position xx depend only on (in_size,
// out_size, xx), so the crop window's coefficients are the ones PIL applies to those pixels. The
// horizontal pass runs over the crop's columns of the source rows the vertical window reads (PIL
// also trims to those rows), and the vertical pass over the crop's rows: PIL's bytes for the crop,
// at the cost of the crop rather than of the resized image.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "io/image.h"
#include "vkvision/error.h"

namespace vkvision::io {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's PRECISION_BITS for 8-bit images
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

// The weights of a window of output positions along one axis.
struct AxisWeights {
  int taps = 0;                          // weights stored per position
  std::vector<int> first;                // first source index each position reads
  std::vector<int> count;                // how many source indices it reads
  std::vector<int32_t> weights;          // fixed point, `taps` per position
  int source_begin = 0, source_end = 0;  // the source range the whole window reads
};

// Positions [begin, begin + size) of resizing one axis from in_size to out_size: PIL's
// precompute_coeffs and normalize_coeffs_8bpc. Equal sizes: PIL skips the pass, which one tap of
// weight 1 reproduces exactly.
AxisWeights axis_weights(int in_size, int64_t out_size, int64_t begin, int size,
                         Interpolation interpolation) {
  AxisWeights axis;
  axis.first.resize(size);
  axis.count.resize(size);
  if (in_size == out_size) {
    axis.taps = 1;
    axis.weights.assign(size, int32_t(1) << kPrecisionBits);
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
        axis.weights[size_t(i) * axis.taps + x] =
            int32_t(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
      }
      axis.first[i] = xmin;
      axis.count[i] = xmax;
    }
  }
  axis.source_begin = axis.first.front();
  for (int i = 0; i < size; ++i) axis.source_end = std::max(axis.source_end, axis.first[i] + axis.count[i]);
  return axis;
}

// PIL's fixed-point dot product for one output value, rounded and clipped to uint8.
uint8_t resample_value(const uint8_t* source, size_t stride, const int32_t* weights, int count) {
  int64_t sum = int64_t(1) << (kPrecisionBits - 1);
  for (int t = 0; t < count; ++t) sum += int64_t(source[t * stride]) * weights[t];
  return uint8_t(std::clamp<int64_t>(sum >> kPrecisionBits, 0, 255));
}

// Pixels [begin, end) of row y in the model's channel count, as timm's loader converts with PIL
// before the transform: RGB -> L with PIL's fixed-point ITU-R 601 luma, L -> RGB by replication.
void read_row(const Image& image, int y, int begin, int end, int channels, uint8_t* out) {
  const uint8_t* in = &image.pixels[(size_t(y) * image.width + begin) * image.channels];
  const size_t count = size_t(end - begin);
  if (channels == image.channels) {
    std::memcpy(out, in, count * channels);
  } else if (channels == 1) {
    for (size_t i = 0; i < count; ++i, in += 3)
      out[i] = uint8_t((in[0] * 19595 + in[1] * 38470 + in[2] * 7471 + 0x8000) >> 16);
  } else {
    for (size_t i = 0; i < count; ++i) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = in[i];
  }
}

// torchvision's CenterCrop offset: int(round((resized - size) / 2.0)), Python's round halving to
// even, in integers so the host's floating-point rounding mode cannot move it.
int64_t centre_offset(int64_t resized, int size) {
  const int64_t twice = resized - size, half = twice / 2;
  return twice % 2 == 0 ? half : half + (half & 1);
}

void check(const PreprocessConfig& config) {
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

}  // namespace

std::vector<float> preprocess(const Image& image, const PreprocessConfig& config) {
  check(config);
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != size_t(image.width) * size_t(image.height) * size_t(image.channels))
    throw std::invalid_argument("preprocess: the Image's pixels do not match its width, height and channels");

  // torchvision Resize(int): the shorter side becomes floor(size / crop_pct) (timm's scale_size), the
  // longer int(new_short * long / short).
  const int64_t scale_size = int64_t(std::floor(config.input_size / config.crop_pct));
  const bool portrait = image.height > image.width;
  const int shorter = std::min(image.width, image.height), longer = std::max(image.width, image.height);
  const int64_t new_long = int64_t(double(scale_size) * longer / shorter);
  const int64_t target_w = portrait ? scale_size : new_long, target_h = portrait ? new_long : scale_size;
  const int size = config.input_size;
  if (target_w < size || target_h < size)
    throw InputError("eval transform: the resized image is smaller than the crop");

  const int channels = config.channels;
  const AxisWeights columns =
      axis_weights(image.width, target_w, centre_offset(target_w, size), size, config.interpolation);
  const AxisWeights rows =
      axis_weights(image.height, target_h, centre_offset(target_h, size), size, config.interpolation);

  // Horizontal pass over the source rows the vertical window reads: a band of `size` columns.
  const size_t band_stride = size_t(size) * channels;
  std::vector<uint8_t> band(size_t(rows.source_end - rows.source_begin) * band_stride);
  std::vector<uint8_t> source(size_t(columns.source_end - columns.source_begin) * channels);
  for (int y = rows.source_begin; y < rows.source_end; ++y) {
    read_row(image, y, columns.source_begin, columns.source_end, channels, source.data());
    uint8_t* out = &band[size_t(y - rows.source_begin) * band_stride];
    for (int x = 0; x < size; ++x)
      for (int c = 0; c < channels; ++c)
        out[size_t(x) * channels + c] =
            resample_value(&source[size_t(columns.first[x] - columns.source_begin) * channels + c], channels,
                           &columns.weights[size_t(x) * columns.taps], columns.count[x]);
  }

  // Vertical pass, then ToTensor's [0, 1] and Normalize, into CHW.
  std::vector<float> chw(size_t(channels) * size * size);
  for (int y = 0; y < size; ++y) {
    const uint8_t* in = &band[size_t(rows.first[y] - rows.source_begin) * band_stride];
    for (int x = 0; x < size; ++x)
      for (int c = 0; c < channels; ++c) {
        const uint8_t value = resample_value(&in[size_t(x) * channels + c], band_stride,
                                             &rows.weights[size_t(y) * rows.taps], rows.count[y]);
        chw[(size_t(c) * size + y) * size + x] = (value / 255.0f - config.mean[c]) / config.std[c];
      }
  }
  return chw;
}

}  // namespace vkvision::io
