#extension GL_EXT_control_flow_attributes : require
// Shared by every kernel. Dispatches spread over x and y when x alone would exceed the device
// limit (see groups_for() in src/vk/program.cpp): this recovers the one-dimensional index. A macro,
// not a function, so gl_WorkGroupSize is read where it is used, after the shader's local_size
// declaration (glslang folds it to 1 in code that precedes the declaration).
#define LINEAR_INVOCATION_ID \
  (gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x)
