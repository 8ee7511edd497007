#include "graph/passes.h"

#include <algorithm>
#include <cmath>

namespace vkvision::graph {
namespace {

// Removes layer `index`, whose single input is produced by layer `into`: `into` takes over the
// removed layer's output name so every later consumer is unchanged.
void absorb(LayerList& list, size_t into, size_t index) {
  list.layers[into].output = list.layers[index].output;
  list.layers.erase(list.layers.begin() + static_cast<std::ptrdiff_t>(index));
}

bool is_weighted(OpKind op) { return op == OpKind::Linear || op == OpKind::Conv2d || op == OpKind::DepthwiseConv2d; }

// The producer of layer `index`'s first input, when that input feeds nothing else; else -1.
int sole_producer(const LayerList& list, size_t index) {
  const std::string& input = list.layers[index].inputs[0];
  const int producer = list.producer(input);
  if (producer < 0 || list.consumers(input).size() != 1 || input == list.output) return -1;
  return producer;
}

}  // namespace

LayerList batchnorm_to_affine(const LayerList& list) {
  LayerList result = list;
  for (Layer& layer : result.layers) {
    if (layer.op != OpKind::BatchNorm) continue;
    const auto &gamma = layer.param("weight"), &beta = layer.param("bias"), &mean = layer.param("running_mean"),
               &var = layer.param("running_var");
    const int64_t channels = gamma.numel();
    std::vector<float> scale(channels), shift(channels);
    for (int64_t c = 0; c < channels; ++c) {
      scale[c] = static_cast<float>(gamma.values()[c] / std::sqrt(double(var.values()[c]) + layer.eps));
      shift[c] = static_cast<float>(beta.values()[c] - double(mean.values()[c]) * scale[c]);
    }
    layer.op = OpKind::ChannelAffine;
    layer.params = {{"scale", HostTensor::from({channels}, std::move(scale))},
                    {"shift", HostTensor::from({channels}, std::move(shift))}};
  }
  return result;
}

LayerList fold_affine_into_producer(const LayerList& list) {
  LayerList result = list;
  for (size_t i = 0; i < result.layers.size(); ++i) {
    const Layer& affine = result.layers[i];
    if (affine.op != OpKind::ChannelAffine) continue;
    const int p = sole_producer(result, i);
    if (p < 0) continue;
    Layer& producer = result.layers[p];
    if (!is_weighted(producer.op) || producer.activation != ops::Activation::None || producer.residual) continue;
    // y = (W x + b) * s + t  ==  (s W) x + (s b + t): row o of the weight scales by s[o].
    const HostTensor& weight = producer.param("weight");
    const int64_t outputs = weight.shape[0], per_output = weight.numel() / outputs;
    const float* scale = affine.param("scale").values();
    std::vector<float> folded(weight.values(), weight.values() + weight.numel());
    for (int64_t o = 0; o < outputs; ++o)
      for (int64_t k = 0; k < per_output; ++k) folded[o * per_output + k] *= scale[o];
    std::vector<float> bias(outputs, 0.0f);
    if (producer.has_param("bias")) bias.assign(producer.param("bias").values(), producer.param("bias").values() + outputs);
    for (int64_t o = 0; o < outputs; ++o)
      bias[o] = bias[o] * scale[o] + (affine.has_param("shift") ? affine.param("shift").values()[o] : 0.0f);
    producer.params["weight"] = HostTensor::from(weight.shape, std::move(folded));
    producer.params["bias"] = HostTensor::from({outputs}, std::move(bias));
    absorb(result, static_cast<size_t>(p), i);
    --i;
  }
  return result;
}

namespace {

// An identity branch y = x * s + t as a KxK convolution (groups as its partner's): the centre tap of
// output channel o reads input channel o, which is index o % (C / groups) within its group.
Layer affine_as_convolution(const Layer& affine, int64_t channels, uint32_t groups) {
  const int64_t per_group = channels / groups;
  std::vector<float> weight(size_t(channels) * per_group, 0.0f);
  const float* scale = affine.param("scale").values();
  for (int64_t o = 0; o < channels; ++o) weight[o * per_group + o % per_group] = scale[o];
  std::vector<float> bias(channels, 0.0f);
  if (affine.has_param("shift")) bias.assign(affine.param("shift").values(), affine.param("shift").values() + channels);
  Layer conv{.op = OpKind::Conv2d, .name = affine.name, .inputs = affine.inputs, .output = affine.output};
  conv.params = {{"weight", HostTensor::from({channels, per_group, 1, 1}, std::move(weight))},
                 {"bias", HostTensor::from({channels}, std::move(bias))}};
  conv.groups = groups;
  return conv;
}

bool plain_convolution(const Layer& layer) {
  return layer.op == OpKind::Conv2d && layer.activation == ops::Activation::None && !layer.residual &&
         layer.kernel_h % 2 == 1 && layer.kernel_w % 2 == 1;
}

// Zero-pads a [O, I, kh, kw] kernel to [O, I, KH, KW], centred.
std::vector<float> centred_kernel(const Layer& conv, uint32_t kh, uint32_t kw) {
  const auto& weight = conv.param("weight");
  const int64_t outer = weight.shape[0] * weight.shape[1];
  const uint32_t dy = (kh - conv.kernel_h) / 2, dx = (kw - conv.kernel_w) / 2;
  std::vector<float> out(size_t(outer) * kh * kw, 0.0f);
  for (int64_t i = 0; i < outer; ++i)
    for (uint32_t y = 0; y < conv.kernel_h; ++y)
      for (uint32_t x = 0; x < conv.kernel_w; ++x)
        out[(size_t(i) * kh + y + dy) * kw + x + dx] = weight.values()[(size_t(i) * conv.kernel_h + y) * conv.kernel_w + x];
  return out;
}

}  // namespace

LayerList merge_parallel_branches(const LayerList& list) {
  LayerList result = list;
  for (size_t i = 0; i < result.layers.size(); ++i) {
    const Layer& add = result.layers[i];
    if (add.op != OpKind::Add) continue;
    const int a = result.producer(add.inputs[0]), b = result.producer(add.inputs[1]);
    if (a < 0 || b < 0 || a == b) continue;
    if (result.consumers(add.inputs[0]).size() != 1 || result.consumers(add.inputs[1]).size() != 1) continue;
    Layer first = result.layers[a], second = result.layers[b];
    if (first.inputs[0] != second.inputs[0]) continue;
    const bool first_conv = plain_convolution(first), second_conv = plain_convolution(second);
    if (!(first_conv || first.op == OpKind::ChannelAffine) || !(second_conv || second.op == OpKind::ChannelAffine)) continue;
    if (!first_conv && !second_conv) continue;
    // Branches reading the network's NCHW input (RepVGG's stem) merge when both are convolutions.
    if (first.input_nchw != second.input_nchw || ((!first_conv || !second_conv) && first.input_nchw)) continue;
    const Layer& conv = first_conv ? first : second;
    const int64_t channels = conv.param("weight").shape[0];
    if (!first_conv) first = affine_as_convolution(first, channels, conv.groups);
    if (!second_conv) second = affine_as_convolution(second, channels, conv.groups);
    // Same stride and groups, and centred alike: (k - 1) / 2 - pad equal in both directions.
    const auto offset = [](uint32_t k, uint32_t pad) { return int(k - 1) / 2 - int(pad); };
    if (first.stride_h != second.stride_h || first.stride_w != second.stride_w || first.groups != second.groups ||
        first.param("weight").shape[0] != second.param("weight").shape[0] ||
        offset(first.kernel_h, first.pad_h) != offset(second.kernel_h, second.pad_h) ||
        offset(first.kernel_w, first.pad_w) != offset(second.kernel_w, second.pad_w))
      continue;
    const uint32_t kh = std::max(first.kernel_h, second.kernel_h), kw = std::max(first.kernel_w, second.kernel_w);
    std::vector<float> weight = centred_kernel(first, kh, kw);
    const std::vector<float> other = centred_kernel(second, kh, kw);
    for (size_t k = 0; k < weight.size(); ++k) weight[k] += other[k];
    std::vector<float> bias(channels, 0.0f);
    for (const Layer* branch : {&first, &second})
      if (branch->has_param("bias"))
        for (int64_t o = 0; o < channels; ++o) bias[o] += branch->param("bias").values()[o];
    Layer merged = first.kernel_h >= second.kernel_h ? first : second;
    merged.name = first.name + "+" + second.name;
    merged.params = {{"weight", HostTensor::from({channels, first.param("weight").shape[1], kh, kw}, std::move(weight))},
                     {"bias", HostTensor::from({channels}, std::move(bias))}};
    merged.kernel_h = kh;
    merged.kernel_w = kw;
    merged.pad_h = uint32_t(int(kh - 1) / 2 - offset(first.kernel_h, first.pad_h));
    merged.pad_w = uint32_t(int(kw - 1) / 2 - offset(first.kernel_w, first.pad_w));
    merged.output = add.output;
    // Replace the later branch's position (both inputs exist there), drop the other and the Add.
    const size_t keep = std::max(a, b), drop = std::min(a, b);
    result.layers[keep] = std::move(merged);
    result.layers.erase(result.layers.begin() + static_cast<std::ptrdiff_t>(i));
    result.layers.erase(result.layers.begin() + static_cast<std::ptrdiff_t>(drop));
    i = static_cast<size_t>(-1);  // rescan: a three-branch block merges again at its second Add
  }
  return result;
}

LayerList fuse_activation(const LayerList& list) {
  LayerList result = list;
  for (size_t i = 0; i < result.layers.size(); ++i) {
    const OpKind op = result.layers[i].op;
    if (op != OpKind::Gelu && op != OpKind::Relu) continue;
    const int p = sole_producer(result, i);
    if (p < 0) continue;
    Layer& producer = result.layers[p];
    if ((producer.op != OpKind::Linear && producer.op != OpKind::Conv2d) ||
        producer.activation != ops::Activation::None || producer.residual)
      continue;
    producer.activation = op == OpKind::Gelu ? ops::Activation::Gelu : ops::Activation::Relu;
    absorb(result, static_cast<size_t>(p), i);
    --i;
  }
  return result;
}

LayerList fuse_residual_add(const LayerList& list) {
  LayerList result = list;
  for (size_t i = 0; i < result.layers.size(); ++i) {
    Layer& add = result.layers[i];
    if (add.op != OpKind::Add) continue;
    for (int side = 0; side < 2; ++side) {
      const std::string& main = add.inputs[side];
      const std::string& skip = add.inputs[1 - side];
      const int p = result.producer(main);
      if (p < 0 || result.consumers(main).size() != 1 || main == result.output) continue;
      Layer& producer = result.layers[p];
      // The skip tensor must exist when the producer runs.
      if (producer.op != OpKind::Linear || producer.residual || result.producer(skip) >= p) continue;
      producer.residual = true;
      producer.inputs.push_back(skip);
      absorb(result, static_cast<size_t>(p), i);
      --i;
      break;
    }
  }
  return result;
}

LayerList fuse_depthwise_layer_norm(const LayerList& list, const std::function<bool(const Layer&)>& supported) {
  LayerList result = list;
  for (size_t i = 0; i < result.layers.size(); ++i) {
    const Layer& norm = result.layers[i];
    if (norm.op != OpKind::LayerNorm || norm.residual) continue;
    const int p = sole_producer(result, i);
    if (p < 0) continue;
    Layer& producer = result.layers[p];
    if (producer.op != OpKind::DepthwiseConv2d || producer.fused_layer_norm || !supported(producer)) continue;
    producer.fused_layer_norm = true;
    producer.eps = norm.eps;
    producer.params["norm_weight"] = norm.param("weight");
    producer.params["norm_bias"] = norm.param("bias");
    producer.name += "+" + norm.name;
    absorb(result, static_cast<size_t>(p), i);
    --i;
  }
  return result;
}

LayerList optimize(const LayerList& list) {
  return fuse_residual_add(fuse_activation(merge_parallel_branches(fold_affine_into_producer(batchnorm_to_affine(list)))));
}

}  // namespace vkvision::graph
