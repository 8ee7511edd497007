// The fused window-attention kernel against a plain reference written the way torchvision's
// shifted_window_attention is: pad, roll, partition, scores, mask, softmax, AV, reverse, roll back, crop;
// through the conformance harness (ops/conformance.h): attention alone on the storage-buffer and the
// texel-buffer kernel, and the GPU-class kernel fused with the output projection (one path).
#include <cmath>
#include <ostream>
#include <string>

#include "ops/gemm.h"
#include "ops/patch_merge_gather.h"
#include "ops/spatial_mlp.h"
#include "ops/window_attention.h"
#include "selftest/ops/op_check_lists.h"

namespace vkvision::selftest {
namespace {

struct WindowCase {
  uint32_t n, h, w, heads, head_dim, window, shift;
  bool cosine;
};

std::vector<float> reference(const WindowCase& k, const std::vector<float>& qkv,
                             const std::vector<float>& qkv_bias, const std::vector<float>& position_bias,
                             const std::vector<float>& head_scale) {
  const uint32_t C = k.heads * k.head_dim, W = k.window, T = W * W;
  const uint32_t Hp = (k.h + W - 1) / W * W, Wp = (k.w + W - 1) / W * W;
  const uint32_t sh = W >= Hp ? 0 : k.shift, sw = W >= Wp ? 0 : k.shift;
  // Padded map of q|k|v per position; padding holds the bias (linear of a zero token).
  auto padded = [&](uint32_t n, uint32_t i, uint32_t j, uint32_t channel) {
    if (i >= k.h || j >= k.w) return qkv_bias[channel];
    return qkv[((size_t(n) * k.h + i) * k.w + j) * 3 * C + channel];
  };
  auto region = [&](uint32_t coordinate, uint32_t size, uint32_t shift) {
    if (shift == 0) return 0;
    if (coordinate < size - W) return 0;
    return coordinate < size - shift ? 1 : 2;
  };
  std::vector<float> out(size_t(k.n) * k.h * k.w * C, 0.0f);
  for (uint32_t n = 0; n < k.n; ++n)
    for (uint32_t wi = 0; wi < Hp / W; ++wi)
      for (uint32_t wj = 0; wj < Wp / W; ++wj)
        for (uint32_t head = 0; head < k.heads; ++head) {
          // Gather the window from the rolled map: rolled[i][j] = padded[(i + sh) % Hp][(j + sw) % Wp].
          std::vector<std::vector<double>> q(T), key(T), v(T);
          std::vector<int> reg(T);
          for (uint32_t t = 0; t < T; ++t) {
            const uint32_t i = wi * W + t / W, j = wj * W + t % W;
            const uint32_t si = (i + sh) % Hp, sj = (j + sw) % Wp;
            reg[t] = region(i, Hp, sh) * 3 + region(j, Wp, sw);
            for (uint32_t d = 0; d < k.head_dim; ++d) {
              q[t].push_back(padded(n, si, sj, head * k.head_dim + d));
              key[t].push_back(padded(n, si, sj, C + head * k.head_dim + d));
              v[t].push_back(padded(n, si, sj, 2 * C + head * k.head_dim + d));
            }
            if (k.cosine) {
              for (auto* vec : {&q[t], &key[t]}) {
                double norm = 0;
                for (double x : *vec) norm += x * x;
                norm = std::max(std::sqrt(norm), 1e-12);
                for (double& x : *vec) x /= norm;
              }
            }
          }
          for (uint32_t a = 0; a < T; ++a) {
            std::vector<double> scores(T);
            double peak = -1e300;
            for (uint32_t b = 0; b < T; ++b) {
              double dot = 0;
              for (uint32_t d = 0; d < k.head_dim; ++d) dot += q[a][d] * key[b][d];
              scores[b] = dot * head_scale[head] + position_bias[(size_t(head) * T + a) * T + b] +
                          (reg[a] != reg[b] ? -100.0 : 0.0);
              peak = std::max(peak, scores[b]);
            }
            double total = 0;
            for (double& s : scores) total += s = std::exp(s - peak);
            const uint32_t i = wi * W + a / W, j = wj * W + a % W;
            const uint32_t si = (i + sh) % Hp, sj = (j + sw) % Wp;  // roll back
            if (si >= k.h || sj >= k.w) continue;                   // crop
            for (uint32_t d = 0; d < k.head_dim; ++d) {
              double sum = 0;
              for (uint32_t b = 0; b < T; ++b) sum += scores[b] / total * v[b][d];
              out[((size_t(n) * k.h + si) * k.w + sj) * C + head * k.head_dim + d] = float(sum);
            }
          }
        }
  return out;
}

struct WindowAttentionParams {
  WindowCase k;
  bool projection = false;  // window_attention_projection: residual + proj(attention)
};

std::string describe(const WindowAttentionParams& p) {
  const WindowCase& k = p.k;
  return "N " + std::to_string(k.n) + ", " + std::to_string(k.h) + "x" + std::to_string(k.w) + ", heads " +
         std::to_string(k.heads) + " of " + std::to_string(k.head_dim) + ", window " +
         std::to_string(k.window) + ", shift " + std::to_string(k.shift) + (k.cosine ? ", cosine" : "") +
         (p.projection ? ", projection" : "");
}

class WindowAttentionChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  // Random q/k/v (and their padded-token bias), position bias and per-head scales for one case.
  struct Inputs {
    std::vector<float> qkv, qkv_bias, position_bias, head_scale;
    ops::WindowAttentionShape shape;
  };
  static Inputs inputs(const WindowCase& k) {
    const uint32_t C = k.heads * k.head_dim, T = k.window * k.window;
    Inputs in{random_values(size_t(k.n) * k.h * k.w * 3 * C, 1),
              random_values(3 * C, 2),
              random_values(size_t(k.heads) * T * T, 3, -2.0f, 2.0f),
              std::vector<float>(k.heads),
              {.n = k.n,
               .h = k.h,
               .w = k.w,
               .c = C,
               .heads = k.heads,
               .window = k.window,
               .shift = k.shift,
               .cosine = k.cosine}};
    for (uint32_t h = 0; h < k.heads; ++h)
      in.head_scale[h] = k.cosine ? 5.0f + h : 1.0f / std::sqrt(float(k.head_dim));
    return in;
  }
  // Scores and AV products over every window and head: 4 T^2 d per window and head.
  static double attention_flops(const WindowCase& k) {
    const double windows = double((k.h + k.window - 1) / k.window) * ((k.w + k.window - 1) / k.window);
    return 4.0 * k.n * windows * k.heads * std::pow(double(k.window), 4) * k.head_dim;
  }

