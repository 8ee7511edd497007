#version 450
// What this device's sRGB decode returns for each byte: texelFetch of a 256 x 1 sRGB image holding
// bytes 0..255 in every colour component. image_resample_horizontal.comp inverts the decode with
// this table, so it recovers the stored bytes whatever the decode's implementation-defined precision.
#extension GL_GOOGLE_include_directive : require
#include "image_resample_abi.h"
layout(local_size_x = IMAGE_RESAMPLE_LOCAL_SIZE_X) in;
#include "common.glsl"

layout(binding = IMAGE_BINDING_SOURCE) uniform sampler2D source;
layout(binding = IMAGE_BINDING_SRGB_DECODE) writeonly buffer SrgbDecode { float srgb_decode[]; };

void main() {
  const uint id = LINEAR_INVOCATION_ID;
  if (id >= 256u) return;
  const vec4 texel = texelFetch(source, ivec2(id, 0), 0);
  const uint base = (p.srgb_table * 256u + id) * 4u;
  for (uint c = 0u; c < 4u; ++c) srgb_decode[base + c] = texel[c];
}
