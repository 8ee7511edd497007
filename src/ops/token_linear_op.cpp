// TokenLinear: the token-mixing Linear of MLP-Mixer, ResMLP, gMLP and gMixer, applied along the
// token axis of an NHWC map [N, H, W, C] whose T_in = H * W tokens are its pixels in row-major order:
//   acc[n, t', c] = sum_t weight[t', t] x[n, t, c]
//   y = act(input_scale[c] acc + input_shift[c] rowsum(weight)[t'] + bias[t']) * output_scale[c]
//       * gate[n, t', c] + residual[n, t', c]
// Parameters: weight [T_out, T_in] (PyTorch's Linear layout; [T_out, T_in, 1] from a Conv1d is
// accepted); optional bias [T_out], input_scale [C] and input_shift [C] (an affine of the input, e.g.
// ResMLP's Affine norm, folded through the product), output_scale [C] (a layer scale after the
// activation).
// Inputs, in this order: {x, gate when `gate` (the output's shape), residual when `residual` (the
// output's shape; always the last input, as ir::fuse_residual_add appends it)}.
// Output: [N, H, W, C] when T_out == T_in and no grid is set, else [N, output_h, output_w, C] with
// output_h * output_w == T_out (a hidden token layer: [N, 1, T_hidden, C]).
// Epilogues: an activation (fused by ir::fuse_activation only where neither an output scale nor a
// gate follows it) and a residual. fp16 weights where the device reads them (the row sums stay fp32).
// Kernel: ops/token_linear.h.
#include "ir/shape_checks.h"
#include "ops/half_weights.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "ops/token_linear.h"

namespace vkvision::ops {
namespace {

const ir::HostTensor& checked_weight(const ir::Layer& layer) {
  const auto& weight = layer.param("weight");
  const auto& s = weight.shape;
  if (!(s.size() == 2 || (s.size() == 3 && s[2] == 1)) || s[0] <= 0 || s[1] <= 0)
    ir::shape_error(layer, "weight has shape " + ir::shape_string(s) + ", expected [T_out, T_in]");
  return weight;
}

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  ir::expect_feature_map(layer, x);
  const size_t inputs = 1 + (layer.gate ? 1 : 0) + (layer.residual ? 1 : 0);
  if (in.size() != inputs)
    ir::shape_error(layer, "has " + std::to_string(in.size()) + " inputs, expected " +
                               std::to_string(inputs) + " (x" + (layer.gate ? ", gate" : "") +
                               (layer.residual ? ", residual" : "") + ")");
  const int64_t t_in = x[1] * x[2], channels = x[3];
  const auto& weight = checked_weight(layer);
  const int64_t t_out = weight.shape[0];
  if (weight.shape[1] != t_in)
    ir::shape_error(layer, "weight mixes " + std::to_string(weight.shape[1]) + " tokens, the input has " +
                               std::to_string(t_in) + " (" + std::to_string(x[1]) + "x" +
                               std::to_string(x[2]) + ")");
  ir::Shape out = x;
  if (layer.output_h || layer.output_w) {
    if (int64_t(layer.output_h) * layer.output_w != t_out)
      ir::shape_error(layer, "output grid " + std::to_string(layer.output_h) + "x" +
                                 std::to_string(layer.output_w) + " does not hold the weight's " +
                                 std::to_string(t_out) + " output tokens");
    out[1] = layer.output_h;
    out[2] = layer.output_w;
  } else if (t_out != t_in) {
    ir::shape_error(layer, "weight gives " + std::to_string(t_out) + " output tokens from " +
                               std::to_string(t_in) + " and no output grid is set");
  }
  ir::expect_vector(layer, "bias", t_out, true);
  ir::expect_vector(layer, "input_scale", channels, true);
  ir::expect_vector(layer, "input_shift", channels, true);
  ir::expect_vector(layer, "output_scale", channels, true);
  if (layer.gate && in[1] != out)
    ir::shape_error(
        layer, "gate input has shape " + ir::shape_string(in[1]) + ", expected " + ir::shape_string(out));
  return out;
}

std::string attributes(const ir::Layer& layer) {
  const auto& weight = layer.param("weight").shape;
  if (weight.size() < 2) return {};
  std::string text = " tokens " + std::to_string(weight[1]) + "->" + std::to_string(weight[0]);
  if (layer.has_param("output_scale")) text += " +output_scale";
  return text;
}

double gflop(const ir::Layer& layer, const ir::Shape&, const ir::Shape& output) {
  return 2.0 * double(ir::shape_numel(output)) * double(layer.param("weight").shape[1]) * 1e-9;
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape& input) {
  const auto& weight = layer.param("weight");
  const auto t_out = uint32_t(weight.shape[0]), t_in = uint32_t(weight.shape[1]);
  const std::span<const float> values = parameter_values(layer, "weight");
  return {pack_token_linear_weight(values, t_out, t_in),
          pack_token_linear_token_parameters(parameter_values(layer, "bias"), values, t_out, t_in),
          pack_token_linear_channel_parameters(
              parameter_values(layer, "input_scale"), parameter_values(layer, "input_shift"),
              parameter_values(layer, "output_scale"), uint32_t(input.back()))};
}

TokenLinearShape shape_of(const ir::Shape& input, const ir::Shape& output) {
  return {.batch = uint32_t(input[0]),
          .t_in = uint32_t(input[1] * input[2]),
          .t_out = uint32_t(output[1] * output[2]),
          .c = uint32_t(input[3])};
}

// One kernel for every family (it has no shared-memory tiling): storage operands where the family
// asks for them, else texel operands where the shape allows.
TokenLinearOperands operands_for(GemmOperands family) {
  return family == GemmOperands::Storage ? TokenLinearOperands::Storage : TokenLinearOperands::Auto;
}

bool reads_half_weights(const KernelQuery& q) {
  return half_weights_supported(q.info, token_linear_uses_texel_path(q.info, shape_of(q.input, q.output),
                                                                     operands_for(q.gemm_operands)));
}

vk::Dispatch lower(const Lowering& l) {
  const ir::Layer& layer = l.layer;
  TokenLinearBuffers buffers{.input = l.main_input(),
                             .weight = l.parameter(0),
                             .token_parameters = l.parameter(1),
                             .channel_parameters = l.parameter(2),
                             .output = l.result()};
  if (layer.gate) buffers.gate = l.tensor(layer.inputs[1]);
  buffers.residual = l.residual();
  const TokenLinearEpilogue epilogue{.activation = layer.activation,
                                     .bias = layer.has_param("bias"),
                                     .input_scale = layer.has_param("input_scale"),
                                     .input_shift = layer.has_param("input_shift"),
                                     .output_scale = layer.has_param("output_scale")};
  return token_linear(l.info, shape_of(l.input, l.output), epilogue, buffers, operands_for(l.gemm_operands),
                      l.half_weights);
}

}  // namespace

extern const OpTraits token_linear_op{
    .kind = ir::OpKind::TokenLinear,
    .name = "token_linear",
    .epilogues = {.activation = true, .residual = true},
    .infer_shape = infer_shape,
    .attributes = attributes,
    .gflop = gflop,
    .pack = pack,
    .reads_half_weights = reads_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
