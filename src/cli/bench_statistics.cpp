#include "cli/bench_statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vkvision::cli {

namespace {
// Nearest rank (the definition without interpolation): every reported value is a measured one.
double nearest_rank(const std::vector<double>& sorted, double percent) {
  const auto rank = static_cast<size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}
}  // namespace

LatencyStatistics summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const double n = static_cast<double>(samples.size());
  LatencyStatistics result;
  result.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / n;
  double squares = 0;
  for (double sample : samples) squares += (sample - result.mean) * (sample - result.mean);
  result.stddev = samples.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  result.min = samples.front();
  result.max = samples.back();
  result.p50 = nearest_rank(samples, 50);
  result.p90 = nearest_rank(samples, 90);
  result.p99 = nearest_rank(samples, 99);
  return result;
}

}  // namespace vkvision::cli
