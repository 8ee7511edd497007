#include "ir/passes.h"

#include <algorithm>
#include <cmath>

#include "ir/rewrite.h"

namespace vkvision::ir {
namespace {

bool is_weighted(OpKind op) {
  return op == OpKind::Linear || op == OpKind::Conv2d || op == OpKind::DepthwiseConv2d;
}

bool all_zero(const HostTensor& tensor) {
  return std::all_of(tensor.values(), tensor.values() + tensor.numel(), [](float v) { return v == 0.0f; });
}

// A partition layer keeps one kernel per shareset, so an affine after it folds only when it is the
// same on every channel of a shareset: scale[c] == scale[c % S] (RepMLP's fc3_bn and repconv BNs are
// BatchNorms over the S sharesets, which the builder tiles to C). (W x + b) s + t: the rows of
// shareset k scale by s[k], its biases become b s[k] + t[k].
bool fold_into_sharesets(Layer& layer, const Layer& affine) {
  if (layer.gate || layer.residual || layer.groups == 0) return false;
  const int64_t sharesets = layer.groups, channels = affine.param("scale").numel();
  const float* scale = affine.param("scale").values();
  const float* shift = affine.has_param("shift") ? affine.param("shift").values() : nullptr;
  if (channels % sharesets != 0) return false;
  for (int64_t c = sharesets; c < channels; ++c)
    if (scale[c] != scale[c % sharesets] || (shift && shift[c] != shift[c % sharesets])) return false;
  const HostTensor& weight = layer.param("weight");
  // Bias entries per shareset: one per patch position for the FC, one for the conv.
  const int64_t biases =
      layer.op == OpKind::PartitionLinear ? int64_t(layer.partition_h) * layer.partition_w : 1;
  const int64_t per_bias = weight.numel() / (sharesets * biases);
  std::vector<float> folded(weight.values(), weight.values() + weight.numel());
  std::vector<float> bias(sharesets * biases, 0.0f);
  if (layer.has_param("bias"))
    bias.assign(layer.param("bias").values(), layer.param("bias").values() + bias.size());
  for (int64_t row = 0; row < sharesets * biases; ++row) {
    const int64_t k = row / biases;
    for (int64_t e = 0; e < per_bias; ++e) folded[row * per_bias + e] *= scale[k];
    bias[row] = bias[row] * scale[k] + (shift ? shift[k] : 0.0f);
  }
  layer.params["weight"] = HostTensor::from(weight.shape, std::move(folded));
  layer.params["bias"] = HostTensor::from({sharesets * biases}, std::move(bias));
  return true;
}

// W (x s + t) + b == (W s) x + (b + W t) for a per-channel affine (s, t; shift may be null) applied
// to a layer's input: weight [O, I/groups, kh, kw] (a Linear is [O, I]) scales by s of the input
// channel each entry reads; its bias gains the taps' sum of W t. False, leaving the layer as it was,
// where `channels` does not fit the weight's grouping.
bool fold_input_affine(Layer& consumer, const float* scale, const float* shift, int64_t channels) {
  const HostTensor& weight = consumer.param("weight");
  const int64_t outputs = weight.shape[0], per_group = weight.shape[1];
  if (outputs == 0 || per_group == 0 || channels % per_group != 0 || outputs % (channels / per_group) != 0)
    return false;
  const int64_t taps = weight.numel() / (outputs * per_group),
                outputs_per_group = outputs / (channels / per_group);
  std::vector<float> folded(weight.values(), weight.values() + weight.numel());
  weight.release_file_pages();  // the copy replaces it
  std::vector<float> bias(outputs, 0.0f);
  if (consumer.has_param("bias"))
    bias.assign(consumer.param("bias").values(), consumer.param("bias").values() + outputs);
  for (int64_t o = 0; o < outputs; ++o) {
    double shifted = 0;
    for (int64_t k = 0; k < per_group; ++k) {
      const int64_t channel = (o / outputs_per_group) * per_group + k;
      for (int64_t t = 0; t < taps; ++t) {
        float& w = folded[(o * per_group + k) * taps + t];
        if (shift) shifted += double(w) * shift[channel];
        w *= scale[channel];
      }
    }
    bias[o] = static_cast<float>(bias[o] + shifted);
  }
  consumer.params["weight"] = HostTensor::from(weight.shape, std::move(folded));
  consumer.params["bias"] = HostTensor::from({outputs}, std::move(bias));
  return true;
}

// A LayerNorm's affine (gamma, beta) moved into the Linear that reads the normalised rows.
bool fold_norm_affine(Layer& linear, const HostTensor& gamma, const HostTensor& beta) {
  return gamma.numel() == linear.param("weight").shape[1] &&
         fold_input_affine(linear, gamma.values(), beta.values(), gamma.numel());
}

}  // namespace

LayerList batchnorm_to_affine(const LayerList& list) {
  LayerList result = list;
  for (Layer& layer : result.layers) {
    if (layer.op != OpKind::BatchNorm) continue;
    const auto &gamma = layer.param("weight"), &beta = layer.param("bias"),
               &mean = layer.param("running_mean"), &var = layer.param("running_var");
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
  return rewrite_each(list, OpKind::ChannelAffine, [](LayerList& result, size_t i) -> Resume {
    const Layer& affine = result.layers[i];
    const int p = sole_producer(result, i);
    if (p < 0) return std::nullopt;
    Layer& producer = result.layers[p];
    if (producer.op == OpKind::PartitionLinear || producer.op == OpKind::PartitionConv) {
      if (!fold_into_sharesets(producer, affine)) return std::nullopt;
      absorb(result, static_cast<size_t>(p), i);
      return i;
    }
    if (producer.op == OpKind::TokenLinear) {
      // A per-channel scale after the activation is the TokenLinear's output scale (ResMLP's layer
      // scale); a shift has no place there (the gate and residual follow the scale).
      if (producer.has_param("output_scale") || producer.gate || producer.residual ||
          (affine.has_param("shift") && !all_zero(affine.param("shift"))))
        return std::nullopt;
      producer.params["output_scale"] = affine.param("scale");
      absorb(result, static_cast<size_t>(p), i);
      return i;
    }
    if (!is_weighted(producer.op) || producer.activation != ops::Activation::None || producer.residual)
      return std::nullopt;
    // y = (W x + b) * s + t  ==  (s W) x + (s b + t): row o of the weight scales by s[o].
    const HostTensor& weight = producer.param("weight");
    const int64_t outputs = weight.shape[0], per_output = weight.numel() / outputs;
    const float* scale = affine.param("scale").values();
    std::vector<float> folded(weight.values(), weight.values() + weight.numel());
    weight.release_file_pages();  // the copy replaces it
    for (int64_t o = 0; o < outputs; ++o)
      for (int64_t k = 0; k < per_output; ++k) folded[o * per_output + k] *= scale[o];
    std::vector<float> bias(outputs, 0.0f);
    if (producer.has_param("bias"))
      bias.assign(producer.param("bias").values(), producer.param("bias").values() + outputs);
    for (int64_t o = 0; o < outputs; ++o)
      bias[o] = bias[o] * scale[o] + (affine.has_param("shift") ? affine.param("shift").values()[o] : 0.0f);
    producer.params["weight"] = HostTensor::from(weight.shape, std::move(folded));
    producer.params["bias"] = HostTensor::from({outputs}, std::move(bias));
    absorb(result, static_cast<size_t>(p), i);
    return i;
  });
}

LayerList fold_affine_into_consumer(const LayerList& list) {
  return rewrite_each(list, OpKind::ChannelAffine, [](LayerList& result, size_t i) -> Resume {
    const Layer& affine = result.layers[i];
    const int reader = sole_reader(result, affine.output);
    if (reader < 0) return std::nullopt;
    Layer& consumer = result.layers[reader];
    if (!is_weighted(consumer.op) || consumer.input_nchw || consumer.input_scale ||
        !reads_only_as_main_input(consumer, affine.output) || consumer.fused_layer_norm)
      return std::nullopt;
    if (consumer.op != OpKind::Linear && (consumer.pad_h != 0 || consumer.pad_w != 0 || consumer.ceil_mode))
      return std::nullopt;
    const float* shift = affine.has_param("shift") ? affine.param("shift").values() : nullptr;
    if (!fold_input_affine(consumer, affine.param("scale").values(), shift, affine.param("scale").numel()))
      return std::nullopt;
    consumer.inputs[0] = affine.inputs[0];
    erase_layer(result, i);
    return i;
  });
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
  if (affine.has_param("shift"))
    bias.assign(affine.param("shift").values(), affine.param("shift").values() + channels);
  Layer conv{.op = OpKind::Conv2d, .name = affine.name, .inputs = affine.inputs, .output = affine.output};
  conv.params = {{"weight", HostTensor::from({channels, per_group, 1, 1}, std::move(weight))},
                 {"bias", HostTensor::from({channels}, std::move(bias))}};
  conv.groups = groups;
  return conv;
}

bool plain_convolution(const Layer& layer) {
  return layer.op == OpKind::Conv2d && layer.activation == ops::Activation::None && !layer.residual &&
         !layer.ceil_mode && layer.kernel_h % 2 == 1 && layer.kernel_w % 2 == 1;
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
        out[(size_t(i) * kh + y + dy) * kw + x + dx] =
            weight.values()[(size_t(i) * conv.kernel_h + y) * conv.kernel_w + x];
  return out;
}

}  // namespace

LayerList merge_parallel_branches(const LayerList& list) {
  return rewrite_each(list, OpKind::Add, [](LayerList& result, size_t i) -> Resume {
    const auto branches = sole_branch_producers(result, i);
    if (!branches) return std::nullopt;
    Layer first = result.layers[branches->first], second = result.layers[branches->second];
    if (first.inputs[0] != second.inputs[0]) return std::nullopt;
    const bool first_conv = plain_convolution(first), second_conv = plain_convolution(second);
    if (!(first_conv || first.op == OpKind::ChannelAffine) ||
        !(second_conv || second.op == OpKind::ChannelAffine))
      return std::nullopt;
    if (!first_conv && !second_conv) return std::nullopt;
    // Branches reading the network's NCHW input (RepVGG's stem) merge when both are convolutions.
    if (first.input_nchw != second.input_nchw || ((!first_conv || !second_conv) && first.input_nchw))
      return std::nullopt;
    const Layer& conv = first_conv ? first : second;
    const int64_t channels = conv.param("weight").shape[0];
    if (!first_conv) first = affine_as_convolution(first, channels, conv.groups);
    if (!second_conv) second = affine_as_convolution(second, channels, conv.groups);
    // Same stride and groups, and centred alike: (k - 1) / 2 - pad equal in both directions.
    const auto offset = [](uint32_t k, uint32_t pad) { return int(k - 1) / 2 - int(pad); };
    if (first.stride_h != second.stride_h || first.stride_w != second.stride_w ||
        first.groups != second.groups || first.param("weight").shape[0] != second.param("weight").shape[0] ||
        offset(first.kernel_h, first.pad_h) != offset(second.kernel_h, second.pad_h) ||
        offset(first.kernel_w, first.pad_w) != offset(second.kernel_w, second.pad_w))
      return std::nullopt;
    const uint32_t kh = std::max(first.kernel_h, second.kernel_h),
                   kw = std::max(first.kernel_w, second.kernel_w);
    std::vector<float> weight = centred_kernel(first, kh, kw);
    const std::vector<float> other = centred_kernel(second, kh, kw);
    for (size_t k = 0; k < weight.size(); ++k) weight[k] += other[k];
    std::vector<float> bias(channels, 0.0f);
    for (const Layer* branch : {&first, &second})
      if (branch->has_param("bias"))
        for (int64_t o = 0; o < channels; ++o) bias[o] += branch->param("bias").values()[o];
    Layer merged = first.kernel_h >= second.kernel_h ? first : second;
    merged.name = first.name + "+" + second.name;
    merged.params = {
        {"weight", HostTensor::from({channels, first.param("weight").shape[1], kh, kw}, std::move(weight))},
        {"bias", HostTensor::from({channels}, std::move(bias))}};
    merged.kernel_h = kh;
    merged.kernel_w = kw;
    merged.pad_h = uint32_t(int(kh - 1) / 2 - offset(first.kernel_h, first.pad_h));
    merged.pad_w = uint32_t(int(kw - 1) / 2 - offset(first.kernel_w, first.pad_w));
    merged.output = result.layers[i].output;
    replace_branches(result, i, branches->first, branches->second, std::move(merged));
    return 0;  // rescan: a three-branch block merges again at its second Add
  });
}

LayerList fuse_activation(const LayerList& list) {
  return rewrite_each(list, {OpKind::Gelu, OpKind::Relu}, [](LayerList& result, size_t i) -> Resume {
    const int p = sole_producer(result, i);
    if (p < 0) return std::nullopt;
    Layer& producer = result.layers[p];
    // A TokenLinear applies its activation before its output scale and gate: only one without them.
    const bool token_linear =
        producer.op == OpKind::TokenLinear && !producer.gate && !producer.has_param("output_scale");
    if ((producer.op != OpKind::Linear && producer.op != OpKind::Conv2d && !token_linear) ||
        producer.activation != ops::Activation::None || producer.residual || producer.gate)
      return std::nullopt;
    producer.activation = result.layers[i].op == OpKind::Gelu ? ops::Activation::Gelu : ops::Activation::Relu;
    absorb(result, static_cast<size_t>(p), i);
    return i;
  });
}

LayerList fuse_multiply_into_linear(const LayerList& list) {
  return rewrite_each(list, OpKind::Multiply, [](LayerList& result, size_t i) -> Resume {
    const Layer& multiply = result.layers[i];
    for (int side = 0; side < 2; ++side) {
      const std::string& other = multiply.inputs[1 - side];
      const int p = sole_producer(result, multiply.inputs[side]);
      if (p < 0) continue;
      Layer& producer = result.layers[p];
      // The other factor must exist when the Linear runs; it goes after any input scale.
      if (producer.op != OpKind::Linear || producer.gate || producer.residual || result.producer(other) >= p)
        continue;
      producer.gate = true;
      producer.inputs.push_back(other);
      absorb(result, static_cast<size_t>(p), i);
      return i;
    }
    return std::nullopt;
  });
}

LayerList fuse_residual_add(const LayerList& list) {
  return rewrite_each(list, OpKind::Add, [](LayerList& result, size_t i) -> Resume {
    const Layer& add = result.layers[i];
    for (int side = 0; side < 2; ++side) {
      const std::string& main = add.inputs[side];
      const std::string& skip = add.inputs[1 - side];
      const int p = sole_producer(result, main);
      if (p < 0) continue;
      Layer& producer = result.layers[p];
      // The skip tensor must exist when the producer runs.
      // The residual is the last input: after a TokenLinear's gate (inputs[1]) where it has one.
      if ((producer.op != OpKind::Linear && producer.op != OpKind::PartitionLinear &&
           producer.op != OpKind::TokenLinear) ||
          producer.residual || result.producer(skip) >= p)
        continue;
      producer.residual = true;
      producer.inputs.push_back(skip);
      absorb(result, static_cast<size_t>(p), i);
      return i;
    }
    return std::nullopt;
  });
}

LayerList fuse_depthwise_layer_norm(const LayerList& list,
                                    const std::function<bool(const Layer&)>& supported) {
  return rewrite_each(list, OpKind::LayerNorm, [&](LayerList& result, size_t i) -> Resume {
    const Layer& norm = result.layers[i];
    if (norm.residual) return std::nullopt;
    const int p = sole_producer(result, i);
    if (p < 0) return std::nullopt;
    Layer& producer = result.layers[p];
    if (producer.op != OpKind::DepthwiseConv2d || producer.fused_layer_norm || !supported(producer))
      return std::nullopt;
    producer.fused_layer_norm = true;
    producer.eps = norm.eps;
    producer.params["norm_weight"] = norm.param("weight");
    producer.params["norm_bias"] = norm.param("bias");
    producer.name += "+" + norm.name;
    absorb(result, static_cast<size_t>(p), i);
    return i;
  });
}

LayerList fold_layer_norm_into_linear(const LayerList& list) {
  return rewrite_each(list, OpKind::LayerNorm, [](LayerList& result, size_t i) -> Resume {
    const Layer& norm = result.layers[i];
    // A gathering norm stays: the tiled GEMM reads its rows in place.
    if (norm.residual || norm.gather_patches) return std::nullopt;
    const int reader = sole_linear_reader(result, norm.output);
    if (reader < 0) return std::nullopt;
    Layer& linear = result.layers[reader];
    if (!fold_norm_affine(linear, norm.param("weight"), norm.param("bias"))) return std::nullopt;
    linear.normalize_input = true;
    linear.eps = norm.eps;
    linear.inputs[0] = norm.inputs[0];
    linear.name = norm.name + "+" + linear.name;
    erase_layer(result, i);
    return i;
  });
}

LayerList defer_layer_norm_to_linear(const LayerList& list) {
  LayerList result = list;
  for (Layer& conv : result.layers) {
    if (conv.op != OpKind::DepthwiseConv2d || !conv.fused_layer_norm || conv.emits_statistics) continue;
    const int reader = sole_linear_reader(result, conv.output);
    if (reader < 0) continue;
    Layer& linear = result.layers[reader];
    if (!fold_norm_affine(linear, conv.param("norm_weight"), conv.param("norm_bias"))) continue;
    linear.normalize_input = true;
    linear.input_statistics = true;
    conv.emits_statistics = true;
  }
  return result;
}

LayerList fuse_attention_projection(const LayerList& list,
                                    const std::function<bool(const Layer&)>& supported) {
  return rewrite_each(list, OpKind::WindowAttention, [&](LayerList& result, size_t i) -> Resume {
    Layer& attention = result.layers[i];
    if (attention.fused_projection) return std::nullopt;
    const int reader = sole_linear_reader(result, attention.output);
    if (reader < 0) return std::nullopt;
    const Layer& proj = result.layers[reader];
    if (proj.activation != ops::Activation::None || !supported(attention)) return std::nullopt;
    const HostTensor& weight = proj.param("weight");
    if (weight.shape.size() != 2 || weight.shape[0] != weight.shape[1]) return std::nullopt;
    attention.fused_projection = true;
    attention.params["proj_weight"] = weight;
    attention.params["proj_bias"] =
        proj.has_param("bias") ? proj.param("bias")
                               : HostTensor::from({weight.shape[0]}, std::vector<float>(weight.shape[0]));
    if (proj.residual) {
      attention.residual = true;
      attention.inputs.push_back(proj.inputs.back());
    }
    attention.name += "+" + proj.name;
    attention.output = proj.output;
    erase_layer(result, static_cast<size_t>(reader));
    return i + 1;  // the reader erased lies after i: the attention, now fused, is not examined again
  });
}

LayerList inject_locality(const LayerList& list) {
  return rewrite_each(list, OpKind::Add, [](LayerList& result, size_t index) -> Resume {
    const auto branches = sole_branch_producers(result, index);
    if (!branches) return std::nullopt;
    const auto [a, b] = *branches;
    const bool a_is_fc = result.layers[a].op == OpKind::PartitionLinear;
    const Layer& fc = result.layers[a_is_fc ? a : b];
    const Layer& conv = result.layers[a_is_fc ? b : a];
    if (fc.op != OpKind::PartitionLinear || conv.op != OpKind::PartitionConv ||
        fc.inputs[0] != conv.inputs[0] || fc.gate || fc.residual || fc.has_param("input_scale") ||
        fc.partition_h != conv.partition_h || fc.partition_w != conv.partition_w || fc.groups != conv.groups)
      return std::nullopt;
    // Output position i = (iy, ix) of a patch reads input position j = (jy, jx) through the tap
    // (jy - iy + pad_h, jx - ix + pad_w) where that lies in the kernel: the FC the reference gets by
    // convolving an identity batch (RepMLPBlock._convert_conv_to_fc).
    const int64_t ph = fc.partition_h, pw = fc.partition_w, hw = ph * pw, sharesets = fc.groups;
    const int kh = int(conv.kernel_h), kw = int(conv.kernel_w), pad_h = int(conv.pad_h),
              pad_w = int(conv.pad_w);
    const float* kernel = conv.param("weight").values();
    std::vector<float> weight(fc.param("weight").values(),
                              fc.param("weight").values() + fc.param("weight").numel());
    std::vector<float> bias(sharesets * hw, 0.0f);
    if (fc.has_param("bias")) bias.assign(fc.param("bias").values(), fc.param("bias").values() + bias.size());
    for (int64_t s = 0; s < sharesets; ++s)
      for (int64_t i = 0; i < hw; ++i) {
        bias[s * hw + i] += conv.has_param("bias") ? conv.param("bias").values()[s] : 0.0f;
        for (int64_t j = 0; j < hw; ++j) {
          const int ky = int(j / pw - i / pw) + pad_h, kx = int(j % pw - i % pw) + pad_w;
          if (ky >= 0 && ky < kh && kx >= 0 && kx < kw)
            weight[(s * hw + i) * hw + j] += kernel[(s * kh + ky) * kw + kx];
        }
      }
    Layer merged = fc;
    merged.name = fc.name + "+" + conv.name;
    merged.params["weight"] = HostTensor::from(fc.param("weight").shape, std::move(weight));
    merged.params["bias"] = HostTensor::from({sharesets * hw}, std::move(bias));
    merged.output = result.layers[index].output;
    replace_branches(result, index, a, b, std::move(merged));
    return 0;  // rescan: the next branch adds to the merged FC
  });
}

LayerList sink_affine_below_mean_pool(const LayerList& list) {
  return rewrite_each(list, OpKind::MeanPool, [](LayerList& result, size_t i) -> Resume {
    const int a = result.producer(result.layers[i].inputs[0]);
    if (a < 0 || result.layers[a].op != OpKind::ChannelAffine) return std::nullopt;
    // mean(x * s + t) == mean(x) * s + t per channel: the pool reads x, a copy of the affine its result.
    Layer moved = result.layers[a];
    Layer& pool = result.layers[i];
    pool.inputs[0] = moved.inputs[0];
    moved.output = pool.output;
    pool.output += ".unscaled";
    moved.inputs = {pool.output};
    result.layers.insert(result.layers.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(moved));
    // On at the copy after the pool, or, the affine (before the pool) gone, at that copy's new place.
    if (!result.consumers(result.layers[a].output).empty()) return i + 1;
    erase_layer(result, static_cast<size_t>(a));
    return i;
  });
}

LayerList fold_affine_into_partition_linear(const LayerList& list) {
  return rewrite_each(list, OpKind::ChannelAffine, [](LayerList& result, size_t i) -> Resume {
    const Layer& affine = result.layers[i];
    if (affine.output == result.output) return std::nullopt;
    const std::vector<size_t> readers = result.consumers(affine.output);
    const bool all_fc = !readers.empty() && std::all_of(readers.begin(), readers.end(), [&](size_t r) {
      const Layer& fc = result.layers[r];
      return (fc.op == OpKind::PartitionLinear || fc.op == OpKind::TokenLinear) &&
             !fc.has_param("input_scale") && !fc.has_param("input_shift") &&
             reads_only_as_main_input(fc, affine.output);
    });
    if (!all_fc) return std::nullopt;
    const int64_t channels = affine.param("scale").numel();
    for (size_t r : readers) {
      Layer& fc = result.layers[r];
      fc.params["input_scale"] = affine.param("scale");
      fc.params["input_shift"] = affine.has_param("shift")
                                     ? affine.param("shift")
                                     : HostTensor::from({channels}, std::vector<float>(channels, 0.0f));
      fc.inputs[0] = affine.inputs[0];
    }
    erase_layer(result, i);
    return i;
  });
}

LayerList fuse_channel_gate(const LayerList& list) {
  return rewrite_each(list, OpKind::ChannelGate, [](LayerList& result, size_t i) -> Resume {
    const Layer& gate = result.layers[i];
    const int p = sole_producer(result, i);
    if (p < 0) return std::nullopt;
    Layer& producer = result.layers[p];
    // The gate vector must exist when the FC runs.
    if (producer.op != OpKind::PartitionLinear || producer.gate || producer.residual ||
        result.producer(gate.inputs[1]) >= p)
      return std::nullopt;
    producer.gate = true;
    producer.inputs.push_back(gate.inputs[1]);
    absorb(result, static_cast<size_t>(p), i);
    return i;
  });
}

LayerList fold_channel_gate_into_linear(const LayerList& list) {
  return rewrite_each(list, OpKind::ChannelGate, [](LayerList& result, size_t i) -> Resume {
    const Layer& gate = result.layers[i];
    const int reader = sole_linear_reader(result, gate.output);
    if (reader < 0) return std::nullopt;
    Layer& linear = result.layers[reader];
    if (linear.input_scale || linear.fused_layer_norm) return std::nullopt;
    linear.input_scale = true;
    linear.inputs[0] = gate.inputs[0];
    linear.inputs.insert(linear.inputs.begin() + 1, gate.inputs[1]);
    linear.name = gate.name + "+" + linear.name;
    erase_layer(result, i);
    return i;
  });
}

LayerList absorb_patch_gather_into_layer_norm(const LayerList& list) {
  return rewrite_each(list, OpKind::LayerNorm, [](LayerList& result, size_t i) -> Resume {
    Layer& norm = result.layers[i];
    if (norm.residual || norm.gather_patches) return std::nullopt;
    const int p = sole_producer(result, i);
    if (p < 0 || result.layers[p].op != OpKind::PatchMergeGather) return std::nullopt;
    const Layer& gather = result.layers[p];
    norm.gather_patches = true;
    norm.inputs[0] = gather.inputs[0];
    norm.name = gather.name + "+" + norm.name;
    erase_layer(result, static_cast<size_t>(p));
    return i;  // the gather before the norm erased: on at the layer after the norm
  });
}

LayerList fold_patch_gather_into_linear(const LayerList& list) {
  return rewrite_each(list, OpKind::PatchMergeGather, [](LayerList& result, size_t i) -> Resume {
    const Layer& gather = result.layers[i];
    const int reader = sole_linear_reader(result, gather.output);
    if (reader < 0 || result.layers[reader].residual) return std::nullopt;
    Layer& linear = result.layers[reader];
    const HostTensor& weight = linear.param("weight");
    const int64_t outputs = weight.shape[0], channels = weight.shape[1] / 4;
    if (weight.shape.size() != 2 || weight.shape[1] != 4 * channels) return std::nullopt;
    // [O, (part, C)] with part = dh + 2 dw (shaders/include/patch_gather.glsl's order) -> [O, C, dh, dw].
    std::vector<float> kernel(weight.numel());
    for (int64_t o = 0; o < outputs; ++o)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t dh = 0; dh < 2; ++dh)
          for (int64_t dw = 0; dw < 2; ++dw)
            kernel[((o * channels + c) * 2 + dh) * 2 + dw] =
                weight.values()[o * 4 * channels + (dh + 2 * dw) * channels + c];
    linear.op = OpKind::Conv2d;
    linear.params["weight"] = HostTensor::from({outputs, channels, 2, 2}, std::move(kernel));
    linear.kernel_h = linear.kernel_w = linear.stride_h = linear.stride_w = 2;
    linear.pad_h = linear.pad_w = 0;
    linear.groups = 1;
    linear.ceil_mode = true;
    linear.inputs[0] = gather.inputs[0];
    linear.name = gather.name + "+" + linear.name;
    erase_layer(result, i);
    return i;
  });
}

