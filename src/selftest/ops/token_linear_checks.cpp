// TokenLinear (ops/token_linear.h): the token-mixing GEMM of MLP-Mixer, ResMLP, gMLP and gMixer,
// against a double-precision reference of
//   y[b, t', c] = act(alpha[c] sum_t W[t', t] x[b, t, c] + beta[c] rowsum(W)[t'] + bias[t'])
//                 * out_scale[c] * gate[b, t', c] + residual[b, t', c]
// (the reference evaluates W (alpha x + beta) + bias directly, so the folding of the affine through
// the product is checked too). Through the conformance harness (ops/conformance.h): storage operands
// for every case, texel operands where C % 4 == 0. Token counts of real models (7x7, 14x14, 14x14 + 1,
// 5x5), token counts that change (49 -> 11, 11 -> 49, 196 -> 13), channels not a multiple of 4,
// batches 1 to 3, each epilogue term alone and together. Also the shape checks and the fusion passes.
#include <array>
#include <cmath>
#include <string>

#include "exec/plan.h"
#include "ir/passes.h"
#include "ops/op_traits.h"
#include "ops/token_linear.h"
#include "selftest/ops/op_check_lists.h"
#include "vkvision/error.h"

namespace vkvision::selftest {
namespace {

struct TokenLinearParams {
  uint32_t batch = 1, h = 7, w = 7, c = 18;
  uint32_t t_out = 0;  // 0: h * w
  ops::Activation activation = ops::Activation::None;
  bool bias = false, input_scale = false, input_shift = false, output_scale = false, gate = false,
       residual = false;
  uint32_t seed = 1;
  uint32_t max_groups_x = 0;         // a device allowing only this many workgroups along x (0: as is)
  std::array<uint32_t, 2> groups{};  // the grid that must then result (0: not checked)
};

std::string describe(const TokenLinearParams& p) {
  return "N " + std::to_string(p.batch) + ", tokens " + std::to_string(p.h * p.w) + " -> " +
         std::to_string(p.t_out ? p.t_out : p.h * p.w) + ", C " + std::to_string(p.c) + ", " +
         ops::activation_name(p.activation) + (p.gate ? ", gate" : "") + (p.residual ? ", residual" : "");
}

// Storage operands always; texel operands where the channels are whole vec4s.
std::vector<Path> token_linear_paths(uint32_t c, bool half = false) {
  std::vector<Path> paths = {half ? kStorageHalf : kStorage};
  if (c % 4 == 0) paths.push_back(half ? kTexelHalf : kTexel);
  return paths;
}

class TokenLinearChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  Outcome run_case(const TokenLinearParams& c, const Path& path, const DeviceInfo& device_info) {
    DeviceInfo info = device_info;
    if (c.max_groups_x) info.max_workgroup_count = {c.max_groups_x, info.max_workgroup_count[1], 1};
    const uint32_t t_in = c.h * c.w, t_out = c.t_out ? c.t_out : t_in, channels = c.c;
    const ops::TokenLinearShape shape{.batch = c.batch, .t_in = t_in, .t_out = t_out, .c = channels};
    if (path.texel() && !ops::token_linear_texel_supported(info, shape))
      return {.not_run = "the operands exceed maxTexelBufferElements"};
    const size_t in_size = size_t(c.batch) * t_in * channels, out_size = size_t(c.batch) * t_out * channels;
    const auto x = random_values(in_size, c.seed), w = random_values(size_t(t_out) * t_in, c.seed + 1),
               bias = random_values(t_out, c.seed + 2),
               alpha = random_values(channels, c.seed + 3, 0.5f, 1.5f),
               beta = random_values(channels, c.seed + 4), scale = random_values(channels, c.seed + 5),
               gate = random_values(out_size, c.seed + 6), residual = random_values(out_size, c.seed + 7);
    const std::vector<float> none;
    ops::TokenLinearBuffers buffers{
        .input = make_buffer(x),
        .weight = path.half_weights ? make_half_buffer(ops::pack_token_linear_weight(w, t_out, t_in))
                                    : make_buffer(ops::pack_token_linear_weight(w, t_out, t_in)),
        .token_parameters =
            make_buffer(ops::pack_token_linear_token_parameters(c.bias ? bias : none, w, t_out, t_in)),
        .channel_parameters = make_buffer(ops::pack_token_linear_channel_parameters(
            c.input_scale ? alpha : none, c.input_shift ? beta : none, c.output_scale ? scale : none,
            channels)),
        .output = make_buffer(out_size)};
    if (c.gate) buffers.gate = make_buffer(gate);
    if (c.residual) buffers.residual = make_buffer(residual);
    const ops::TokenLinearEpilogue epilogue{.activation = c.activation,
                                            .bias = c.bias,
                                            .input_scale = c.input_scale,
                                            .input_shift = c.input_shift,
                                            .output_scale = c.output_scale};
    const vk::Dispatch dispatch =
        ops::token_linear(info, shape, epilogue, buffers,
                          path.texel() ? ops::TokenLinearOperands::Texel : ops::TokenLinearOperands::Storage,
                          path.half_weights);
    Outcome outcome;
    outcome.dispatches = {dispatch};
    outcome.flops = 2.0 * double(out_size) * t_in;
    outcome.shader = path.texel()        ? vk::ShaderId::token_linear_texel
                     : path.half_weights ? vk::ShaderId::token_linear_half_weights
                                         : vk::ShaderId::token_linear;
    require((dispatch.half_texel) == (path.half_weights && path.texel() ? 0b10u : 0u),
            "dispatch.half_texel == path.half_weights && path.texel() ? 0b10u : 0u");
    if (c.groups[0]) {
      require((dispatch.groups[0]) == (c.groups[0]), "dispatch.groups[0] == c.groups[0]");
      require((dispatch.groups[1]) == (c.groups[1]), "dispatch.groups[1] == c.groups[1]");
    }
    run({dispatch});
    outcome.actual = read(buffers.output, out_size);
    outcome.expected.resize(out_size);
    // The kernel sums round_up(T_in, 4) products (the padding's are exact zeros) in fp32, then scales
    // by alpha, adds beta * rowsum (rowsum rounded to fp32 once, times beta rounded) and the bias:
    // every term of the pre-activation value passes through at most n + 3 roundings, n =
    // round_up(T_in, 4), so (Higham 3.5) |pre_kernel - pre| <= gamma_{n+3} (|alpha| sum_t |W x| +
    // |beta| sum_t |W| + |bias|). The activation carries it (activate: slope times the bound
    // plus its own evaluation error); each of the output scale, the gate and the residual then adds
    // one rounding: bound' = |factor| bound + u |result| (residual: bound + u |result|).
    // With fp16 weights the product is of the half-rounded weights (the reference's too, with the
    // same bound), while the row sums the shift multiplies are of the fp32 weights, as packed.
    const double gamma = gamma_n(double((t_in + 3) / 4 * 4) + 3);
    const std::vector<float> w_product = path.half_weights ? rounded_to_half(w) : w;
    for (uint32_t b = 0; b < c.batch; ++b)
      for (uint32_t t = 0; t < t_out; ++t)
        for (uint32_t ch = 0; ch < channels; ++ch) {
          const double a = c.input_scale ? alpha[ch] : 1.0, s = c.input_shift ? beta[ch] : 0.0;
          double pre = c.bias ? bias[t] : 0.0, magnitude = std::abs(pre);
          for (uint32_t u = 0; u < t_in; ++u) {
            const double wu = w_product[size_t(t) * t_in + u], wsum = w[size_t(t) * t_in + u],
                         xu = x[(size_t(b) * t_in + u) * channels + ch];
            pre += wu * a * xu + wsum * s;
            magnitude += std::abs(a * wu * xu) + std::abs(s * wsum);
          }
          Bounded y = activate(pre, gamma * magnitude, c.activation);
          const size_t index = (size_t(b) * t_out + t) * channels + ch;
          if (c.output_scale) {
            y.value *= scale[ch];
            y.bound = std::abs(scale[ch]) * y.bound + kUnit * std::abs(y.value);
          }
          if (c.gate) {
            y.value *= gate[index];
            y.bound = std::abs(gate[index]) * y.bound + kUnit * std::abs(y.value);
          }
          if (c.residual) {
            y.value += residual[index];
            y.bound += kUnit * std::abs(y.value);
          }
          outcome.expected[index] = y;
        }
    return outcome;
  }
};

using TokenLinearCase = Case<TokenLinearParams>;

// clang-format off
std::vector<TokenLinearCase> token_linear_cases() {
  using ops::Activation;
  std::vector<TokenLinearCase> cases;
  uint32_t seed = 1;
  auto add = [&](std::string name, TokenLinearParams params) {
    params.seed = seed += 10;
    cases.push_back({std::move(name), params, token_linear_paths(params.c)});
  };
  // Token counts: 7x7 (Mixer at 112), 14x14 (at 224), 14x14 + 1 as 1x197 (a class token kept in the
  // map), 5x5 (at 80); channels not multiples of 4 and whole quads; batches 1 to 3.
  add("Plain49Tokens18Channels", {.batch = 1, .h = 7, .w = 7, .c = 18});
  add("Plain196Tokens22ChannelsBatch2", {.batch = 2, .h = 14, .w = 14, .c = 22});
  add("Plain197Tokens30ChannelsBatch3", {.batch = 3, .h = 1, .w = 197, .c = 30});
  add("Plain25Tokens67Channels", {.batch = 2, .h = 5, .w = 5, .c = 67});
  add("Plain49Tokens64ChannelsBatch3", {.batch = 3, .h = 7, .w = 7, .c = 64});
  add("Plain196Tokens64Channels", {.batch = 1, .h = 14, .w = 14, .c = 64});
  // Token counts that change: fewer and more output tokens than input tokens, T not multiples of 4.
  add("Tokens49To11", {.batch = 2, .h = 7, .w = 7, .c = 18, .t_out = 11, .bias = true});
  add("Tokens11To49", {.batch = 3, .h = 1, .w = 11, .c = 67, .t_out = 49, .bias = true});
  add("Tokens196To13", {.batch = 1, .h = 14, .w = 14, .c = 64, .t_out = 13, .bias = true});
  add("Tokens25To1", {.batch = 2, .h = 5, .w = 5, .c = 30, .t_out = 1});
  add("OneTokenTo5", {.batch = 2, .h = 1, .w = 1, .c = 22, .t_out = 5, .bias = true});
  add("ThreeChannels", {.batch = 2, .h = 5, .w = 5, .c = 3, .bias = true});
  // Each optional term alone.
  add("BiasAlone", {.batch = 2, .h = 7, .w = 7, .c = 22, .bias = true});
  add("InputScaleAlone", {.batch = 1, .h = 5, .w = 5, .c = 30, .input_scale = true});
  add("InputShiftAlone", {.batch = 2, .h = 7, .w = 7, .c = 18, .input_shift = true});
  add("GeluAlone", {.batch = 1, .h = 14, .w = 14, .c = 22, .activation = Activation::Gelu});
  add("SiluAlone", {.batch = 2, .h = 7, .w = 7, .c = 67, .activation = Activation::Silu});
  add("ReluAlone", {.batch = 1, .h = 5, .w = 5, .c = 64, .activation = Activation::Relu});
  add("OutputScaleAlone", {.batch = 3, .h = 5, .w = 5, .c = 18, .output_scale = true});
  add("GateAlone", {.batch = 2, .h = 7, .w = 7, .c = 30, .gate = true});
  add("ResidualAlone", {.batch = 1, .h = 14, .w = 14, .c = 67, .residual = true});
  // Together: ResMLP's cross-patch sublayer (Affine folded in, layer scale, residual) with GELU;
  // gMLP's spatial gating unit (bias, gate); gMixer's silu branch; all at once with changed tokens.
  add("BiasAffineGeluScaleResidual",
      {.batch = 2, .h = 14, .w = 14, .c = 22, .activation = Activation::Gelu, .bias = true,
       .input_scale = true, .input_shift = true, .output_scale = true, .residual = true});
  add("BiasAffineGeluScaleResidual64",
      {.batch = 3, .h = 7, .w = 7, .c = 64, .activation = Activation::Gelu, .bias = true,
       .input_scale = true, .input_shift = true, .output_scale = true, .residual = true});
  add("BiasGate", {.batch = 2, .h = 14, .w = 14, .c = 30, .bias = true, .gate = true});
  add("BiasGate197", {.batch = 1, .h = 1, .w = 197, .c = 64, .bias = true, .gate = true});
  add("BiasSilu", {.batch = 3, .h = 5, .w = 5, .c = 67, .activation = Activation::Silu, .bias = true});
  add("EverythingTokens49To11",
      {.batch = 2, .h = 7, .w = 7, .c = 67, .t_out = 11, .activation = Activation::Silu, .bias = true,
       .input_scale = true, .input_shift = true, .output_scale = true, .gate = true, .residual = true});
  // A device that allows only 4 workgroups along x: 2 images x 17 token tiles (of 12) x 48 channel
  // groups (of 16) = 1632 invocations = 26 workgroups of 64 must become a 4 x 7 grid whose 2 spare
  // workgroups do nothing.
  add("DispatchSpillsIntoYWhenXWorkgroupLimitIsSmall",
      {.batch = 2, .h = 14, .w = 14, .c = 768, .bias = true, .max_groups_x = 4, .groups = {4, 7}});
  // fp16 weights: the storage kernel's 16-bit-storage variant and the texel kernel's RGBA16F view.
  auto add_half = [&](std::string name, TokenLinearParams params) {
    params.seed = seed += 10;
    cases.push_back({std::move(name), params, token_linear_paths(params.c, true)});
  };
  add_half("HalfWeights49Tokens18Channels", {.batch = 2, .h = 7, .w = 7, .c = 18, .bias = true});
  add_half("HalfWeightsEverything196To13",
           {.batch = 2, .h = 14, .w = 14, .c = 64, .t_out = 13, .activation = Activation::Gelu, .bias = true,
            .input_scale = true, .input_shift = true, .output_scale = true, .gate = true, .residual = true});
  add_half("HalfWeights11To49Silu",
           {.batch = 3, .h = 1, .w = 11, .c = 67, .t_out = 49, .activation = Activation::Silu, .bias = true});
  // Mixer-B/16's token MLP at 224: 196 -> 384 -> 196 tokens at 768 channels (for --perf; the same
  // arithmetic as GemmTest's MixerTokenMlpShape cases).
  add("MixerB16Tokens196To384",
      {.batch = 1, .h = 14, .w = 14, .c = 768, .t_out = 384, .activation = Activation::Gelu, .bias = true});
  add("MixerB16Tokens384To196",
      {.batch = 1, .h = 1, .w = 384, .c = 768, .t_out = 196, .bias = true, .residual = true});
  return cases;
}
// clang-format on

void add_TokenLinear_cases(CheckList& list) {
  add_cases<TokenLinearChecks, TokenLinearParams>(list, "TokenLinear", token_linear_cases());
}

}  // namespace

void add_token_linear_checks(CheckList& list) { add_TokenLinear_cases(list); }

}  // namespace vkvision::selftest
