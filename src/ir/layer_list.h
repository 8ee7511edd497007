// The model as a flat list of layers over named activation tensors: what family builders produce,
// what passes rewrite, and what the plan compiles. Host-only: no Vulkan here.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/op_kind.h"
#include "ops/activation.h"

namespace vkvision::ir {

// Weights in PyTorch's layout, float32, shared between a list and its rewritten copies. `data` owns
// its values, or points into a checkpoint's file mapping and keeps that mapping alive; null once a
// plan has uploaded them and kept only the shape.
struct HostTensor {
  std::vector<int64_t> shape;
  std::shared_ptr<const float> data;
  bool file_backed = false;  // `data` lies in a read-only file mapping

  static HostTensor from(std::vector<int64_t> shape, std::vector<float> values);
  // Values owned by `owner` (e.g. a mapped checkpoint), read in place.
  static HostTensor view(std::vector<int64_t> shape, std::shared_ptr<const void> owner, const float* values);
  int64_t numel() const;
  const float* values() const { return data.get(); }
  // Lets the kernel drop the resident pages of a file-backed view (they are re-read from the file on
  // the next access), so values already copied to the device do not stay in this process's memory.
  void release_file_pages() const;
};

struct Layer {
  OpKind op = OpKind::Linear;
  std::string name;                 // where it came from, e.g. "stages.1.blocks.0.mlp.fc1"
  std::vector<std::string> inputs;  // activation tensor names
  std::string output;
  std::map<std::string, HostTensor> params;

  // Convolution attributes.
  uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, groups = 1;
  bool input_nchw = false;  // reads the network's NCHW input directly
  // Convolution: ceil((in + 2 pad - kernel) / stride) + 1 outputs per axis, the last windows reading
  // zeros past the input's bottom/right edge (Swin's padding of odd maps before PatchMerging).
  bool ceil_mode = false;
  // Normalisation epsilon.
  float eps = 1e-5f;
  // Window attention attributes.
  uint32_t heads = 0, window = 0, shift = 0;
  bool cosine = false;
  // RepMLP partitions (PartitionLinear, PartitionConv): partition_h x partition_w patches; channel c
  // uses shareset c % groups.
  uint32_t partition_h = 0, partition_w = 0;
  // PartitionLinear: the output is multiplied by inputs[1] ([N, C]) before the residual is added.
  // TokenLinear: ... by inputs[1] (the output's shape) after the output scale, before the residual.
  // Linear: ... by the input after x and any input scale (the output's shape), after the activation.
  bool gate = false;
  // TokenLinear: the output grid [N, output_h, output_w, C] of its T_out = output_h * output_w tokens;
  // 0 x 0: the input's grid (T_out == H * W).
  uint32_t output_h = 0, output_w = 0;
  // Epilogue fusions: activation after bias; residual (the last input) added last (Linear, and LayerNorm
  // for post-norm blocks).
  ops::Activation activation = ops::Activation::None;
  bool residual = false;
  // WindowAttention: the output projection (params proj_weight [C, C], proj_bias [C]) and, with
  // `residual`, the residual add run in the attention kernel; set by fuse_attention_projection.
  bool fused_projection = false;
  // Linear: LayerNorm each input row first (eps above; the norm's affine is already in weight and bias),
  // set by fold_layer_norm_into_linear.
  bool normalize_input = false;
  // A depthwise convolution may carry the LayerNorm that follows it (params norm_weight, norm_bias;
  // eps above): set by fuse_depthwise_layer_norm where the device has the fused kernel.
  bool fused_layer_norm = false;
  // ... and leave applying it to the Linear that reads it: the output stays un-normalised, followed in
  // memory by each pixel's (mean, 1/std); set by defer_layer_norm_to_linear.
  bool emits_statistics = false;
  // LayerNorm: the input is an [N, H, W, C/4] map and the norm runs on its PatchMerging 2x2 gather
  // ([N, ceil(H/2), ceil(W/2), C], as OpKind::PatchMergeGather), read in place; set by
  // absorb_patch_gather_into_layer_norm.
  bool gather_patches = false;
  // Linear with normalize_input: the row statistics come from the input's producer (emits_statistics)
  // rather than from the GEMM itself.
  bool input_statistics = false;
  // Linear: inputs[1] ([N, K]) scales each image's input features before the product (ConvNeXt V2's
  // GRN, X * (1 + gamma * N)); set by fold_channel_gate_into_linear.
  bool input_scale = false;

  const HostTensor& param(const std::string& role) const;
  bool has_param(const std::string& role) const { return params.count(role) != 0; }
};

struct LayerList {
  std::string input = "input";  // NCHW float32 [N, C, H, W]
  uint32_t input_channels = 3;
  std::vector<Layer> layers;
  std::string output;  // [N, classes]

  // Layers reading `tensor`, by index.
  std::vector<size_t> consumers(const std::string& tensor) const;
  // Index of the layer producing `tensor`, or -1 for the network input.
  int producer(const std::string& tensor) const;
};

// Activation shapes: NHWC [N, H, W, C] for feature maps, [N, C] after pooling.
using Shape = std::vector<int64_t>;

// HostTensor::release_file_pages for every parameter: once the values have been read (copied by a
// pass, or uploaded).
void release_file_pages(const LayerList& list);

// Shapes of every tensor for a batch and input size. Throws InputError naming the layer when
// parameters and shapes disagree (a checkpoint that does not fit the structure).
std::map<std::string, Shape> infer_shapes(const LayerList& list, uint32_t batch, uint32_t height,
                                          uint32_t width);

int64_t shape_numel(const Shape& shape);
std::string shape_string(const Shape& shape);

// The op with what passes fused into it, e.g. "layer_norm+linear+gelu+residual" (profiles' op column).
std::string fused_op_name(const Layer& layer);

// One line per layer: op, name, inputs -> output, shapes, parameter shapes and fused epilogues.
std::string describe(const LayerList& list, uint32_t batch, uint32_t height, uint32_t width);

}  // namespace vkvision::ir
