// Small layer lists with random weights, for testing passes and plans without a checkpoint.
#pragma once
#include <random>

#include "ir/layer_list.h"

namespace vkvision::testing {

inline ir::HostTensor random_tensor(ir::Shape shape, std::mt19937& generator, float low = -0.5f,
                                    float high = 0.5f) {
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(ir::shape_numel(shape));
  for (auto& v : values) v = distribution(generator);
  return ir::HostTensor::from(std::move(shape), std::move(values));
}

// stem conv (NCHW input) -> BatchNorm -> ReLU -> one ConvNeXt-style block (dw 7x7, LN, fc1, GELU, fc2,
// layer scale, residual add) -> mean pool -> LN -> head. Every parameter is non-trivial.
inline ir::LayerList small_network(uint32_t in_channels, int64_t dim, int64_t classes, uint32_t seed) {
  std::mt19937 g(seed);
  using ir::Layer;
  using ir::OpKind;
  ir::LayerList list;
  list.input_channels = in_channels;
  auto conv = Layer{.op = OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "a"};
  conv.params = {{"weight", random_tensor({dim, in_channels, 2, 2}, g)}, {"bias", random_tensor({dim}, g)}};
  conv.kernel_h = conv.kernel_w = conv.stride_h = conv.stride_w = 2;
  conv.input_nchw = true;
  auto bn = Layer{.op = OpKind::BatchNorm, .name = "bn", .inputs = {"a"}, .output = "b"};
  bn.params = {{"weight", random_tensor({dim}, g, 0.5f, 1.5f)},
               {"bias", random_tensor({dim}, g)},
               {"running_mean", random_tensor({dim}, g)},
               {"running_var", random_tensor({dim}, g, 0.5f, 2.0f)}};
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

namespace vkvision::testing {

// One RepVGG training-time block on `input`: 3x3 conv + BN, 1x1 conv + BN and (when `identity`)
// a BN of the input, summed, then ReLU. BatchNorm statistics are random so every fold matters.
inline void add_repvgg_block(ir::LayerList& list, const std::string& input, const std::string& prefix,
                             int64_t in, int64_t out, uint32_t stride, uint32_t groups, bool identity,
                             std::mt19937& g) {
  using ir::Layer;
  using ir::OpKind;
  auto batch_norm = [&](const std::string& name, const std::string& from, int64_t c) {
    Layer bn{.op = OpKind::BatchNorm, .name = name, .inputs = {from}, .output = name};
    bn.params = {{"weight", random_tensor({c}, g, 0.5f, 1.5f)},
                 {"bias", random_tensor({c}, g)},
                 {"running_mean", random_tensor({c}, g)},
                 {"running_var", random_tensor({c}, g, 0.5f, 2.0f)}};
    list.layers.push_back(bn);
  };
  for (uint32_t k : {3u, 1u}) {
    const std::string name = prefix + (k == 3 ? ".dense" : ".1x1");
    Layer conv{.op = OpKind::Conv2d, .name = name + ".conv", .inputs = {input}, .output = name + ".conv"};
    conv.params = {{"weight", random_tensor({out, in / groups, k, k}, g)}};
    conv.kernel_h = conv.kernel_w = k;
    conv.stride_h = conv.stride_w = stride;
    conv.pad_h = conv.pad_w = k / 2;
    conv.groups = groups;
    list.layers.push_back(conv);
    batch_norm(name + ".bn", name + ".conv", out);
  }
  list.layers.push_back(Layer{.op = OpKind::Add,
                              .name = prefix + ".sum",
                              .inputs = {prefix + ".dense.bn", prefix + ".1x1.bn"},
                              .output = prefix + ".sum"});
  std::string sum = prefix + ".sum";
  if (identity) {
    batch_norm(prefix + ".identity", input, in);
    list.layers.push_back(Layer{.op = OpKind::Add,
                                .name = prefix + ".sum2",
                                .inputs = {sum, prefix + ".identity"},
                                .output = prefix + ".sum2"});
    sum = prefix + ".sum2";
  }
  list.layers.push_back(
      Layer{.op = OpKind::Relu, .name = prefix + ".relu", .inputs = {sum}, .output = prefix + ".out"});
}

// stem block (stride 2, no identity) -> identity block -> grouped identity block -> pool -> head.
inline ir::LayerList small_repvgg(uint32_t seed) {
  std::mt19937 g(seed);
  ir::LayerList list;
  list.input_channels =
      8;  // blocks read NHWC, so the first conv here takes an NHWC-shaped input via a 1x1 stem
  ir::Layer stem{.op = ir::OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "stem"};
  stem.params = {{"weight", random_tensor({8, 8, 1, 1}, g)}, {"bias", random_tensor({8}, g)}};
  stem.input_nchw = true;
  list.layers.push_back(stem);
  add_repvgg_block(list, "stem", "b0", 8, 16, 2, 1, false, g);
  add_repvgg_block(list, "b0.out", "b1", 16, 16, 1, 1, true, g);
  add_repvgg_block(list, "b1.out", "b2", 16, 16, 1, 2, true, g);
  list.layers.push_back(
      ir::Layer{.op = ir::OpKind::MeanPool, .name = "pool", .inputs = {"b2.out"}, .output = "pool"});
  ir::Layer head{.op = ir::OpKind::Linear, .name = "head", .inputs = {"pool"}, .output = "logits"};
  head.params = {{"weight", random_tensor({5, 16}, g)}, {"bias", random_tensor({5}, g)}};
  list.layers.push_back(head);
  list.output = "logits";
  return list;
}

}  // namespace vkvision::testing
