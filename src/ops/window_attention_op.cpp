// WindowAttention (Swin): qkv [N, H, W, 3C] -> [N, H, W, C] in windows of window x window tokens,
// cyclically shifted by `shift`; params qkv_bias [3C], position_bias [heads, T, T], head_scale
// [heads] (v2's cosine attention: logit scale; v1: 1/sqrt(head_dim)). A pass may move the output
// projection into it (fused_projection: proj_weight [C, C], proj_bias [C]), and with it that Linear's
// residual epilogue. Kernels: ops/window_attention.h.
#include "ir/shape_checks.h"
#include "ops/gemm.h"
#include "ops/lowering.h"
#include "ops/op_traits.h"
#include "ops/window_attention.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {

ir::Shape infer_shape(const ir::Layer& layer, std::span<const ir::Shape> in) {
  const ir::Shape& x = in[0];
  if (x.size() != 4 || x.back() % 3 != 0)
    ir::shape_error(layer, "expects qkv [N,H,W,3C], got " + ir::shape_string(x));
  const int64_t c = x.back() / 3;
  if (layer.heads == 0 || c % layer.heads != 0)
    ir::shape_error(layer,
                    std::to_string(layer.heads) + " heads do not divide the width " + std::to_string(c));
  if (layer.window == 0) ir::shape_error(layer, "window size is 0");
  const int64_t t = int64_t(layer.window) * layer.window;
  ir::expect_vector(layer, "qkv_bias", 3 * c);
  ir::expect_param_shape(layer, "position_bias", {layer.heads, t, t});
  ir::expect_vector(layer, "head_scale", layer.heads);
  if (layer.fused_projection) {
    ir::expect_param_shape(layer, "proj_weight", {c, c});
    ir::expect_vector(layer, "proj_bias", c);
  }
  ir::Shape out = x;
  out.back() = c;
  return out;
}

double gflop(const ir::Layer& layer, const ir::Shape&, const ir::Shape& output) {
  // QK^T and AV: 2 * 2 * T * head_dim per (token, head) = 4 * T * C per token.
  const double t = double(layer.window) * layer.window, out = double(ir::shape_numel(output));
  return (4.0 * t * out + (layer.fused_projection ? 2.0 * out * double(output.back()) : 0.0)) * 1e-9;
}

PackedParameters pack(const ir::Layer& layer, const ir::Shape&) {
  PackedParameters packed;
  for (const char* role : {"qkv_bias", "position_bias", "head_scale"}) {
    const std::span<const float> values = parameter_values(layer, role);
    packed.emplace_back(values.begin(), values.end());
  }
  if (layer.fused_projection) {
    const auto c = static_cast<uint32_t>(layer.param("proj_weight").shape[0]);
    packed.push_back(pack_gemm_weight(parameter_values(layer, "proj_weight"), c, c));
    packed.push_back(pack_vec4_padded(parameter_values(layer, "proj_bias"), c));
  }
  return packed;
}

vk::Dispatch lower(const Lowering& l) {
  const ir::Layer& layer = l.layer;
  const WindowAttentionShape shape{.n = uint32_t(l.input[0]),
                                   .h = uint32_t(l.input[1]),
                                   .w = uint32_t(l.input[2]),
                                   .c = uint32_t(l.output[3]),
                                   .heads = layer.heads,
                                   .window = layer.window,
                                   .shift = layer.shift,
                                   .cosine = layer.cosine};
  if (!layer.fused_projection) {
    if (layer.residual) throw Error("internal: residual epilogue on window_attention without its projection");
    return window_attention(l.info, shape, l.main_input(), l.parameter(0), l.parameter(1), l.parameter(2),
                            l.result());
  }
  const AttentionProjectionBuffers buffers{l.main_input(), l.parameter(0), l.parameter(1), l.parameter(2),
                                           l.parameter(3), l.parameter(4), l.residual(),   l.result()};
  return window_attention_projection(l.info, shape, buffers);
}

std::string attributes(const ir::Layer& layer) {
  return " window " + std::to_string(layer.window) + " shift " + std::to_string(layer.shift) + " heads " +
         std::to_string(layer.heads) + (layer.cosine ? " cosine" : "");
}

}  // namespace

extern const OpTraits window_attention_op{
    .kind = ir::OpKind::WindowAttention,
    .name = "window_attention",
    .epilogues = {.residual = true},
    .infer_shape = infer_shape,
    .attributes = attributes,
    .gflop = gflop,
    .pack = pack,
    .reads_half_weights = no_half_weights,
    .lower = lower,
};

}  // namespace vkvision::ops
