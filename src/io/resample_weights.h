// PIL's antialiased resampling coefficients and torchvision's resize/crop geometry, shared by the CPU
// eval transform (image_preprocess.cpp) and the GPU one (exec/image_input.cpp) so both apply the same
// fixed-point weights to the same source pixels and cannot drift apart.
#pragma once
#include <cstdint>
#include <vector>

#include "io/image.h"

namespace vkvision::io {

constexpr int kResamplePrecisionBits = 32 - 8 - 2;  // PIL's PRECISION_BITS for 8-bit images

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
AxisWeights axis_weights(int in_size, int64_t out_size, int64_t begin, int size, Interpolation interpolation);

// torchvision's CenterCrop offset: int(round((resized - size) / 2.0)), Python's round halving to
// even, in integers so the host's floating-point rounding mode cannot move it.
int64_t centre_offset(int64_t resized, int size);

// Throws InputError("eval transform: ...") for a config out of range (see io::preprocess).
void check_config(const PreprocessConfig& config);

// The size the eval transform resizes a width x height image to (torchvision Resize(int): the
// shorter side becomes floor(input_size / crop_pct), timm's scale_size, the longer in proportion).
// Throws as check_config, and InputError when the resized image is smaller than the crop.
struct ResizedSize {
  int64_t width = 0, height = 0;
};
ResizedSize resized_size(int width, int height, const PreprocessConfig& config);

// The crop's coefficients along each axis of a width x height image. Throws as resized_size.
struct CropResampling {
  AxisWeights columns, rows;
};
CropResampling crop_resampling(int width, int height, const PreprocessConfig& config);

// ToTensor's [0, 1] and Normalize of one 8-bit value, as the CPU path computes it (the GPU path
// looks the same values up in a table built with this).
inline float normalise(int value, float mean, float std) { return (value / 255.0f - mean) / std; }

}  // namespace vkvision::io
