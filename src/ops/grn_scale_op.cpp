// GrnScale: L2 norms G [N, C] (SpatialL2Norm) -> s [N, C] = 1 + gamma * G / (mean_c G + eps), param
// gamma [C]: ConvNeXt V2's GRN as a per-image channel scale, x * s + beta (ops/grn.h).
#include <string>

#include "ir/shape_checks.h"
#include "ops/grn.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  if (in[0].size() != 2)
    ir::shape_error(layer, "expects per-image channel norms [N, C], got " + ir::shape_string(in[0]));
  ir::expect_vector(layer, "gamma", in[0][1]);
  return in[0];
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  const std::span<const float> gamma = parameter_values(layer, "gamma");
  return {std::vector<float>(gamma.begin(), gamma.end())};
}

vk::Dispatch lower(const Lowering& l) {
  return grn_scale(l.info, uint32_t(l.input[0]), uint32_t(l.input[1]), l.layer.eps, l.main_input(),
                   l.parameter(0), l.result());
}

}  // namespace

extern const OpTraits grn_scale_op{
    .kind = ir::OpKind::GrnScale,
    .name = "grn_scale",
    .epilogues = {},
    .infer_shape = infer_shape,
    .attributes = [](const ir::Layer& layer) { return " eps " + std::to_string(layer.eps); },
    .gflop = per_output_gflop,
    .pack = pack,
    .reads_half_weights = no_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
