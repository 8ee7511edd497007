#version 450
// Global average pool: [N, HW, C] (NHWC) -> [N, C]. One invocation per (n, c): neighbouring
// invocations read neighbouring channels.
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
  for (uint i = 0; i < p.HW; ++i) sum += x[(n * p.HW + i) * p.C + c];
  y[id] = sum / float(p.HW);
}
