// Conv2d: weight [OC, IC/groups, KH, KW], bias [OC] (optional); stride, padding, groups, ceil mode;
// reads the network's NCHW input when input_nchw. Epilogue: an activation. Kernel: ops/conv2d.h.
#include "ops/conv2d.h"
#include "ops/half_weights.h"
#include "ops/layer_shapes.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  const auto& weight = layer.param("weight");
  Conv2dShape shape{.ic = static_cast<uint32_t>(weight.shape[1] * layer.groups),
                    .oc = static_cast<uint32_t>(weight.shape[0]),
                    .kh = layer.kernel_h,
                    .kw = layer.kernel_w,
                    .groups = layer.groups};
  return {pack_conv2d_weight({weight.values(), static_cast<size_t>(weight.numel())}, shape),
          pack_vec4_padded(parameter_values(layer, "bias"), shape.oc)};
}

bool reads_half_weights(const KernelQuery& q) {
  return half_weights_supported(q.info, conv2d_uses_texel_path(q.info, conv2d_shape(q.layer, q.input)));
}

vk::Dispatch lower(const Lowering& l) {
  return conv2d(l.info, conv2d_shape(l.layer, l.input), l.layer.activation, l.main_input(), l.parameter(0),
                l.parameter(1), l.result(), l.half_weights);
}

}  // namespace

extern const OpTraits conv2d_op{
    .kind = ir::OpKind::Conv2d,
    .name = "conv2d",
    .epilogues = {.activation = true},
    .infer_shape = [](const ir::Layer& layer,
                      std::span<const ir::Shape> in) { return infer_convolution_shape(layer, in[0], false); },
    .attributes = convolution_attributes,
    .gflop = convolution_gflop,
    .pack = pack,
    .reads_half_weights = reads_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
