#version 450
// TEST ONLY: grn_scale.comp with an off-by-one in the channel count of its mean (C + 1), the kind of
// slip a miscompiling driver or a bad edit makes. tests/selftest checks that `vkvision selftest`
// reports it as a failed Grn check on its path. Not embedded in the library.
// ConvNeXt V2's Global Response Normalisation as a per-image, per-channel scale (ops/grn.h):
//   s[n, c] = 1 + gamma[c] * G[n, c] / (mean_c G[n, c] + eps)
// from G = each channel's L2 norm over the pixels (mean_pool.comp's spatial_l2_norm). GRN(x) is then
// x * s + beta, which the Linear after it applies to its input (gemm.comp INPUT_SCALE). One workgroup
// per image: the channel mean is a workgroup reduction, and the map itself is never read here.
#extension GL_GOOGLE_include_directive : require
#include "grn_scale_abi.h"
layout(local_size_x = GRN_SCALE_LOCAL_SIZE_X) in;
#include "common.glsl"

layout(binding = 0) readonly buffer Norms { float norms[]; };  // G [N, C]
layout(binding = 1) readonly buffer Gamma { float gamma[]; };  // [C]
layout(binding = 2) writeonly buffer Scale { float scale[]; };  // s [N, C]

shared float partial[GRN_SCALE_LOCAL_SIZE_X];

void main() {
  const uint n = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (n >= p.N) return;  // uniform per workgroup: no barrier is skipped by only some invocations
  const uint t = gl_LocalInvocationID.x, row = n * p.C;
  float sum = 0.0;
  for (uint c = t; c < p.C; c += GRN_SCALE_LOCAL_SIZE_X) sum += norms[row + c];
  partial[t] = sum;
  barrier();
  for (uint half_size = GRN_SCALE_LOCAL_SIZE_X / 2; half_size > 0; half_size /= 2) {
    if (t < half_size) partial[t] += partial[t + half_size];
    barrier();
  }
  const float inverse = 1.0 / (partial[0] / float(p.C + 1) + p.eps);
  for (uint c = t; c < p.C; c += GRN_SCALE_LOCAL_SIZE_X)
    scale[row + c] = 1.0 + gamma[c] * norms[row + c] * inverse;
}
