#version 450
// LayerNorm over the last axis of a [rows, C] tensor (channels of an NHWC pixel, or a token).
// One pass: sum and sum of squares together. Both are taken about the row's first element, which
// keeps E[d^2] - E[d]^2 from cancelling catastrophically when |mean| >> std, at no extra pass.
// Biased variance and eps inside the square root, as torch.nn.functional.layer_norm.
// HAS_RESIDUAL adds a residual after the normalisation: Swin v2's post-norm x + LN(f(x)).
//
//   layer_norm:        storage buffers, any C, one channel per step.
//   layer_norm_texel:  input, affine and residual through RGBA32F texel buffers, C a multiple of 4:
//                      four channels per load (loads dominate on lavapipe: LAVAPIPE.md).
// @variant layer_norm_texel -DTEXEL_OPERANDS=1
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"

layout(constant_id = 0) const bool HAS_RESIDUAL = false;

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

layout(push_constant) uniform Params {
  uint rows;
  uint C;
  float eps;
} p;

float total(float v) { return v; }
float total(vec4 v) { return v.x + v.y + v.z + v.w; }
float first(float v) { return v; }
float first(vec4 v) { return v.x; }

void main() {
  const uint row = LINEAR_INVOCATION_ID;
  if (row >= p.rows) return;
  const uint steps = p.C / LANES, base = row * steps;
  const float shift = first(LOAD(x, base));
  float sum = 0.0, sum_squares = 0.0;
  for (uint c = 0; c < steps; ++c) {
    const VALUE d = LOAD(x, base + c) - shift;
    sum += total(d);
    sum_squares += total(d * d);
  }
  const float mean_shifted = sum / float(p.C);
  const float variance = max(sum_squares / float(p.C) - mean_shifted * mean_shifted, 0.0);
  const float inv_std = inversesqrt(variance + p.eps);
  // Centre in the shifted frame too: x - (shift + mean_shifted) would round the mean to fp32 at the
  // magnitude of the data (error u |mean| / std in the output); (x - shift) - mean_shifted only
  // rounds quantities of the size of the row's spread.
  for (uint c = 0; c < steps; ++c) {
    VALUE value = ((LOAD(x, base + c) - shift) - mean_shifted) * inv_std * LOAD(affine, c) + LOAD(affine, steps + c);
    if (HAS_RESIDUAL) value += LOAD(residual, base + c);
    y[base + c] = value;
  }
}
