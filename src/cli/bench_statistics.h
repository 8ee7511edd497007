// Latency statistics of `vkvision bench` (docs/BENCH_FORMAT.md): the MLPerf single-stream stopping
// rule and the summary of its timings. Pure functions of their arguments.
#pragma once
#include <cstdint>
#include <vector>

namespace vkvision::cli {

struct LatencyStatistics {
  double mean = 0, stddev = 0, min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};

// Mean, sample standard deviation (n - 1; 0 for one sample), min, max, and nearest-rank percentiles:
// the value at rank ceil(p / 100 * n) of the sorted samples. Samples must not be empty. Throws nothing
// but std::bad_alloc.
LatencyStatistics summarize(std::vector<double> samples);

// MLPerf's single-stream rule: keep running until at least `min_iterations` AND at least
// `min_seconds` have passed.
inline bool keep_running(uint64_t iterations, double seconds, uint64_t min_iterations, double min_seconds) {
  return iterations < min_iterations || seconds < min_seconds;
}

}  // namespace vkvision::cli
