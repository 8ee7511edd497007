// Linear on the last axis: weight [N, K] (or [N, K, 1, 1]: a 1x1 convolution's), bias [N] (optional).
// Epilogues: an activation and a residual (the last input). A pass may fold the LayerNorm before it
// into it (normalize_input, eps; the norm's affine already in weight and bias), its row statistics
// gathered by the GEMM or read from the input's producer (input_statistics). With input_scale, inputs[1]
// ([N, K]) scales each image's input features first. With gate, the next input (the output's shape)
// multiplies the output after the activation and before the residual (ir::fuse_multiply_into_linear).
// Inputs, in this order: {x, input scale, gate, residual}, each but x where the layer has it.
// Kernels: ops/gemm.h.
#include <optional>

#include "ir/shape_checks.h"
#include "ops/gemm.h"
#include "ops/half_weights.h"
#include "ops/layer_shapes.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  const auto& weight = layer.param("weight");
  if (weight.shape.size() != 2 && !(weight.shape.size() == 4 && weight.shape[2] == 1 && weight.shape[3] == 1))
    ir::shape_error(layer, "weight has shape " + ir::shape_string(weight.shape) + ", expected [out, in]");
  if (weight.shape[1] != x.back())
    ir::shape_error(layer, "weight expects " + std::to_string(weight.shape[1]) +
                               " input features, the input has " + std::to_string(x.back()));
  ir::expect_vector(layer, "bias", weight.shape[0], true);
  if (layer.input_scale && (in.size() < 2 || in[1] != ir::Shape{x[0], x.back()}))
    ir::shape_error(layer, "an input scale must be [N, " + std::to_string(x.back()) + "], got " +
                               (in.size() > 1 ? ir::shape_string(in[1]) : "nothing"));
  ir::Shape out = x;
  out.back() = weight.shape[0];
  const size_t inputs = 1 + layer.input_scale + layer.gate + layer.residual;
  if (in.size() != inputs)
    ir::shape_error(layer,
                    "has " + std::to_string(in.size()) + " inputs, expected " + std::to_string(inputs));
  if (layer.gate && in[1 + layer.input_scale] != out)
    ir::shape_error(layer, "the gate must be " + ir::shape_string(out) + ", got " +
                               ir::shape_string(in[1 + layer.input_scale]));
  return out;
}

double gflop(const ir::Layer& layer, const ir::Shape& input, const ir::Shape& output) {
  return (2.0 * double(ir::shape_numel(output)) * static_cast<double>(input.back()) +
          (layer.normalize_input ? 5.0 * ir::shape_numel(input) : 0.0)) *
         1e-9;
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  const auto& weight = layer.param("weight");
  const auto n = static_cast<uint32_t>(weight.shape[0]), k = static_cast<uint32_t>(weight.shape[1]);
  const std::span<const float> values(weight.values(), static_cast<size_t>(weight.numel()));
  const std::span<const float> bias = parameter_values(layer, "bias");
  return {pack_gemm_weight(values, n, k),
          layer.normalize_input ? pack_bias_and_column_sums(bias, values, n, k) : pack_vec4_padded(bias, n)};
}

bool reads_half_weights(const KernelQuery& q) {
  return half_weights_supported(q.info,
                                gemm_uses_texel_path(q.info, gemm_shape(q.input, q.output), q.gemm_operands));
}

vk::Dispatch lower(const Lowering& l) {
  const ir::Layer& layer = l.layer;
  GemmBuffers buffers{l.main_input(), l.parameter(0), l.parameter(1), l.result(), l.residual()};
  if (layer.input_statistics) buffers.row_statistics = l.statistics(layer.inputs[0]);
  GemmShape shape = gemm_shape(l.input, l.output);
  if (layer.input_scale) {
    buffers.input_scale = l.tensor(layer.inputs[1]);
    shape.rows_per_image =
        l.input[0] == 0 ? 0 : static_cast<uint32_t>(ir::shape_numel(l.input) / l.input[0] / l.input.back());
  }
  if (layer.gate) buffers.gate = l.tensor(layer.inputs[1 + layer.input_scale]);
  const bool gathers_statistics = layer.normalize_input && !layer.input_statistics;
  return gemm(l.info, shape, layer.activation, buffers, l.gemm_operands, l.half_weights,
              gathers_statistics ? std::optional<float>(layer.eps) : std::nullopt);
}

}  // namespace

extern const OpTraits linear_op{
    .kind = ir::OpKind::Linear,
    .name = "linear",
    .epilogues = {.activation = true, .residual = true},
    .infer_shape = infer_shape,
    .attributes = no_attributes,
    .gflop = gflop,
    .pack = pack,
    .reads_half_weights = reads_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
