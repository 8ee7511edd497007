// Reference arithmetic and rounding-error bounds shared by the op checks (vkvision selftest and the
// op tests).
//
// Every reference is computed in double from the same fp32 inputs the kernel gets, so the only
// difference between kernel and reference is the kernel's fp32 rounding (and the GELU
// approximation). Each test compares element-wise against a bound derived from a standard error
// analysis (Higham, "Accuracy and Stability of Numerical Algorithms", ch. 3): a kernel that is off
// by one term, one row or one channel lands far outside it, while correct fp32 arithmetic, in any
// summation order and with or without fused multiply-adds, always lands inside.
#pragma once
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "ops/activation.h"

namespace vkvision::selftest {

// Unit roundoff of fp32 with round-to-nearest (Vulkan requires correctly rounded +, -, *).
constexpr double kUnit = 0x1p-24;

// gamma_n = n u / (1 - n u): |fl(sum of n products) - exact| <= gamma_n * sum of |products|, for
// any order of the n - 1 additions, with or without FMA (Higham, eq. 3.5).
inline double gamma_n(double n) { return n * kUnit / (1.0 - n * kUnit); }

// PyTorch's exact GELU, the reference for the kernels' erf approximation.
inline double gelu_reference(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

// Bound on |kernel gelu(x) - exact gelu(x)| for an exactly known x. gelu(x) = 0.5 x (1 + erf(x/sqrt2));
// the erf the shader uses (Abramowitz & Stegun 7.1.26) is within 1.5e-7 of erf; evaluating it in fp32
// adds about ten roundings of O(1) intermediates (the division, the polynomial, exp at the 3 + 2|x|
// ULP the Vulkan spec allows, times 1 - |erf| <= 1), i.e. <= 6e-7; one more rounding of the product.
// 0.5 |x| (1.5e-7 + 6e-7) + u |x| < 4.4e-7 |x|; 5e-7 |x| keeps the bound round.
inline double gelu_error_bound(double x) { return 5e-7 * std::abs(x); }

// max |gelu'(x)| = Phi(sqrt2) + sqrt2 phi(sqrt2) = 1.1289: how much a pre-activation error can grow.
constexpr double kGeluMaxSlope = 1.13;

// PyTorch's nn.SiLU, x * sigmoid(x), the reference for the kernels' x / (1 + exp(-x)).
inline double silu_reference(double x) { return x / (1.0 + std::exp(-x)); }

// Bound on |kernel silu(x) - exact silu(x)| for an exactly known x: exp(-x) within (3 + 2|x|) ULP
// (the Vulkan spec's exp), i.e. 2 (3 + 2|x|) u relative, carried into 1 + exp(-x) at most unchanged;
// one rounding of the sum (u) and the division at the spec's 2.5 ULP (5 u): relative to |silu(x)|,
// (6 + 4|x| + u + 5) u < (12 + 4|x|) u.
inline double silu_error_bound(double x) {
  return (12.0 + 4.0 * std::abs(x)) * kUnit * std::abs(silu_reference(x));
}

// max |silu'(x)| = 1.0998 (at x = 2.3994): how much a pre-activation error can grow.
constexpr double kSiluMaxSlope = 1.1;

// A reference value and the bound on the kernel's distance from it.
struct Bounded {
  double value = 0;
  double bound = 0;
};

// Applies an epilogue activation to an exact pre-activation value whose fp32 counterpart in the
// kernel is within pre_bound of it. ReLU is 1-Lipschitz and exact; GELU is 1.13-Lipschitz and
// approximated (gelu_error_bound); SiLU is 1.1-Lipschitz and rounded (silu_error_bound).
inline Bounded activate(double pre, double pre_bound, ops::Activation activation) {
  switch (activation) {
    case ops::Activation::Relu: return {std::max(pre, 0.0), pre_bound};
    case ops::Activation::Gelu:
      return {gelu_reference(pre), kGeluMaxSlope * pre_bound + gelu_error_bound(pre)};
    case ops::Activation::Silu:
      return {silu_reference(pre), kSiluMaxSlope * pre_bound + silu_error_bound(pre)};
    default: return {pre, pre_bound};
  }
}

// Passes when |actual[i] - expected[i].value| <= expected[i].bound for every i (NaN fails). On
// failure, says how many elements are out and shows the worst one, so a wrong kernel (errors far
// beyond the bound, often at a pattern of indices) is told apart from a borderline one.
// What within_bounds found: ok, and a one-line account (the worst element and its bound).
struct BoundsResult {
  bool ok = false;
  std::string message;
  explicit operator bool() const { return ok; }
};

inline BoundsResult within_bounds(const std::vector<float>& actual, const std::vector<Bounded>& expected) {
  if (actual.size() != expected.size())
    return {false,
            "size " + std::to_string(actual.size()) + " != expected size " + std::to_string(expected.size())};
  size_t failures = 0, worst = 0, first = actual.size();
  double worst_ratio = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double error = std::abs(double(actual[i]) - expected[i].value);
    const bool ok = error <= expected[i].bound;  // false for NaN
    const double ratio = expected[i].bound > 0 ? error / expected[i].bound : (error > 0 ? INFINITY : 0.0);
    if (!ok) {
      ++failures;
      if (first == actual.size()) first = i;
    }
    if (!ok && std::isnan(error)) {
      worst = i;
      worst_ratio = NAN;
    } else if (!std::isnan(worst_ratio) && ratio > worst_ratio) {
      worst = i;
      worst_ratio = ratio;
    }
  }
  auto describe = [&](std::ostringstream& out, size_t i) {
    out << "index " << i << ": got " << actual[i] << ", expected " << expected[i].value << " (|error| "
        << std::abs(double(actual[i]) - expected[i].value) << ", bound " << expected[i].bound << ")";
  };
  std::ostringstream message;
  message.precision(9);
  if (failures == 0) {
    message << "all " << actual.size() << " within bound; worst error/bound " << worst_ratio;
    return {true, message.str()};
  }
  message << failures << " of " << actual.size() << " elements outside the bound; worst error/bound "
          << worst_ratio << " at ";
  describe(message, worst);
  message << "; first failure at ";
  describe(message, first);
  return {false, message.str()};
}

}  // namespace vkvision::selftest