  Outcome run_case(const WindowAttentionParams& p, const Path& path, const DeviceInfo& info) {
    return p.projection ? run_projection(p.k, info) : run_attention(p.k, path, info);
  }

  Outcome run_attention(const WindowCase& k, const Path& path, const DeviceInfo& info) {
    const uint32_t C = k.heads * k.head_dim;
    const auto [qkv, qkv_bias, position_bias, head_scale, shape] = inputs(k);
    auto output = make_buffer(size_t(k.n) * k.h * k.w * C);
    Outcome outcome;
    outcome.dispatches = {ops::window_attention(info, shape, make_buffer(qkv), make_buffer(qkv_bias),
                                                make_buffer(position_bias), make_buffer(head_scale), output)};
    outcome.shader = path.texel() ? vk::ShaderId::window_attention_texel : vk::ShaderId::window_attention;
    if (path.texel() && outcome.dispatches[0].shader != outcome.shader)
      return {.not_run = "q/k/v exceed maxTexelBufferElements"};
    outcome.flops = attention_flops(k);
    run(outcome.dispatches);
    outcome.actual = read(output, size_t(k.n) * k.h * k.w * C);
    // Scores are sums of head_dim products of O(1) values plus bias; softmax outputs are convex
    // combinations of O(1) values. fp32 rounding of exp and the running rescale stays near 1e-6
    // relative; 2e-5 leaves margin without hiding a wrong index (which moves outputs by O(0.1)).
    outcome.expected = with_tolerance(reference(k, qkv, qkv_bias, position_bias, head_scale), 2e-5, 2e-5);
    return outcome;
  }

