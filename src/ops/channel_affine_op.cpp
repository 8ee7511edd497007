// ChannelAffine on the last axis: y = x * scale + shift, scale [C], shift [C] (optional): layer scales
// and converted BatchNorms that no pass could fold. Kernel: ops/elementwise.h.
#include <cstring>

#include "ir/shape_checks.h"
#include "ops/elementwise.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  const auto& scale = layer.param("scale");
  std::vector<float> packed(scale.values(), scale.values() + scale.numel());
  packed.resize(2 * scale.numel(), 0.0f);
  if (layer.has_param("shift"))
    std::memcpy(packed.data() + scale.numel(), layer.param("shift").values(), scale.numel() * sizeof(float));
  return {packed};
}

}  // namespace

extern const OpTraits channel_affine_op{
    .kind = ir::OpKind::ChannelAffine,
    .name = "channel_affine",
    .epilogues = {},
    .infer_shape =
        [](const ir::Layer& layer, std::span<const ir::Shape> in) {
          ir::expect_vector(layer, "scale", in[0].back());
          ir::expect_vector(layer, "shift", in[0].back(), true);
          return in[0];
        },
    .attributes = no_attributes,
    .gflop = per_output_gflop,
    .pack = pack,
    .reads_half_weights = no_half_weights,
    .lower =
        [](const Lowering& l) {
          return elementwise(
              l.info, ElementwiseMode::ChannelAffine, static_cast<uint32_t>(ir::shape_numel(l.input)),
              static_cast<uint32_t>(l.input.back()), l.main_input(), l.parameter(0), l.result());
        },
};

}  // namespace vkvision::ops
