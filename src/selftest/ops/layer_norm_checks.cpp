// LayerNorm (ops::layer_norm) through the conformance harness (ops/conformance.h): every case on the
// storage-buffer kernel and, where C % 4 == 0 (each gathered part's too), the texel-buffer one.
#include <cmath>
#include <optional>
#include <string>

#include "ops/layer_norm.h"
#include "selftest/ops/op_check_lists.h"
#include "selftest/ops/patch_gather_reference.h"
#include "vkvision/error.h"

namespace vkvision::selftest {
namespace {

// torch.nn.functional.layer_norm in double (biased variance, eps inside the square root), with a
// bound on the fp32 kernel's error from a first-order analysis of the shifted one-pass algorithm
// (shift = the row's first element, d_i = x_i - shift):
//   d_i:            u |d_i|
//   mean of d:      e_m  = (gamma_C + u) mean|d| + u |mean d|
//   mean of d^2:    e_2  = (gamma_C + 3u) mean(d^2)         (d rounded: 2u; products and sum: gamma_C)
//   variance:       e_v  = e_2 + 2 |mean d| e_m + u (mean d)^2 + u mean(d^2)
//   1/sqrt(v+eps):  rel  = (e_v + u (v + eps)) / (2 (v + eps)) + 2u   (inversesqrt: 2 ULP in Vulkan)
//   x_i - mean:     e_c  = u |d_i| + e_m + u |x_i - mean|
//   y_i = (x_i - mean) inv g + b:  |g| inv (e_c + |x_i - mean| rel) + u (2 |(x_i - mean) inv g| + |y_i|)
// doubled to cover second-order terms. Nothing in it grows with |mean| itself: centring about a
// sample makes every quantity the kernel rounds of the order of the row's spread, and that is what
// "the shifted formula keeps accuracy" means. (The textbook E[x^2] - E[x]^2 has an error of order
// gamma_C mean^2, which for rows at 1000 +- 1 exceeds the variance itself.)
std::vector<Bounded> layer_norm_reference(uint32_t rows, uint32_t channels, float eps,
                                          const std::vector<float>& x, const std::vector<float>& gamma,
                                          const std::vector<float>& beta) {
  std::vector<Bounded> out(size_t(rows) * channels);
  const double u = kUnit, gc = gamma_n(channels), e = double(eps);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* row = &x[size_t(r) * channels];
    const double shift = row[0];
    double sum_d = 0, sum_abs_d = 0, sum_d2 = 0;
    for (uint32_t c = 0; c < channels; ++c) {
      const double d = double(row[c]) - shift;
      sum_d += d;
      sum_abs_d += std::abs(d);
      sum_d2 += d * d;
    }
    const double mean_d = sum_d / channels, mean = shift + mean_d;
    double variance = 0;
    for (uint32_t c = 0; c < channels; ++c) variance += (row[c] - mean) * (row[c] - mean);
    variance /= channels;
    const double inv = 1.0 / std::sqrt(variance + e);
    const double e_m = (gc + u) * sum_abs_d / channels + u * std::abs(mean_d);
    const double mean_d2 = sum_d2 / channels;
    const double e_2 = (gc + 3 * u) * mean_d2;
    const double e_v = e_2 + 2 * std::abs(mean_d) * e_m + u * mean_d * mean_d + u * mean_d2;
    const double rel = (e_v + u * (variance + e)) / (2 * (variance + e)) + 2 * u;
    for (uint32_t c = 0; c < channels; ++c) {
      const double d = double(row[c]) - shift, centred = double(row[c]) - mean;
      const double normalised = centred * inv * gamma[c];
      const double y = normalised + beta[c];
      const double e_c = u * std::abs(d) + e_m + u * std::abs(centred);
      const double bound = std::abs(gamma[c]) * inv * (e_c + std::abs(centred) * rel) +
                           u * (2 * std::abs(normalised) + std::abs(y));
      out[size_t(r) * channels + c] = {y, 2 * bound};
    }
  }
  return out;
}

// Rows of `center + noise * U(-1, 1)`, gamma in [0.5, 1.5], beta in [-0.5, 0.5]; with `residual`,
// a random O(1) residual added after the normalisation. With `gather`, the rows are Swin
// PatchMerging's 2x2 gather of a [n, h, w, gather_c] map of U(-1, 1), read in place: the same result,
// to the same bound, as the norm of the gathered tensor, padding zeros of odd sizes included.
struct LayerNormParams {
  uint32_t rows = 0, channels = 0;
  float eps = 1e-6f, center = 0, noise = 1;
  uint32_t seed = 0;
  bool residual = false;
  uint32_t max_groups_x = 0;  // a device allowing only this many workgroups along x (0: as is)
  std::optional<ops::PatchGather> gather;
  uint32_t gather_c = 0;
};

std::string describe(const LayerNormParams& p) {
  return std::to_string(p.rows) + " rows of " + std::to_string(p.channels) +
         (p.residual ? ", residual" : "") + (p.gather ? ", patch gather" : "");
}

class LayerNormChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  Outcome run_case(const LayerNormParams& p, const Path& path, const DeviceInfo& device_info) {
    DeviceInfo info = device_info;
    if (p.max_groups_x) info.max_workgroup_count = {p.max_groups_x, info.max_workgroup_count[1], 1};
    std::vector<float> x, rows_x;
    if (p.gather) {
      x = random_values(size_t(p.gather->n) * p.gather->h * p.gather->w * p.gather_c, p.seed, -1.0f, 1.0f);
      rows_x = patch_gather_reference(p.gather->n, p.gather->h, p.gather->w, p.gather_c, x);
    } else {
      x = random_values(size_t(p.rows) * p.channels, p.seed, -1.0f, 1.0f);
      for (auto& value : x) value = p.center + p.noise * value;
      rows_x = x;
    }
    const size_t count = size_t(p.rows) * p.channels;
    auto gamma = random_values(p.channels, p.seed + 1, 0.5f, 1.5f),
         beta = random_values(p.channels, p.seed + 2, -0.5f, 0.5f);
    auto r = random_values(count, p.seed + 3);
    auto input = make_buffer(x), affine = make_buffer(ops::pack_layer_norm_affine(gamma, beta)),
         output = make_buffer(count);
    std::optional<vk::BufferSlice> residual_buffer;
    if (p.residual) residual_buffer = make_buffer(r);
    Outcome outcome;
    outcome.dispatches = {
        ops::layer_norm(info, p.rows, p.channels, p.eps, input, affine, output, residual_buffer, p.gather)};
    outcome.shader = path.texel() ? vk::ShaderId::layer_norm_texel : vk::ShaderId::layer_norm;
    if (path.texel() && outcome.dispatches[0].shader != outcome.shader)
      return {.not_run = "the rows exceed maxTexelBufferElements"};
    outcome.flops = 8.0 * count;  // about: difference, square, two sums, scale, affine
    run(outcome.dispatches);
    outcome.actual = read(output, count);
    outcome.expected = layer_norm_reference(p.rows, p.channels, p.eps, rows_x, gamma, beta);
    if (p.residual)
      for (size_t i = 0; i < count; ++i) {
        // One more rounded addition.
        outcome.expected[i].value += r[i];
        outcome.expected[i].bound += kUnit * std::abs(outcome.expected[i].value);
      }
    return outcome;
  }
};

