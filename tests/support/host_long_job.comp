#version 450
// The host's long compute job (tests/support/host_device.h): each invocation runs a chain of
// dependent float operations that no compiler can shorten (float arithmetic is not reassociated).
// llvmpipe ends any loop after 65535 iterations, so the job's length comes from its workgroup count.
layout(local_size_x = 1) in;
layout(push_constant) uniform Push { uint iterations; } push;
layout(binding = 0) buffer Result { float value[]; };

void main() {
  float x = float(gl_GlobalInvocationID.x) + 0.5;
  for (uint i = 0; i < push.iterations; ++i) x = x * 0.9999999 + 1.0;
  if (x == 0.0) value[0] = x;  // never true, but the compiler cannot know: the loop stays
}
