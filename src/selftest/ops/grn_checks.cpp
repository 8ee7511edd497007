// ConvNeXt V2's GRN statistics (ops/grn.h): spatial_l2_norm then grn_scale, as op checks
// (selftest/op_check.h), against a double reference. The apply step is the GEMM's input scale
// (gemm_checks.cpp, InputScale* cases).
#include <cmath>
#include <string>

#include "ops/grn.h"
#include "selftest/ops/op_check_lists.h"

namespace vkvision::selftest {
namespace {

struct GrnParams {
  uint32_t n = 0, pixels = 0, channels = 0, seed = 0;
  float eps = 1e-6f;
};

std::string describe(const GrnParams& p) {
  return "N " + std::to_string(p.n) + ", pixels " + std::to_string(p.pixels) + ", C " +
         std::to_string(p.channels);
}

class GrnChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;
  // x [n, pixels, channels] (post-GELU-like values in [-0.2, 3)) and gamma ~ N(0, 1)-ish in [-1, 1).
  Outcome run_case(const GrnParams& p, const Path&, const DeviceInfo& info) {
    const uint32_t n = p.n, pixels = p.pixels, channels = p.channels;
    const auto x = random_values(size_t(n) * pixels * channels, p.seed, -0.2f, 3.0f);
    const auto gamma = random_values(channels, p.seed + 1);
    auto input = make_buffer(x), gamma_buffer = make_buffer(gamma), norms = make_buffer(size_t(n) * channels),
         scale = make_buffer(size_t(n) * channels);
    Outcome outcome;
    outcome.dispatches = {ops::spatial_l2_norm(info, n, pixels, channels, input, norms),
                          ops::grn_scale(info, n, channels, p.eps, norms, gamma_buffer, scale)};
    outcome.shader = vk::ShaderId::spatial_l2_norm;  // the first of the two
    outcome.flops = 2.0 * double(x.size());
    run(outcome.dispatches);
    outcome.expected.resize(size_t(n) * channels);
    for (uint32_t b = 0; b < n; ++b) {
      std::vector<double> norm(channels);
      double total = 0;
      for (uint32_t c = 0; c < channels; ++c) {
        double squares = 0;
        for (uint32_t q = 0; q < pixels; ++q) {
          const double value = x[(size_t(b) * pixels + q) * channels + c];
          squares += value * value;
        }
        norm[c] = std::sqrt(squares);
        total += norm[c];
      }
      // G: an fp32 sum of `pixels` non-negative squares (each rounded) has relative error
      // gamma_(pixels+1); the square root halves it and adds one rounding. The channel mean sums
      // `channels` such G (no cancellation): gamma_channels more, plus eps and the division, and
      // N = G / mean then carries both relative errors and one more rounding. s = 1 + gamma * N adds
      // two roundings of at most |s|.
      const double g_error = 0.5 * gamma_n(pixels + 1) + kUnit;
      const double mean_error = g_error + gamma_n(channels + 2);
      const double inverse = 1.0 / (total / channels + p.eps);
      for (uint32_t c = 0; c < channels; ++c) {
        const double normalised = norm[c] * inverse, value = 1.0 + gamma[c] * normalised;
        const double bound = std::abs(gamma[c]) * normalised * (g_error + mean_error + 2 * kUnit) +
                             2 * kUnit * std::abs(value);
        outcome.expected[size_t(b) * channels + c] = {value, bound};
      }
    }
    outcome.actual = read(scale, outcome.expected.size());
    return outcome;
  }
};

}  // namespace

void add_grn_checks(CheckList& list) {
  // clang-format off
  add_cases<GrnChecks, GrnParams>(list, "Grn", {
    {"TwoImagesOf7x7With18Channels", {2, 7 * 7, 18, 600}},
    {"ThreeImagesOf197PixelsWith30Channels", {3, 197, 30, 610}},
    // More channels than the scale kernel's 64 invocations (each sums several), not a multiple of 4.
    {"OneImageOf14x14With1030Channels", {1, 14 * 14, 1030, 620}},
    {"OnePixelImages", {4, 1, 67, 630}},
    // ConvNeXt V2 tiny's first stage at 224: 56 x 56 pixels of 384 channels.
    {"TinyFirstStage", {1, 56 * 56, 384, 640}},
  });
  // clang-format on
}

}  // namespace vkvision::selftest
