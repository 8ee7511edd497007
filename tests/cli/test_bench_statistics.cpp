// The bench statistics (docs/BENCH_FORMAT.md): nearest-rank percentiles, the sample standard
// deviation, and MLPerf's single-stream stopping rule.
#include <gtest/gtest.h>

#include <cmath>

#include "cli/bench_statistics.h"

namespace vkvision::cli {
namespace {

TEST(BenchStatisticsTest, PercentilesAreNearestRankOfTheSortedSamples) {
  std::vector<double> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(i);  // 1..100, unsorted
  const LatencyStatistics stats = summarize(samples);
  EXPECT_EQ(stats.p50, 50);
  EXPECT_EQ(stats.p90, 90);
  EXPECT_EQ(stats.p99, 99);
  EXPECT_EQ(stats.min, 1);
  EXPECT_EQ(stats.max, 100);
  EXPECT_DOUBLE_EQ(stats.mean, 50.5);
}

TEST(BenchStatisticsTest, FewSamplesRoundTheRankUp) {
  const LatencyStatistics stats = summarize({3, 1, 2});
  EXPECT_EQ(stats.p50, 2);  // rank ceil(1.5) = 2
  EXPECT_EQ(stats.p90, 3);  // rank ceil(2.7) = 3
  EXPECT_EQ(stats.p99, 3);
  EXPECT_DOUBLE_EQ(stats.stddev, 1.0);  // sample (n - 1) deviation of 1, 2, 3
}

TEST(BenchStatisticsTest, OneSampleHasNoSpread) {
  const LatencyStatistics stats = summarize({7});
  EXPECT_EQ(stats.p50, 7);
  EXPECT_EQ(stats.p99, 7);
  EXPECT_EQ(stats.stddev, 0);
}

TEST(BenchStatisticsTest, SingleStreamRuleNeedsBothIterationsAndSeconds) {
  EXPECT_TRUE(keep_running(2, 5.0, 3, 1.0));   // too few iterations
  EXPECT_TRUE(keep_running(10, 0.5, 3, 1.0));  // too short
  EXPECT_FALSE(keep_running(3, 1.0, 3, 1.0));
  EXPECT_FALSE(keep_running(3, 0.0, 3, 0.0));  // --min-seconds 0: iterations alone
}

}  // namespace
}  // namespace vkvision::cli
