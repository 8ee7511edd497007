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
#include <cstring>
#include <stdexcept>

#include "io/image.h"
#include "io/resample_weights.h"

namespace vkvision::io {
namespace {

// PIL's fixed-point dot product for one output value, rounded and clipped to uint8.
uint8_t resample_value(const uint8_t* source, size_t stride, const int32_t* weights, int count) {
  int64_t sum = int64_t(1) << (kResamplePrecisionBits - 1);
  for (int t = 0; t < count; ++t) sum += int64_t(source[t * stride]) * weights[t];
  return uint8_t(std::clamp<int64_t>(sum >> kResamplePrecisionBits, 0, 255));
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

}  // namespace

std::vector<float> preprocess(const Image& image, const PreprocessConfig& config) {
  check_config(config);
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != size_t(image.width) * size_t(image.height) * size_t(image.channels))
    throw std::invalid_argument("preprocess: the Image's pixels do not match its width, height and channels");

  const CropResampling crop = crop_resampling(image.width, image.height, config);
  const AxisWeights& columns = crop.columns;
  const AxisWeights& rows = crop.rows;
  const int size = config.input_size;
  const int channels = config.channels;

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
        chw[(size_t(c) * size + y) * size + x] = normalise(value, config.mean[c], config.std[c]);
      }
  }
  return chw;
}

}  // namespace vkvision::io
