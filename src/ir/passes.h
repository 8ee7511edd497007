// Rewrites of a layer list that keep its result and make it cheaper to run. Each returns a new
// list; weights are shared with the input list where a pass does not change them.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/layer_list.h"

namespace vkvision::ir {

// Inference BatchNorm -> ChannelAffine with scale = weight / sqrt(var + eps), shift = bias - mean * scale.
LayerList batchnorm_to_affine(const LayerList& list);

// A ChannelAffine (layer scale, folded BatchNorm) whose input comes only from a Linear or a
// (depthwise) convolution without a fused epilogue is folded into that layer's weight and bias; one
// without a shift after a TokenLinear without output scale, gate or residual becomes its output scale.
LayerList fold_affine_into_producer(const LayerList& list);

// A ChannelAffine that is the only input of a Linear or an unpadded (depthwise) convolution is folded
// into that layer's weight and bias (InceptionNeXt's BatchNorm before fc1, BatchNorm before a 2x2/s2
// downsampling conv). Only without padding: a padded tap reads 0, which the affine would have mapped
// to its shift. For affines fold_affine_into_producer leaves (their producer has no weights).
LayerList fold_affine_into_consumer(const LayerList& list);

// Structural re-parameterisation (RepVGG): Add(branch_a, branch_b) where both branches read the same
// tensor and each is a convolution without epilogue (any odd kernel, the same stride, groups and
// centre) or a ChannelAffine (an identity branch's folded BatchNorm), becomes one convolution whose
// kernel is the sum of the branches' kernels zero-padded to the largest. Repeats until none is left.
LayerList merge_parallel_branches(const LayerList& list);

// GELU / ReLU after a Linear or Conv2d that feeds only it becomes the producer's epilogue; after a
// TokenLinear too, where it has neither an output scale nor a gate (they follow its activation).
LayerList fuse_activation(const LayerList& list);

// Add(linear_out, skip) where linear_out feeds only the Add becomes the Linear's (or PartitionLinear's,
// or TokenLinear's) residual epilogue, skip appended as its last input.
LayerList fuse_residual_add(const LayerList& list);

// LayerNorm right after a depthwise convolution that feeds only it moves into the convolution's
// epilogue, where `supported(channels)` says the device has the fused kernel. Device-dependent, so
// the plan applies it, not optimize().
LayerList fuse_depthwise_layer_norm(const LayerList& list,
                                    const std::function<bool(const Layer&)>& supported);

// A LayerNorm read only by a Linear (as its main input) moves into the Linear: its affine folds into
// the weight and bias, and the GEMM normalises each input row with statistics it gathers from the
// values it loads anyway (shaders/gemm_tiled.comp NORMALIZE_ROWS): Swin's norm1 -> qkv and norm2 -> fc1,
// ConvNeXt's norm -> fc1 and head norm -> fc; not a norm that gathers patches, whose rows the GEMM
// would have to gather too. The plan applies it for the GPU-class (tiled) GEMM family only.
LayerList fold_layer_norm_into_linear(const LayerList& list);

// A depthwise conv carrying its LayerNorm (fuse_depthwise_layer_norm) whose only reader is a Linear
// leaves the normalisation to it: the conv writes its raw output and each pixel's (mean, 1/std)
// (emits_statistics), and the Linear, with the norm's affine folded into its weight and bias, applies
// them in its epilogue (input_statistics). Saves the conv kernel its second pass over the output
// (ConvNeXt's dw -> norm -> fc1). The plan applies it for the register family.
LayerList defer_layer_norm_to_linear(const LayerList& list);

// Swin's output projection (a Linear read only from the attention, with or without its residual
// epilogue) moves into the WindowAttention layer, where `supported(attention)` says the device runs the
// fused kernel (shaders/window_attention_projection.comp). Device-dependent: the plan applies it.
LayerList fuse_attention_projection(const LayerList& list,
                                    const std::function<bool(const Layer&)>& supported);

// RepMLP's locality injection (repmlpnet.py locality_injection): Add(partition_fc, partition_conv)
// where both read the same tensor with the same patches and sharesets and neither has an epilogue
// becomes one PartitionLinear whose kernel also applies the conv. Repeats until none is left.
// (BatchNorms after either fold into them first, in fold_affine_into_producer, when they are per
// shareset.)
LayerList inject_locality(const LayerList& list);

// A MeanPool reading a ChannelAffine's output reads its input instead, and a copy of the affine is
// applied to the pooled vector (exact: the mean of x * s + t is mean(x) * s + t), where
// fold_affine_into_consumer can fold it into the Linear after it (RepMLP's head_norm and the global
// perceptron's view of prebn1).
LayerList sink_affine_below_mean_pool(const LayerList& list);

// A ChannelAffine read only by PartitionLinear or TokenLinear layers (as their main input) becomes
// their input affine: W (x s + t) = s W x + t W 1, a per-channel scale and a per-position bias
// (RepMLP's prebn1, ResMLP's Affine norms before the token mix).
LayerList fold_affine_into_partition_linear(const LayerList& list);

// ChannelGate(partition_fc_out, gate) where the FC feeds only the gate becomes the FC's gate epilogue.
LayerList fuse_channel_gate(const LayerList& list);

// ChannelGate(x, s) read only by a Linear as its input becomes the Linear's per-image input scale
// (input_scale): W (x * s) is the product with each image's weight rows scaled (ConvNeXt V2's GRN).
LayerList fold_channel_gate_into_linear(const LayerList& list);

// Multiply(a, b) where a is the output of a Linear read only there and b exists before it: the
// Linear's gate epilogue, act(W x + bias) * b (gMixer's x1 * silu(x2)).
LayerList fuse_multiply_into_linear(const LayerList& list);

// Swin PatchMerging's 2x2 gather read only by its LayerNorm moves into the norm (gather_patches),
// which reads the neighbours in place: no pass that only rearranges memory.
LayerList absorb_patch_gather_into_layer_norm(const LayerList& list);

// Swin PatchMerging's 2x2 gather read only by a Linear (v2, whose norm follows the reduction) becomes,
// with that Linear, one 2x2 stride-2 convolution: weight[o][c][dh][dw] = W[o][(dh + 2 dw) C + c], in
// ceil mode so that odd maps read the zeros the gather pads with. No pass that only rearranges memory.
LayerList fold_patch_gather_into_linear(const LayerList& list);

// A named rewrite, one step of a pipeline that `vkvision inspect` shows pass by pass.
struct Pass {
  std::string name;
  std::function<LayerList(const LayerList&)> run;
};
using PassPipeline = std::vector<Pass>;

// The device-independent passes above, in an order where each enables the next. The executor adds
// the device-dependent ones of its kernel family (exec/kernel_passes.h).
PassPipeline optimization_passes();

// Runs the passes in order; `after_each`, where given, sees each one's result.
LayerList run_passes(LayerList list, const PassPipeline& passes,
                     const std::function<void(const Pass&, const LayerList&)>& after_each = {});

// run_passes(list, optimization_passes()).
LayerList optimize(const LayerList& list);

}  // namespace vkvision::ir
