#version 450
// Swin PatchMerging's gather as a pass of its own (order and padding: include/patch_gather.glsl),
// for a gather the graph passes could not move into the kernel that reads it.
#extension GL_GOOGLE_include_directive : require
#include "patch_merge_gather_abi.h"
layout(local_size_x = PATCH_MERGE_GATHER_LOCAL_SIZE_X) in;
#include "common.glsl"
#include "patch_gather.glsl"

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) writeonly buffer Output { float y[]; };

void main() {
  const uint OH = (p.H + 1) / 2, OW = (p.W + 1) / 2, OC = 4 * p.C;
  const uint id = LINEAR_INVOCATION_ID;
  if (id >= p.N * OH * OW * OC) return;
  const uint oc = id % OC, pixel = id / OC;
  const int source = patch_gather_source(pixel, oc / p.C, p.H, p.W);
  y[id] = source >= 0 ? x[uint(source) * p.C + oc % p.C] : 0.0;
}
