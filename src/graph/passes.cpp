#include "graph/passes.h"

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
  return fuse_residual_add(fuse_activation(fold_affine_into_producer(batchnorm_to_affine(list))));
}

}  // namespace vkvision::graph
