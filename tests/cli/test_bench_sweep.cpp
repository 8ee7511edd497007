// `vkvision bench --sweep` parsing: the grid's order and every way a term can be wrong.
#include <gtest/gtest.h>

#include "cli/bench_sweep.h"

namespace vkvision::cli {
namespace {

TEST(BenchSweepTest, NoTermsIsTheBasePointAlone) {
  const auto grid = parse_sweep({}, {4, Precision::Fp16, KernelFamily::SharedTiled});
  ASSERT_EQ(grid.size(), 1u);
  EXPECT_EQ(grid[0].batch, 4u);
  EXPECT_EQ(grid[0].precision, Precision::Fp16);
  EXPECT_EQ(grid[0].kernels, KernelFamily::SharedTiled);
}

TEST(BenchSweepTest, GridNestsBatchThenPrecisionThenKernels) {
  const auto grid =
      parse_sweep({"kernels=register,tiled", "batch=1,8", "precision=fp32,fp16"}, {1, Precision::Fp32});
  ASSERT_EQ(grid.size(), 8u);
  EXPECT_EQ(grid[0].batch, 1u);
  EXPECT_EQ(grid[1].kernels, KernelFamily::SharedTiled);
  EXPECT_EQ(grid[2].precision, Precision::Fp16);
  EXPECT_EQ(grid[4].batch, 8u);
}

TEST(BenchSweepTest, KeysNotGivenKeepTheBase) {
  const auto grid = parse_sweep({"batch=2,3"}, {1, Precision::Fp16, KernelFamily::Timed});
  ASSERT_EQ(grid.size(), 2u);
  EXPECT_EQ(grid[1].batch, 3u);
  EXPECT_EQ(grid[1].precision, Precision::Fp16);
  EXPECT_EQ(grid[1].kernels, KernelFamily::Timed);
}

TEST(BenchSweepTest, BadTermsAreInputErrors) {
  for (const char* term : {"size=1", "batch", "batch=", "batch=0", "batch=1,,2", "batch=x", "batch=1.5",
                           "precision=fp8", "kernels=fast"})
    EXPECT_THROW(parse_sweep({term}, {}), InputError) << term;
  EXPECT_THROW(parse_sweep({"batch=1", "batch=2"}, {}), InputError);
}

}  // namespace
}  // namespace vkvision::cli
