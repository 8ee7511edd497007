// SpatialMlp (Swin-MLP): token mixing within each (shifted) window, per head: weight [heads, T, T],
// bias [heads, T], T = window^2. Kernel: ops/spatial_mlp.h.
#include "ir/shape_checks.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "ops/spatial_mlp.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  ir::expect_feature_map(layer, x);
  const int64_t t = int64_t(layer.window) * layer.window;
  if (layer.heads == 0 || x.back() % layer.heads != 0)
    ir::shape_error(
        layer, std::to_string(layer.heads) + " heads do not divide the width " + std::to_string(x.back()));
  ir::expect_param_shape(layer, "weight", {layer.heads, t, t});
  ir::expect_param_shape(layer, "bias", {layer.heads, t});
  return x;
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  const std::span<const float> weight = parameter_values(layer, "weight"),
                               bias = parameter_values(layer, "bias");
  return {std::vector<float>(weight.begin(), weight.end()), std::vector<float>(bias.begin(), bias.end())};
}

vk::Dispatch lower(const Lowering& l) {
  const SpatialMlpShape shape{.n = uint32_t(l.input[0]),
                              .h = uint32_t(l.input[1]),
                              .w = uint32_t(l.input[2]),
                              .c = uint32_t(l.input[3]),
                              .heads = l.layer.heads,
                              .window = l.layer.window,
                              .shift = l.layer.shift};
  return spatial_mlp(l.info, shape, l.main_input(), l.parameter(0), l.parameter(1), l.result());
}

}  // namespace

extern const OpTraits spatial_mlp_op{
    .kind = ir::OpKind::SpatialMlp,
    .name = "spatial_mlp",
    .epilogues = {},
    .infer_shape = infer_shape,
    .attributes =
        [](const ir::Layer& layer) {
          return " window " + std::to_string(layer.window) + " shift " + std::to_string(layer.shift) +
                 " heads " + std::to_string(layer.heads) + (layer.cosine ? " cosine" : "");
        },
    .gflop =
        [](const ir::Layer& layer, const ir::Shape&, const ir::Shape& out) {
          return 2.0 * double(layer.window) * layer.window * double(ir::shape_numel(out)) * 1e-9;
        },
    .pack = pack,
    .reads_half_weights = no_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
