// DepthwiseConv2d: weight [C, 1, KH, KW], bias [C] (optional). A pass may give it the LayerNorm that
// follows it (fused_layer_norm: params norm_weight, norm_bias [C], eps) and leave applying that norm
// to the Linear reading it (emits_statistics). Kernels: ops/depthwise_conv2d.h (depthwise_conv2d,
// depthwise_conv2d_layer_norm).
#include <optional>

#include "ops/depthwise_conv2d.h"
#include "ops/half_weights.h"
#include "ops/layer_norm.h"
#include "ops/layer_shapes.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  const auto& weight = layer.param("weight");
  Conv2dShape shape{.ic = static_cast<uint32_t>(weight.shape[0]),
                    .oc = static_cast<uint32_t>(weight.shape[0]),
                    .kh = layer.kernel_h,
                    .kw = layer.kernel_w};
  PackedParameters packed = {
      pack_depthwise_weight({weight.values(), static_cast<size_t>(weight.numel())}, shape),
      pack_vec4_padded(parameter_values(layer, "bias"), shape.oc)};
  if (layer.fused_layer_norm)
    packed.push_back(
        pack_layer_norm_affine(parameter_values(layer, "norm_weight"), parameter_values(layer, "norm_bias")));
  return packed;
}

bool reads_half_weights(const KernelQuery& q) {
  return half_weights_supported(
      q.info,
      q.layer.fused_layer_norm || depthwise_conv2d_uses_texel_path(q.info, conv2d_shape(q.layer, q.input)));
}

vk::Dispatch lower(const Lowering& l) {
  const ir::Layer& layer = l.layer;
  if (layer.input_nchw) throw Error("internal: depthwise convolution cannot read the NCHW input");
  const Conv2dShape shape = conv2d_shape(layer, l.input);
  if (!layer.fused_layer_norm)
    return depthwise_conv2d(l.info, shape, l.main_input(), l.parameter(0), l.parameter(1), l.result(),
                            l.half_weights);
  return depthwise_conv2d_layer_norm(
      l.info, shape, layer.eps, l.main_input(), l.parameter(0), l.parameter(1), l.parameter(2), l.result(),
      l.half_weights, layer.emits_statistics ? std::optional(l.statistics(layer.output)) : std::nullopt);
}

}  // namespace

extern const OpTraits depthwise_conv2d_op{
    .kind = ir::OpKind::DepthwiseConv2d,
    .name = "depthwise_conv2d",
    .epilogues = {},
    .infer_shape = [](const ir::Layer& layer,
                      std::span<const ir::Shape> in) { return infer_convolution_shape(layer, in[0], true); },
    .attributes = convolution_attributes,
    .gflop = convolution_gflop,
    .pack = pack,
    .reads_half_weights = reads_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
