#version 450
// Pass 1 of the GPU eval transform: PIL's horizontal resample of the source rows the vertical
// window reads, over the crop's columns only, into a band of 8-bit values held as uint. One
// invocation per (band row, crop column), all channels.
#extension GL_GOOGLE_include_directive : require
#include "image_resample_abi.h"
layout(local_size_x = IMAGE_RESAMPLE_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "image_resample.glsl"

layout(binding = IMAGE_BINDING_SOURCE) uniform sampler2D source;
layout(binding = IMAGE_BINDING_COLUMNS) readonly buffer Columns { int columns[]; };
layout(binding = IMAGE_BINDING_BAND) writeonly buffer Band { uint band[]; };
layout(binding = IMAGE_BINDING_SRGB_DECODE) readonly buffer SrgbDecode { float srgb_decode[]; };

// The byte the CPU path would have decoded for component c of a texel.
uint to_byte(float v, uint c) {
  if (p.decode == IMAGE_DECODE_SRGB) {
    // srgb_decode is strictly increasing (checked when it was calibrated): the largest byte whose
    // decode is <= v, or the next one if that is nearer.
    const uint table = (p.srgb_table * 256u) * 4u + c;
    uint low = 0u;
    for (uint step = 128u; step > 0u; step >>= 1)
      if (srgb_decode[table + (low + step) * 4u] <= v) low += step;
    if (low < 255u && srgb_decode[table + (low + 1u) * 4u] - v < v - srgb_decode[table + low * 4u]) ++low;
    return low;
  }
  if (p.decode == IMAGE_DECODE_FLOAT) v = clamp(v, 0.0, 1.0);
  return uint(v * 255.0 + 0.5);
}

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  if (id >= p.band_rows * p.size) return;
  const uint band_row = id / p.size, x = id % p.size;
  const int first = columns[x], count = columns[p.size + x];
  const uint weights = 2u * p.size + x * p.column_taps;
  const int y = int(p.band_origin_y + band_row);
  ExactSum sums[3] = {exact_sum_start(), exact_sum_start(), exact_sum_start()};
  for (int t = 0; t < count; ++t) {
    const vec4 texel = texelFetch(source, ivec2(first + t, y), 0);
    const uint r = to_byte(texel.r, 0u), g = to_byte(texel.g, 1u), b = to_byte(texel.b, 2u);
    const int weight = columns[weights + t];
    if (p.channels == 1) {
      // timm's loader converts to L with PIL's fixed-point ITU-R 601 luma before the transform.
      exact_sum_add(sums[0], (r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16, weight);
    } else {
      exact_sum_add(sums[0], r, weight);
      exact_sum_add(sums[1], g, weight);
      exact_sum_add(sums[2], b, weight);
    }
  }
  const uint out_base = (band_row * p.size + x) * p.channels;
  for (uint c = 0u; c < p.channels; ++c) band[out_base + c] = exact_sum_byte(sums[c]);
}
