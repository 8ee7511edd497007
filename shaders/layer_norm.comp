#version 450
// LayerNorm over the last axis of a [rows, C] tensor (channels of an NHWC pixel, or a token).
// One pass: sum and sum of squares together. Both are taken about the row's first element, which
// keeps E[d^2] - E[d]^2 from cancelling catastrophically when |mean| >> std, at no extra pass.
// Biased variance and eps inside the square root, as torch.nn.functional.layer_norm.
// HAS_RESIDUAL adds a residual after the normalisation: Swin v2's post-norm x + LN(f(x)).
// GATHER_PATCHES: the rows are Swin PatchMerging's 2x2 gather of an [N, H, W, C/4] map, read in place
// (include/patch_gather.glsl: order and zero padding of odd sizes), so the gather needs no pass of
// its own.
//
//   layer_norm:        storage buffers, any C, one channel per step.
//   layer_norm_texel:  input, affine and residual through RGBA32F texel buffers, C a multiple of 4:
//                      four channels per load (loads dominate on lavapipe: LAVAPIPE.md).
// @variant layer_norm_texel -DTEXEL_OPERANDS=1
#extension GL_GOOGLE_include_directive : require
#include "layer_norm_abi.h"
layout(local_size_x = LAYER_NORM_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "patch_gather.glsl"

layout(constant_id = 0) const bool HAS_RESIDUAL = false;
layout(constant_id = 1) const bool GATHER_PATCHES = false;

#if TEXEL_OPERANDS
layout(binding = 0) uniform samplerBuffer x;
layout(binding = 1) uniform samplerBuffer affine;  // gamma[C] then beta[C]
layout(binding = 2) writeonly buffer Output { vec4 y[]; };
layout(binding = 3) uniform samplerBuffer residual;
#define LOAD(tensor, index) texelFetch(tensor, int(index))
#define VALUE vec4
const uint LANES = 4;
#else
layout(binding = 0) readonly buffer Input { float x_data[]; };
layout(binding = 1) readonly buffer Affine { float affine_data[]; };  // gamma[C] then beta[C]
layout(binding = 2) writeonly buffer Output { float y[]; };
layout(binding = 3) readonly buffer Residual { float residual_data[]; };
#define LOAD(tensor, index) tensor##_data[index]
#define VALUE float
const uint LANES = 1;
#endif

float total(float v) { return v; }
float total(vec4 v) { return v.x + v.y + v.z + v.w; }
float first(float v) { return v; }
float first(vec4 v) { return v.x; }

const uint PARTS = GATHER_PATCHES ? 4 : 1;

// Where part `part` of output row `row` starts in the input, in loads; -1 where the gather reads the
// zero padding of an odd-sized map. Without the gather a row is one part, read where it is written.
int part_start(uint row, uint part, uint part_steps) {
  if (!GATHER_PATCHES) return int(row * part_steps);
  const int source = patch_gather_source(row, part, p.H, p.W);
  return source < 0 ? -1 : source * int(part_steps);
}

VALUE load_input(int start, uint step) {
  if (!GATHER_PATCHES) return LOAD(x, uint(start) + step);
  return start < 0 ? VALUE(0.0) : LOAD(x, uint(start) + step);
}

void main() {
  const uint row = LINEAR_INVOCATION_ID;
  if (row >= p.rows) return;
  const uint steps = p.C / LANES, part_steps = steps / PARTS, base = row * steps;
  int start[PARTS];
  [[unroll]] for (uint part = 0; part < PARTS; ++part) start[part] = part_start(row, part, part_steps);
  const float shift = first(load_input(start[0], 0));  // part 0 is never padding
  float sum = 0.0, sum_squares = 0.0;
  [[unroll]] for (uint part = 0; part < PARTS; ++part) {
    for (uint c = 0; c < part_steps; ++c) {
      const VALUE d = load_input(start[part], c) - shift;
      sum += total(d);
      sum_squares += total(d * d);
    }
  }
  const float mean_shifted = sum / float(p.C);
  const float variance = max(sum_squares / float(p.C) - mean_shifted * mean_shifted, 0.0);
  const float inv_std = inversesqrt(variance + p.eps);
  // Centre in the shifted frame too: x - (shift + mean_shifted) would round the mean to fp32 at the
  // magnitude of the data (error u |mean| / std in the output); (x - shift) - mean_shifted only
  // rounds quantities of the size of the row's spread.
  [[unroll]] for (uint part = 0; part < PARTS; ++part) {
    for (uint c = 0; c < part_steps; ++c) {
      const uint channel = part * part_steps + c;
      VALUE value = ((load_input(start[part], c) - shift) - mean_shifted) * inv_std * LOAD(affine, channel) +
                    LOAD(affine, steps + channel);
      if (HAS_RESIDUAL) value += LOAD(residual, base + channel);
      y[base + channel] = value;
    }
  }
}
