// LayerNorm over the last axis: weight, bias [C], eps. Epilogue: a residual (post-norm blocks). A pass
// may let it read Swin PatchMerging's 2x2 gather of an [N, H, W, C/4] map in place (gather_patches).
// Kernel: ops/layer_norm.h.
#include <optional>

#include "ir/shape_checks.h"
#include "ops/layer_norm.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  ir::Shape out = x;
  if (layer.gather_patches) {
    if (x.size() != 4) ir::shape_error(layer, "gathers patches of [N,H,W,C], got " + ir::shape_string(x));
    out = {x[0], (x[1] + 1) / 2, (x[2] + 1) / 2, 4 * x[3]};
  }
  ir::expect_vector(layer, "weight", out.back());
  ir::expect_vector(layer, "bias", out.back());
  return out;
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  return {pack_layer_norm_affine(parameter_values(layer, "weight"), parameter_values(layer, "bias"))};
}

vk::Dispatch lower(const Lowering& l) {
  const auto channels = static_cast<uint32_t>(l.output.back());
  std::optional<PatchGather> gather;
  if (l.layer.gather_patches)
    gather = PatchGather{uint32_t(l.input[0]), uint32_t(l.input[1]), uint32_t(l.input[2])};
  return layer_norm(l.info, static_cast<uint32_t>(ir::shape_numel(l.output) / channels), channels,
                    l.layer.eps, l.main_input(), l.parameter(0), l.result(), l.residual(), gather);
}

}  // namespace

extern const OpTraits layer_norm_op{
    .kind = ir::OpKind::LayerNorm,
    .name = "layer_norm",
    .epilogues = {.residual = true},
    .infer_shape = infer_shape,
    .attributes = no_attributes,
    .gflop = [](const ir::Layer&, const ir::Shape&,
                const ir::Shape& out) { return 5.0 * ir::shape_numel(out) * 1e-9; },
    .pack = pack,
    .reads_half_weights = no_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
