// The op checks' bounds (selftest/error_bounds.h) for gtest: within_bounds as an AssertionResult.
#pragma once
#include <gtest/gtest.h>

#include "selftest/error_bounds.h"

namespace vkvision::testing {

using namespace selftest;  // NOLINT: testing::gamma_n, testing::Bounded, ... as before

inline ::testing::AssertionResult within_bounds(const std::vector<float>& actual,
                                                const std::vector<Bounded>& expected) {
  const BoundsResult result = selftest::within_bounds(actual, expected);
  return (result.ok ? ::testing::AssertionSuccess() : ::testing::AssertionFailure()) << result.message;
}

}  // namespace vkvision::testing
