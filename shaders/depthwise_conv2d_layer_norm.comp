#version 450
// Depthwise convolution followed by LayerNorm over channels (ConvNeXt's dwconv -> norm), fused so
// the un-normalised map never makes a round trip between two dispatches. Each invocation owns PIXELS
// horizontally adjacent output pixels and walks all their channels, 4 at a time, loading each input
// column and weight once for all of them; it keeps the one-pass statistics (sum and sum of squares about
// the first channel, as layer_norm.comp) and then normalises its own pixels in place. Input and
// weights are RGBA32F texel buffers, so C must be a multiple of 4 (the host falls back otherwise);
// fp16 weights are read unchanged through an RGBA16F view.
// Parallelism is one invocation per PIXELS pixels: right for lavapipe's few wide cores; the plan
// keeps the unfused pair where this does not apply.
#extension GL_GOOGLE_include_directive : require
#include "depthwise_conv2d_layer_norm_abi.h"
layout(local_size_x = DEPTHWISE_LAYER_NORM_LOCAL_SIZE_X) in;
#include "common.glsl"

layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer w;
layout(binding = 2) readonly buffer Bias { vec4 bias[]; };
layout(binding = 3) buffer Output { vec4 y[]; };  // read back by the same invocation to normalise
layout(binding = 4) readonly buffer Affine { vec4 affine[]; };  // gamma[C] then beta[C]
// STATISTICS_ONLY: the output stays un-normalised and each pixel's (mean, 1/std) goes here instead;
// the GEMM that reads the map applies the norm in its epilogue (gemm.comp ROW_STATISTICS), which
// saves this kernel its second pass over the output.
layout(binding = 5) writeonly buffer Statistics { vec2 pixel_statistics[]; };

// Kernel size and stride are specialisation constants (the host always sets them), so the tap loops
// unroll with every tap-to-output mapping resolved at compile time and the input columns of a row
// fit a fixed-size array: lavapipe does not unroll loops with run-time bounds (LAVAPIPE.md).
layout(constant_id = 0) const uint KH = 7;
layout(constant_id = 1) const uint KW = 7;
layout(constant_id = 2) const uint SW = 1;
// Output pixels per invocation: each input column and each weight is loaded once and used for all
// of them (per row of taps: (PIXELS - 1) * SW + KW column loads and KW weight loads). Measured on
// lavapipe, convnext_tiny's 18 layers: 4 pixels 34 ms, 8 pixels 30 ms, 16 pixels 33 ms.
const uint PIXELS = DEPTHWISE_LAYER_NORM_PIXELS;
const uint COLUMNS = (PIXELS - 1) * SW + KW;

// Channel groups per tile (a power of two up to the workgroup size): the invocations of a tile split
// its channels, so a late-stage map (7x7x768: 7 tiles) still spreads over several threads; each group
// keeps statistics of its own channels and the tile combines them (Chan et al.'s pairwise update, so
// the combination stays exact however far the means lie from 0). The host picks the fewest groups
// that give the dispatch enough invocations: splitting costs a barrier and the combination.
// (A push constant, not a specialisation constant: each variant of this fully unrolled kernel takes
// lavapipe seconds to compile.)
#define GROUPS p.GROUPS
// Output rows per tile (stride 1 only): two rows share KH - 1 of their KH input rows, so each input
// column is loaded once for both. Measured on lavapipe (convnext_tiny's 18 layers, batch 1): 1 row
// 21.3 ms, 2 rows 18.8-19.2 ms, 4 rows 18.9-19.7 ms (37.5 ms once the weights are carried below).
layout(constant_id = 3) const uint ROWS = 1;
layout(constant_id = 4) const bool STATISTICS_ONLY = false;
const uint WORKGROUP = DEPTHWISE_LAYER_NORM_LOCAL_SIZE_X, OUTPUTS = ROWS * PIXELS;
shared float group_mean[WORKGROUP * OUTPUTS], group_m2[WORKGROUP * OUTPUTS];

uint quads_of_group(uint group) { return group < p.C4 ? (p.C4 - group + GROUPS - 1) / GROUPS : 0; }

