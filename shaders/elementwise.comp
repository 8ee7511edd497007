#version 450
// The element-wise ops that passes normally fuse away. They stay so that an unfused layer list runs
// (the reference a pass is tested against) and for layers no fusion covers.
//   MODE_GELU:           y = gelu(a)
//   MODE_ADD:            y = a + b
//   MODE_CHANNEL_AFFINE: y = a * b[c] + b[C + c]  (layer scale, inference BatchNorm), c = i % C
//   MODE_CHANNEL_GATE:   y = a * b[n * C + c], n = i / image  (a per-image channel gate, b [N, C])
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"
#include "activation.glsl"

const int MODE_GELU = 0;
const int MODE_ADD = 1;
const int MODE_CHANNEL_AFFINE = 2;
const int MODE_RELU = 3;
const int MODE_CHANNEL_GATE = 4;
layout(constant_id = 0) const int MODE = MODE_GELU;

layout(binding = 0) readonly buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
layout(binding = 2) writeonly buffer Output { float y[]; };

layout(push_constant) uniform Params {
  uint count;
  uint C;
  uint image;  // elements per image (MODE_CHANNEL_GATE)
} p;

void main() {
  const uint i = LINEAR_INVOCATION_ID;
  if (i >= p.count) return;
  const float value = a[i];
  if (MODE == MODE_GELU) y[i] = gelu(value);
  else if (MODE == MODE_ADD) y[i] = value + b[i];
  else if (MODE == MODE_CHANNEL_AFFINE) y[i] = value * b[i % p.C] + b[p.C + i % p.C];
  else if (MODE == MODE_CHANNEL_GATE) y[i] = value * b[(i / p.image) * p.C + i % p.C];
  else y[i] = max(value, 0.0);
}
