// Rewrites of a layer list that keep its result and make it cheaper to run. Each returns a new
// list; weights are shared with the input list where a pass does not change them.
#pragma once
#include <functional>

#include "graph/layer_list.h"

namespace vkvision::graph {

// Inference BatchNorm -> ChannelAffine with scale = weight / sqrt(var + eps), shift = bias - mean * scale.
LayerList batchnorm_to_affine(const LayerList& list);

// A ChannelAffine (layer scale, folded BatchNorm) whose input comes only from a Linear or a
// (depthwise) convolution without a fused epilogue is folded into that layer's weight and bias.
LayerList fold_affine_into_producer(const LayerList& list);

// Structural re-parameterisation (RepVGG): Add(branch_a, branch_b) where both branches read the same
// tensor and each is a convolution without epilogue (any odd kernel, the same stride, groups and
// centre) or a ChannelAffine (an identity branch's folded BatchNorm), becomes one convolution whose
// kernel is the sum of the branches' kernels zero-padded to the largest. Repeats until none is left.
LayerList merge_parallel_branches(const LayerList& list);

// GELU / ReLU after a Linear or Conv2d that feeds only it becomes the producer's epilogue.
LayerList fuse_activation(const LayerList& list);

// Add(linear_out, skip) where linear_out feeds only the Add becomes the Linear's residual epilogue.
LayerList fuse_residual_add(const LayerList& list);

// LayerNorm right after a depthwise convolution that feeds only it moves into the convolution's
// epilogue, where `supported(channels)` says the device has the fused kernel. Device-dependent, so
// the plan applies it, not optimize().
LayerList fuse_depthwise_layer_norm(const LayerList& list, const std::function<bool(const Layer&)>& supported);

// All of the above, in an order where each enables the next.
LayerList optimize(const LayerList& list);

}  // namespace vkvision::graph