void main() {
  const uint tiles_w = (p.OW + PIXELS - 1) / PIXELS, tiles_h = (p.OH + ROWS - 1) / ROWS;
  const uint workgroup = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  const uint local = gl_LocalInvocationID.x, group = local % GROUPS, first_local = local - group;
  const uint tile = workgroup * (WORKGROUP / GROUPS) + local / GROUPS;
  // Invocations past the last tile do no work but still reach the barrier.
  const bool in_range = tile < p.N * tiles_h * tiles_w;
  const uint tile_w = tile % tiles_w;
  const uint tile_h = (tile / tiles_w) % tiles_h, n = tile / (tiles_w * tiles_h);
  const uint oh0 = tile_h * ROWS, ow0 = tile_w * PIXELS;
  // Group g takes channel quads g, g + GROUPS, ...: at each step the lanes of a tile read neighbouring
  // quads (contiguous texels) rather than quads a group's width apart.
  const uint c_begin = group, c_end = in_range ? p.C4 : 0;

  // Output o = r * PIXELS + i: row oh0 + r, column ow0 + i.
  float shift[OUTPUTS], sum[OUTPUTS], sum_squares[OUTPUTS];
  [[unroll]] for (uint o = 0; o < OUTPUTS; ++o) shift[o] = 0.0, sum[o] = 0.0, sum_squares[o] = 0.0;
  for (uint tile_c = c_begin; tile_c < c_end; tile_c += GROUPS) {
    vec4 acc[OUTPUTS];
    [[unroll]] for (uint o = 0; o < OUTPUTS; ++o) acc[o] = bias[tile_c];
    // weight_rows[r]: the kernel row output row r uses with the current input row (input_row - r),
    // carried from the iterations before, so each weight is loaded once per channel quad.
    vec4 weight_rows[ROWS][KW];
    [[unroll]] for (uint input_row = 0; input_row < KH + ROWS - 1; ++input_row) {
      [[unroll]] for (uint r = ROWS - 1; r > 0; --r)
        [[unroll]] for (uint kw = 0; kw < KW; ++kw) weight_rows[r][kw] = weight_rows[r - 1][kw];
      if (input_row < KH) {
        [[unroll]] for (uint kw = 0; kw < KW; ++kw)
          weight_rows[0][kw] = texelFetch(w, int((input_row * KW + kw) * p.C4 + tile_c));
      }
      const int ih = int(oh0 * p.SH + input_row) - int(p.PH);
      if (ih < 0 || ih >= int(p.H)) continue;
      const uint row_base = (n * p.H + uint(ih)) * p.W;
      vec4 columns[COLUMNS];
      [[unroll]] for (uint column = 0; column < COLUMNS; ++column) {
        const int iw = int(ow0 * SW + column) - int(p.PW);
        const bool inside = iw >= 0 && iw < int(p.W);
        const int index = inside ? int((row_base + uint(iw)) * p.C4 + tile_c) : 0;
        columns[column] = inside ? texelFetch(x4, index) : vec4(0.0);
      }
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        if (input_row < r || input_row - r >= KH) continue;  // resolved at compile time
        [[unroll]] for (uint kw = 0; kw < KW; ++kw)
          [[unroll]] for (uint i = 0; i < PIXELS; ++i)
            acc[r * PIXELS + i] += columns[i * SW + kw] * weight_rows[r][kw];
      }
    }
    [[unroll]] for (uint o = 0; o < OUTPUTS; ++o) {
      if (tile_c == c_begin) shift[o] = acc[o].x;
      const vec4 d = acc[o] - shift[o];
      sum[o] += d.x + d.y + d.z + d.w;
      sum_squares[o] += dot(d, d);
      const uint oh = oh0 + o / PIXELS, ow = ow0 + o % PIXELS;
      if (oh < p.OH && ow < p.OW) y[((n * p.OH + oh) * p.OW + ow) * p.C4 + tile_c] = acc[o];
    }
  }
  // This group's mean and sum of squared deviations per output (about its own shift: no cancellation).
  const float count = float(4 * quads_of_group(group));
  [[unroll]] for (uint o = 0; o < OUTPUTS; ++o) {
    group_mean[local * OUTPUTS + o] = count > 0.0 ? shift[o] + sum[o] / count : 0.0;
    group_m2[local * OUTPUTS + o] = count > 0.0 ? max(sum_squares[o] - sum[o] * sum[o] / count, 0.0) : 0.0;
  }
  barrier();
  if (!in_range) return;
  [[unroll]] for (uint o = 0; o < OUTPUTS; ++o) {
    const uint oh = oh0 + o / PIXELS, ow = ow0 + o % PIXELS;
    if (oh >= p.OH || ow >= p.OW) continue;
    float mean = 0.0;
    for (uint g = 0; g < GROUPS; ++g)
      mean += float(4 * quads_of_group(g)) * group_mean[(first_local + g) * OUTPUTS + o];
    mean /= float(p.C);
    float m2 = 0.0;
    for (uint g = 0; g < GROUPS; ++g) {
      const float deviation = group_mean[(first_local + g) * OUTPUTS + o] - mean;
      m2 += group_m2[(first_local + g) * OUTPUTS + o] + float(4 * quads_of_group(g)) * deviation * deviation;
    }
    const float inv_std = inversesqrt(m2 / float(p.C) + p.eps);
    if (STATISTICS_ONLY) {
      if (group == 0) pixel_statistics[(n * p.OH + oh) * p.OW + ow] = vec2(mean, inv_std);
      continue;
    }
    const uint base = ((n * p.OH + oh) * p.OW + ow) * p.C4;
    for (uint tile_c = c_begin; tile_c < c_end; tile_c += GROUPS)
      y[base + tile_c] = (y[base + tile_c] - mean) * inv_std * affine[tile_c] + affine[p.C4 + tile_c];
  }
}
