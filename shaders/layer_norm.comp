#version 450
// LayerNorm over the last axis of a [rows, C] tensor (channels of an NHWC pixel, or a token).
// One pass: sum and sum of squares together. Both are taken about the row's first element, which
// keeps E[d^2] - E[d]^2 from cancelling catastrophically when |mean| >> std, at no extra pass.
// Biased variance and eps inside the square root, as torch.nn.functional.layer_norm.
// HAS_RESIDUAL adds a residual after the normalisation: Swin v2's post-norm x + LN(f(x)).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"

layout(constant_id = 0) const bool HAS_RESIDUAL = false;

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) readonly buffer Affine { float affine[]; };  // gamma[C] then beta[C]
layout(binding = 2) writeonly buffer Output { float y[]; };
layout(binding = 3) readonly buffer Residual { float residual[]; };

layout(push_constant) uniform Params {
  uint rows;
  uint C;
  float eps;
} p;

void main() {
  const uint row = LINEAR_INVOCATION_ID;
  if (row >= p.rows) return;
  const uint base = row * p.C;
  const float shift = x[base];
  float sum = 0.0, sum_squares = 0.0;
  for (uint c = 0; c < p.C; ++c) {
    float d = x[base + c] - shift;
    sum += d;
    sum_squares += d * d;
  }
  const float mean_shifted = sum / float(p.C);
  const float variance = max(sum_squares / float(p.C) - mean_shifted * mean_shifted, 0.0);
  const float inv_std = inversesqrt(variance + p.eps);
  // Centre in the shifted frame too: x - (shift + mean_shifted) would round the mean to fp32 at the
  // magnitude of the data (error u |mean| / std in the output); (x - shift) - mean_shifted only
  // rounds quantities of the size of the row's spread.
  for (uint c = 0; c < p.C; ++c) {
    float value = ((x[base + c] - shift) - mean_shifted) * inv_std * affine[c] + affine[p.C + c];
    if (HAS_RESIDUAL) value += residual[base + c];
    y[base + c] = value;
  }
}
