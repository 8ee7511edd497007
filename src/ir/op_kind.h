// Every op the IR knows, listed once: the OpKind enum, the ops' names and the op table
// (ops/op_table.cpp) all expand this list, so an op is added here and nowhere else in the IR. What an
// op computes, which parameters it takes and how it runs is in its traits file, src/ops/<name>_op.cpp.
#pragma once
#include <cstddef>

namespace vkvision::ir {

// X(enumerator, name): the name is the op's snake_case spelling, its traits file's stem and the
// symbol of its traits (ops::<name>_op).
#define VKVISION_OP_KINDS(X)                 \
  X(Conv2d, conv2d)                          \
  X(DepthwiseConv2d, depthwise_conv2d)       \
  X(Linear, linear)                          \
  X(LayerNorm, layer_norm)                   \
  X(BatchNorm, batch_norm)                   \
  X(ChannelAffine, channel_affine)           \
  X(MeanPool, mean_pool)                     \
  X(Gelu, gelu)                              \
  X(Relu, relu)                              \
  X(Add, add)                                \
  X(WindowAttention, window_attention)       \
  X(PatchMergeGather, patch_merge_gather)    \
  X(SpatialMlp, spatial_mlp)                 \
  X(InceptionDepthwise, inception_depthwise) \
  X(PartitionLinear, partition_linear)       \
  X(PartitionConv, partition_conv)           \
  X(ChannelGate, channel_gate)               \
  X(SpatialL2Norm, spatial_l2_norm)          \
  X(GrnScale, grn_scale)                     \
  X(TokenLinear, token_linear)               \
  X(Multiply, multiply)

enum class OpKind {
#define VKVISION_OP_ENUMERATOR(kind, name) kind,
  VKVISION_OP_KINDS(VKVISION_OP_ENUMERATOR)
#undef VKVISION_OP_ENUMERATOR
};

inline constexpr size_t kOpKindCount = 0
#define VKVISION_OP_COUNT(kind, name) +1
    VKVISION_OP_KINDS(VKVISION_OP_COUNT)
#undef VKVISION_OP_COUNT
    ;

constexpr const char* op_name(OpKind op) {
  switch (op) {
#define VKVISION_OP_NAME(kind, name) \
  case OpKind::kind: return #name;
    VKVISION_OP_KINDS(VKVISION_OP_NAME)
#undef VKVISION_OP_NAME
  }
  return "?";
}

}  // namespace vkvision::ir