PassPipeline optimization_passes() {
  return {
      {"batchnorm_to_affine", batchnorm_to_affine},
      {"fold_affine_into_producer", fold_affine_into_producer},
      // RepMLP: the conv branches join the partition FC, then the BatchNorm before the block moves
      // into the global perceptron's first linear (through its pool) and into the FC.
      {"inject_locality", inject_locality},
      {"sink_affine_below_mean_pool", sink_affine_below_mean_pool},
      {"fold_affine_into_partition_linear", fold_affine_into_partition_linear},
      {"fold_affine_into_consumer", fold_affine_into_consumer},
      {"merge_parallel_branches", merge_parallel_branches},
      {"fuse_activation", fuse_activation},
      {"fuse_multiply_into_linear", fuse_multiply_into_linear},
      {"fuse_channel_gate", fuse_channel_gate},
      {"fold_channel_gate_into_linear", fold_channel_gate_into_linear},
      {"fuse_residual_add", fuse_residual_add},
      {"absorb_patch_gather_into_layer_norm", absorb_patch_gather_into_layer_norm},
      {"fold_patch_gather_into_linear", fold_patch_gather_into_linear},
  };
}

LayerList run_passes(LayerList list, const PassPipeline& passes,
                     const std::function<void(const Pass&, const LayerList&)>& after_each) {
  for (const Pass& pass : passes) {
    list = pass.run(list);
    if (after_each) after_each(pass, list);
  }
  return list;
}

LayerList optimize(const LayerList& list) { return run_passes(list, optimization_passes()); }

}  // namespace vkvision::ir
