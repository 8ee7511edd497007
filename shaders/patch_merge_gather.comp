#version 450
// Swin PatchMerging's gather: [N, H, W, C] -> [N, ceil(H/2), ceil(W/2), 4C], concatenating the
// 2x2 neighbours in the reference order x0 = (0::2, 0::2), x1 = (1::2, 0::2), x2 = (0::2, 1::2),
// x3 = (1::2, 1::2). Odd sizes are zero-padded at the bottom/right first, as torchvision does.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"

layout(binding = 0) readonly buffer Input { float x[]; };
layout(binding = 1) writeonly buffer Output { float y[]; };

layout(push_constant) uniform Params {
  uint N, H, W, C;
} p;

void main() {
  const uint OH = (p.H + 1) / 2, OW = (p.W + 1) / 2, OC = 4 * p.C;
  const uint id = LINEAR_INVOCATION_ID;
  if (id >= p.N * OH * OW * OC) return;
  const uint oc = id % OC, pixel = id / OC;
  const uint ow = pixel % OW, oh = (pixel / OW) % OH, n = pixel / (OW * OH);
  const uint part = oc / p.C, c = oc % p.C;
  const uint h = 2 * oh + (part & 1u), w = 2 * ow + (part >> 1);
  y[id] = (h < p.H && w < p.W) ? x[((n * p.H + h) * p.W + w) * p.C + c] : 0.0;
}