  // The GPU-class fused kernel: residual + proj(attention), with both query tiles (8, and 4 as on a
  // device with less shared memory) and without a residual (Swin v2's post-norm): four runs.
  Outcome run_projection(const WindowCase& k, const DeviceInfo& device_info) {
    const uint32_t C = k.heads * k.head_dim, tokens = k.n * k.h * k.w;
    const auto [qkv, qkv_bias, position_bias, head_scale, shape] = inputs(k);
    const auto proj_weight = random_values(size_t(C) * C, 4), proj_bias = random_values(C, 5),
               residual = random_values(size_t(tokens) * C, 6);
    const auto attended = reference(k, qkv, qkv_bias, position_bias, head_scale);

    DeviceInfo small_shared = device_info;
    small_shared.max_compute_shared_memory = 8 * C * sizeof(float) - 4;
    require((ops::attention_projection_query_tile(small_shared, C)) == (4u),
            "ops::attention_projection_query_tile(small_shared, C) == 4u");
    require((ops::attention_projection_query_tile(device_info, C)) == (8u),
            "ops::attention_projection_query_tile(device_info, C) == 8u");
    Outcome outcome;
    outcome.shader = vk::ShaderId::window_attention_projection;
    outcome.flops = attention_flops(k) + 2.0 * tokens * C * C;
    for (const DeviceInfo* info : std::vector<const DeviceInfo*>{&device_info, &small_shared})
      for (bool with_residual : {true, false}) {
        // Attention outputs carry the attention kernel's 2e-5 (1 + |a|) (run_attention); the
        // projection sums C products of them: that error times |w|, plus gamma_{C+2} of the terms.
        std::vector<Bounded> expected(size_t(tokens) * C);
        for (uint32_t token = 0; token < tokens; ++token)
          for (uint32_t o = 0; o < C; ++o) {
            double sum = proj_bias[o], magnitude = std::abs(proj_bias[o]), propagated = 0;
            for (uint32_t c = 0; c < C; ++c) {
              const double a = attended[size_t(token) * C + c], w = proj_weight[size_t(o) * C + c];
              sum += a * w;
              magnitude += std::abs(a * w);
              propagated += 2e-5 * (1 + std::abs(a)) * std::abs(w);
            }
            if (with_residual) sum += residual[size_t(token) * C + o];
            expected[size_t(token) * C + o] = {sum,
                                               propagated + gamma_n(C + 2) * (magnitude + std::abs(sum))};
          }
        auto output = make_buffer(size_t(tokens) * C);
        ops::AttentionProjectionBuffers buffers{make_buffer(qkv),
                                                make_buffer(qkv_bias),
                                                make_buffer(position_bias),
                                                make_buffer(head_scale),
                                                make_buffer(ops::pack_gemm_weight(proj_weight, C, C)),
                                                make_buffer(ops::pack_vec4_padded(proj_bias, C)),
                                                std::nullopt,
                                                output};
        if (with_residual) buffers.residual = make_buffer(residual);
        const vk::Dispatch dispatch = ops::window_attention_projection(*info, shape, buffers);
        if (outcome.dispatches.empty()) outcome.dispatches = {dispatch};  // --perf times the first
        run({dispatch});
        append(outcome, read(output, size_t(tokens) * C), expected);
      }
    return outcome;
  }
};

std::vector<Case<WindowAttentionParams>> window_attention_cases() {
  const std::vector<std::pair<std::string, WindowCase>> shapes = {
      {"UnshiftedUnpaddedBatch2", {2, 14, 14, 3, 32, 7, 0, false}},
      {"ShiftedTheMaskMatters", {1, 14, 14, 3, 32, 7, 3, false}},
      {"PaddedAndShifted", {2, 10, 9, 2, 16, 7, 3, false}},
      {"WindowCoversTheMapShiftDisabled", {1, 7, 7, 4, 8, 7, 3, false}},
      {"V2CosineWindow8", {1, 16, 16, 3, 32, 8, 4, true}},
      {"Window12PaddedWidth", {1, 12, 13, 2, 8, 12, 6, true}},
      {"ThirtyTwoHeads", {1, 8, 8, 32, 4, 4, 2, false}},
  };
  std::vector<Case<WindowAttentionParams>> cases;
  for (const auto& [name, k] : shapes) {
    // q/k/v rows of 3C floats: whole texels where C % 4 == 0 (every case here).
    cases.push_back({name, {k, false}, kOperandPaths});
    cases.push_back({name + "WithProjection", {k, true}, {kDefault}});
  }
  return cases;
}

void add_WindowAttention_cases(CheckList& list) {
  add_cases<WindowAttentionChecks, WindowAttentionParams>(list, "WindowAttention", window_attention_cases());
}

}  // namespace

void add_window_attention_checks(CheckList& list) { add_WindowAttention_cases(list); }

}  // namespace vkvision::selftest