std::vector<Case<LayerNormParams>> layer_norm_cases() {
  std::vector<Case<LayerNormParams>> cases;
  auto add = [&](std::string name, LayerNormParams p) {
    const uint32_t part = p.gather ? p.channels / 4 : p.channels;
    std::vector<Path> paths = {kStorage};
    if (part % 4 == 0) paths.push_back(kTexel);
    cases.push_back({std::move(name), p, paths});
  };
  auto plain = [](uint32_t rows, uint32_t channels, float eps, float center, float noise, uint32_t seed,
                  bool residual = false) {
    return LayerNormParams{rows, channels, eps, center, noise, seed, residual};
  };
  add("ThreeChannels", plain(2 * 5 * 7, 3, 1e-6f, 0.0f, 1.0f, 400));
  add("FortyChannels", plain(2 * 13 * 11, 40, 1e-6f, 0.0f, 1.0f, 410));
  add("NinetySevenChannels", plain(2 * 5 * 7, 97, 1e-6f, 0.3f, 2.0f, 420));
  add("SevenHundredSixtyEightChannelsTokenRows", plain(37, 768, 1e-6f, 0.0f, 1.0f, 430));
  // 2 x 56 x 56 pixels: 6272 rows = 98 workgroups of 64 rows.
  add("ManyRowsSpanManyWorkgroups", plain(2 * 56 * 56, 40, 1e-6f, 0.0f, 1.0f, 440));
  // 1000 +- 1 and 1000 +- 0.01 (std / mean = 6e-4 and 6e-6). The second also makes eps a visible
  // share of the variance (0.01^2 / 3 = 3.3e-5 vs 1e-6), so it is honoured too.
  for (uint32_t channels : {3u, 40u, 97u, 768u}) {
    add("LargeMeanRelativeToSpreadC" + std::to_string(channels),
        plain(2 * 5 * 7, channels, 1e-6f, 1000.0f, 1.0f, 450 + channels));
    add("LargeMeanRelativeToSmallSpreadC" + std::to_string(channels),
        plain(2 * 5 * 7, channels, 1e-6f, 1000.0f, 0.01f, 460 + channels));
  }
  add("LargeNegativeMeanKeepsAccuracy", plain(37, 768, 1e-6f, -4096.0f, 0.5f, 470));
  // Rows with variance 0.01^2/3 = 3.3e-5: eps 1e-5 vs 1e-6 changes the output by about 13%, far
  // beyond the bound, so a kernel that dropped or misplaced eps fails here.
  add("EpsOneEMinus5IsAddedInsideTheSquareRoot", plain(2 * 5 * 7, 40, 1e-5f, 0.0f, 0.01f, 480));
  add("EpsOneEMinus6OnSmallSpread", plain(2 * 5 * 7, 97, 1e-6f, 0.0f, 0.01f, 481));
  add("EpsOneEMinus5OnTokenRows", plain(37, 768, 1e-5f, 0.0f, 1.0f, 482));
  add("ResidualIsAddedAfterTheNormalisation", plain(2 * 5 * 7, 97, 1e-5f, 0.0f, 1.0f, 485, true));
  add("ResidualOnLargeMeanTokenRows", plain(37, 768, 1e-6f, 1000.0f, 0.01f, 486, true));
  add("ResidualOnFortyChannels", plain(2 * 13 * 11, 40, 1e-6f, 0.0f, 1.0f, 496, true));
  add("LargeMeanTokenRows", plain(37, 768, 1e-6f, 1000.0f, 0.01f, 497));
  // 2 x 13 x 11 = 286 rows = 5 workgroups: with at most 2 along x they form a 2 x 3 grid.
  LayerNormParams spilled = plain(2 * 13 * 11, 40, 1e-6f, 0.0f, 1.0f, 495);
  spilled.max_groups_x = 2;
  add("DispatchSpilledIntoYStillCoversEveryRow", spilled);
  // Swin's PatchMerging norm reading its 2x2 gather in place.
  auto gathered = [](uint32_t n, uint32_t h, uint32_t w, uint32_t c, uint32_t seed) {
    LayerNormParams p{n * ((h + 1) / 2) * ((w + 1) / 2), 4 * c, 1e-5f, 0, 1, seed};
    p.gather = ops::PatchGather{n, h, w};
    p.gather_c = c;
    return p;
  };
  add("GatheredOddSizes", gathered(2, 7, 9, 12, 500));   // four-channel loads on the texel path
  add("GatheredEvenSizes", gathered(1, 8, 6, 24, 503));  // even: no padding
  add("GatheredPartsOfSix", gathered(2, 5, 3, 6, 506));  // a part of 6 channels: one channel per load
  add("GatheredOddSizesSeed509", gathered(2, 7, 9, 12, 509));
  return cases;
}

void add_LayerNorm_cases(CheckList& list) {
  add_cases<LayerNormChecks, LayerNormParams>(list, "LayerNorm", layer_norm_cases());
}

}  // namespace

void add_layer_norm_checks(CheckList& list) { add_LayerNorm_cases(list); }

}  // namespace vkvision::selftest
