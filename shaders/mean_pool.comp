#version 450
// Global average pool: [N, HW, C] (NHWC) -> [N, C]. One invocation per (n, c): neighbouring
// invocations read neighbouring channels.
// L2_NORM: each channel's L2 norm over the pixels instead, sqrt(sum x^2) (ConvNeXt V2's GRN, ops/grn.h).
// @variant spatial_l2_norm -DL2_NORM=1
#extension GL_GOOGLE_include_directive : require
#include "mean_pool_abi.h"
layout(local_size_x = MEAN_POOL_LOCAL_SIZE_X) in;
#include "common.glsl"

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) writeonly buffer Output { float y[]; };

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  if (id >= p.N * p.C) return;
  const uint n = id / p.C, c = id % p.C;
  float sum = 0.0;
#if L2_NORM
  for (uint i = 0; i < p.HW; ++i) {
    const float v = x[(n * p.HW + i) * p.C + c];
    sum += v * v;
  }
  y[id] = sqrt(sum);
#else
  for (uint i = 0; i < p.HW; ++i) sum += x[(n * p.HW + i) * p.C + c];
  y[id] = sum / float(p.HW);
#endif
}
