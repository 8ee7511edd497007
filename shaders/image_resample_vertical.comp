#version 450
// Pass 2 of the GPU eval transform: PIL's vertical resample of the band into the crop's rows, then
// ToTensor and Normalize by table lookup (the host computed each byte's float as the CPU path does),
// written as float32 CHW. One invocation per crop pixel, all channels.
#extension GL_GOOGLE_include_directive : require
#include "image_resample_abi.h"
layout(local_size_x = IMAGE_RESAMPLE_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "image_resample.glsl"

layout(binding = IMAGE_BINDING_ROWS) readonly buffer Rows { int rows[]; };
layout(binding = IMAGE_BINDING_BAND) readonly buffer Band { uint band[]; };
layout(binding = IMAGE_BINDING_NORMALISATION) readonly buffer Normalisation { float normalised[]; };
layout(set = 1, binding = IMAGE_BINDING_DESTINATION) writeonly buffer Destination { float destination[]; };

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  if (id >= p.size * p.size) return;
  const uint y = id / p.size, x = id % p.size;
  const int first = rows[y], count = rows[p.size + y];
  const uint weights = 2u * p.size + y * p.row_taps;
  const uint band_stride = p.size * p.channels;
  for (uint c = 0u; c < p.channels; ++c) {
    ExactSum sum = exact_sum_start();
    for (int t = 0; t < count; ++t)
      exact_sum_add(sum, band[uint(first + t) * band_stride + x * p.channels + c], rows[weights + t]);
    destination[p.destination_offset + (c * p.size + y) * p.size + x] =
        normalised[c * 256u + exact_sum_byte(sum)];
  }
}
