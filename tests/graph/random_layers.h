// Small layer lists with random weights, for testing passes and plans without a checkpoint.
#pragma once
#include <random>

#include "graph/layer_list.h"

namespace vkvision::testing {

inline graph::HostTensor random_tensor(graph::Shape shape, std::mt19937& generator, float low = -0.5f, float high = 0.5f) {
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(graph::shape_numel(shape));
  for (auto& v : values) v = distribution(generator);
  return graph::HostTensor::from(std::move(shape), std::move(values));
}

// stem conv (NCHW input) -> BatchNorm -> ReLU -> one ConvNeXt-style block (dw 7x7, LN, fc1, GELU, fc2,
// layer scale, residual add) -> mean pool -> LN -> head. Every parameter is non-trivial.
inline graph::LayerList small_network(uint32_t in_channels, int64_t dim, int64_t classes, uint32_t seed) {
  std::mt19937 g(seed);
  using graph::Layer;
  using graph::OpKind;
  graph::LayerList list;
  list.input_channels = in_channels;
  auto conv = Layer{.op = OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "a"};
  conv.params = {{"weight", random_tensor({dim, in_channels, 2, 2}, g)}, {"bias", random_tensor({dim}, g)}};
  conv.kernel_h = conv.kernel_w = conv.stride_h = conv.stride_w = 2;
  conv.input_nchw = true;
  auto bn = Layer{.op = OpKind::BatchNorm, .name = "bn", .inputs = {"a"}, .output = "b"};
  bn.params = {{"weight", random_tensor({dim}, g, 0.5f, 1.5f)}, {"bias", random_tensor({dim}, g)},
               {"running_mean", random_tensor({dim}, g)}, {"running_var", random_tensor({dim}, g, 0.5f, 2.0f)}};
  auto relu = Layer{.op = OpKind::Relu, .name = "relu", .inputs = {"b"}, .output = "c"};
  auto dw = Layer{.op = OpKind::DepthwiseConv2d, .name = "dw", .inputs = {"c"}, .output = "d"};
  dw.params = {{"weight", random_tensor({dim, 1, 7, 7}, g)}, {"bias", random_tensor({dim}, g)}};
  dw.kernel_h = dw.kernel_w = 7;
  dw.pad_h = dw.pad_w = 3;
  dw.groups = static_cast<uint32_t>(dim);
  auto norm = Layer{.op = OpKind::LayerNorm, .name = "norm", .inputs = {"d"}, .output = "e"};
  norm.params = {{"weight", random_tensor({dim}, g, 0.5f, 1.5f)}, {"bias", random_tensor({dim}, g)}};
  norm.eps = 1e-6f;
  auto fc1 = Layer{.op = OpKind::Linear, .name = "fc1", .inputs = {"e"}, .output = "f"};
  fc1.params = {{"weight", random_tensor({4 * dim, dim}, g)}, {"bias", random_tensor({4 * dim}, g)}};
  auto gelu = Layer{.op = OpKind::Gelu, .name = "gelu", .inputs = {"f"}, .output = "g"};
  auto fc2 = Layer{.op = OpKind::Linear, .name = "fc2", .inputs = {"g"}, .output = "h"};
  fc2.params = {{"weight", random_tensor({dim, 4 * dim}, g)}, {"bias", random_tensor({dim}, g)}};
  auto scale = Layer{.op = OpKind::ChannelAffine, .name = "gamma", .inputs = {"h"}, .output = "i"};
  scale.params = {{"scale", random_tensor({dim}, g, 0.2f, 1.0f)}};
  auto add = Layer{.op = OpKind::Add, .name = "residual", .inputs = {"i", "c"}, .output = "j"};
  auto pool = Layer{.op = OpKind::MeanPool, .name = "pool", .inputs = {"j"}, .output = "k"};
  auto head_norm = Layer{.op = OpKind::LayerNorm, .name = "head.norm", .inputs = {"k"}, .output = "l"};
  head_norm.params = {{"weight", random_tensor({dim}, g, 0.5f, 1.5f)}, {"bias", random_tensor({dim}, g)}};
  auto head = Layer{.op = OpKind::Linear, .name = "head.fc", .inputs = {"l"}, .output = "logits"};
  head.params = {{"weight", random_tensor({classes, dim}, g)}, {"bias", random_tensor({classes}, g)}};
  list.layers = {conv, bn, relu, dw, norm, fc1, gelu, fc2, scale, add, pool, head_norm, head};
  list.output = "logits";
  return list;
}

}  // namespace vkvision::testing
