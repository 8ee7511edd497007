// The logit budgets of a whole network against PyTorch's fp32 logits: the family fixtures of
// `vkvision selftest` and the model tests.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace vkvision::selftest {

// fp32: 2e-4 absolute + 2e-4 relative, derived in tests/models/test_convnext.cpp (the other families'
// tests say why it holds for them).
constexpr double kFp32LogitTolerance = 2e-4;

// Precision::Fp16. Only storage changes: each weight is rounded to half once (relative error at most
// 2^-11 = 4.9e-4, roughly uniform, so RMS 2^-11 / sqrt(3) = 2.8e-4), and every product and sum stays
// fp32. A layer output is a sum of products of independent signs, so rounding its weights perturbs it
// by about the same 2.8e-4 of its RMS. The fixtures' paths have about 25 weighted layers (ConvNeXt:
// stem, 7 blocks x 3, 3 downsamples, head; Swin: 5 blocks x 4, embedding, 2 merges, head;
// InceptionNeXt similar); the residual streams add the layers' independent perturbations like a
// random walk, and LayerNorm rescales without amplifying relative error: sqrt(25) x 2.8e-4 = 1.4e-3
// RMS of the logit scale (the fixtures' logits are O(1), RMS 1 to 2). 5e-3 absolute + 5e-3 relative
// is 3.5 such standard deviations, on top of the fp32 budget. A kernel that read its halves as
// floats, or any layout error, moves these logits by O(1).
constexpr double kHalfWeightsLogitTolerance = 5e-3;  // absolute and relative

// The worst |actual - expected| / (atol + rtol |expected|) over the arrays and where it is (<= 1:
// within tolerance). A NaN, or arrays of different lengths, is an infinite ratio: never within.
struct WorstTolerance {
  double ratio = 0;
  size_t index = 0;
};
inline WorstTolerance worst_tolerance(const std::vector<float>& actual, const std::vector<float>& expected,
                                      double atol, double rtol) {
  constexpr double infinite = std::numeric_limits<double>::infinity();
  if (actual.size() != expected.size()) return {infinite, 0};
  WorstTolerance worst;
  for (size_t i = 0; i < actual.size(); ++i) {
    double ratio = std::abs(double(actual[i]) - expected[i]) / (atol + rtol * std::abs(double(expected[i])));
    if (std::isnan(ratio)) ratio = infinite;
    if (ratio > worst.ratio) worst = {ratio, i};
  }
  return worst;
}

}  // namespace vkvision::selftest
