// InceptionDepthwise (InceptionNeXt's token mixer): the first C - 3G channels pass through, then G
// channels each of depthwise KxK, 1xB and Bx1 convolutions (stride 1, padding kernel / 2):
// weight_hw [G,1,K,K], weight_w [G,1,1,B], weight_h [G,1,B,1], bias_hw, bias_w, bias_h [G].
// Kernel: ops/inception_depthwise_conv2d.h.
#include "ir/shape_checks.h"
#include "ops/half_weights.h"
#include "ops/inception_depthwise_conv2d.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  ir::expect_feature_map(layer, x);
  const ir::Shape& square = layer.param("weight_hw").shape;
  const ir::Shape& wide = layer.param("weight_w").shape;
  if (square.size() != 4 || wide.size() != 4) ir::shape_error(layer, "branch weights must be 4-D");
  const int64_t g = square[0], k = square[2], b = wide[3];
  if (g <= 0 || 3 * g > x.back())
    ir::shape_error(layer, "three branches of " + std::to_string(g) + " channels do not fit the width " +
                               std::to_string(x.back()));
  if (k % 2 == 0 || b % 2 == 0)
    ir::shape_error(layer, "kernels " + std::to_string(k) + " and " + std::to_string(b) + " must be odd");
  ir::expect_param_shape(layer, "weight_hw", {g, 1, k, k});
  ir::expect_param_shape(layer, "weight_w", {g, 1, 1, b});
  ir::expect_param_shape(layer, "weight_h", {g, 1, b, 1});
  for (const char* role : {"bias_hw", "bias_w", "bias_h"}) ir::expect_vector(layer, role, g);
  return x;
}

double gflop(const ir::Layer& layer, const ir::Shape&, const ir::Shape& output) {
  const auto& square = layer.param("weight_hw").shape;
  const double taps = double(square[2]) * square[3] + 2.0 * layer.param("weight_w").shape[3];
  return 2.0 * double(ir::shape_numel(output)) / double(output.back()) * square[0] * taps * 1e-9;
}

InceptionDepthwiseShape branch_shape(const ir::Layer& layer) {
  const auto &square = layer.param("weight_hw").shape, &wide = layer.param("weight_w").shape;
  return {.branch = uint32_t(square[0]), .square = uint32_t(square[2]), .band = uint32_t(wide[3])};
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  std::vector<float> bias;
  for (const char* role : {"bias_hw", "bias_w", "bias_h"}) {
    const std::span<const float> values = parameter_values(layer, role);
    bias.insert(bias.end(), values.begin(), values.end());
  }
  return {pack_inception_depthwise_weight(parameter_values(layer, "weight_hw"),
                                          parameter_values(layer, "weight_w"),
                                          parameter_values(layer, "weight_h"), branch_shape(layer)),
          bias};
}

vk::Dispatch lower(const Lowering& l) {
  InceptionDepthwiseShape shape = branch_shape(l.layer);
  shape.n = uint32_t(l.input[0]), shape.h = uint32_t(l.input[1]), shape.w = uint32_t(l.input[2]);
  shape.c = uint32_t(l.input[3]);
  return inception_depthwise_conv2d(l.info, shape, l.main_input(), l.parameter(0), l.parameter(1), l.result(),
                                    l.half_weights);
}

}  // namespace

extern const OpTraits inception_depthwise_op{
    .kind = ir::OpKind::InceptionDepthwise,
    .name = "inception_depthwise",
    .epilogues = {},
    .infer_shape = infer_shape,
    .attributes = no_attributes,
    .gflop = gflop,
    .pack = pack,
    .reads_half_weights = [](const KernelQuery& q) { return half_weights_supported(q.info, false); },
    .lower = lower,
};

}  // namespace vkvision::ops
