#extension GL_EXT_control_flow_attributes : require
// Shared by every kernel. Dispatches spread over x and y when x alone would exceed the device
// limit (see groups_for() in src/vk/program.cpp): this recovers the one-dimensional index.
uint linear_invocation_id() {
  return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}
