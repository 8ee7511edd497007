// Global average pooling (ops::mean_pool, one kernel) through the conformance harness (ops/conformance.h).
#include <cmath>
#include <string>

#include "ops/mean_pool.h"
#include "selftest/ops/op_check_lists.h"

namespace vkvision::selftest {
namespace {

struct MeanPoolParams {
  uint32_t n = 0, pixels = 0, channels = 0, seed = 0;
  float low = -1.0f, high = 1.0f;
  uint32_t max_groups_x = 0;  // a device allowing only this many workgroups along x (0: as is)
};

std::string describe(const MeanPoolParams& p) {
  return "N " + std::to_string(p.n) + ", pixels " + std::to_string(p.pixels) + ", C " +
         std::to_string(p.channels);
}

class MeanPoolChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  // Global average pool of NHWC [n, pixels, channels] -> [n, channels] against a double mean.
  Outcome run_case(const MeanPoolParams& p, const Path&, const DeviceInfo& device_info) {
    DeviceInfo info = device_info;
    if (p.max_groups_x) info.max_workgroup_count = {p.max_groups_x, info.max_workgroup_count[1], 1};
    const uint32_t n = p.n, pixels = p.pixels, channels = p.channels;
    auto x = random_values(size_t(n) * pixels * channels, p.seed, p.low, p.high);
    auto input = make_buffer(x), output = make_buffer(size_t(n) * channels);
    Outcome outcome;
    outcome.dispatches = {ops::mean_pool(info, n, pixels, channels, input, output)};
    outcome.shader = vk::ShaderId::mean_pool;
    outcome.flops = double(x.size());
    run(outcome.dispatches);
    outcome.expected.resize(size_t(n) * channels);
    for (uint32_t b = 0; b < n; ++b)
      for (uint32_t c = 0; c < channels; ++c) {
        double sum = 0, magnitude = 0;
        for (uint32_t q = 0; q < pixels; ++q) {
          const double value = x[(size_t(b) * pixels + q) * channels + c];
          sum += value;
          magnitude += std::abs(value);
        }
        // fp32 sum of `pixels` values (gamma_pixels * sum|x|), then one rounded division. One pixel:
        // the sum of one value divided by 1 is exact, and the bound is 0.
        const double mean = sum / pixels;
        outcome.expected[size_t(b) * channels + c] = {
            mean, pixels == 1 ? 0.0 : gamma_n(pixels) * magnitude / pixels + kUnit * std::abs(mean)};
      }
    outcome.actual = read(output, outcome.expected.size());
    return outcome;
  }
};

// clang-format off
void add_MeanPool_cases(CheckList& list) {
  add_cases<MeanPoolChecks, MeanPoolParams>(list, "MeanPool", {
    {"Batch2Of5x7With97Channels", {2, 5 * 7, 97, 500}},
    {"Batch3Of13x11With3Channels", {3, 13 * 11, 3, 510}},
    // All-positive values (post-GELU-like): no cancellation, so the bound is tight relative to the mean.
    {"Batch2Of7x7With40ChannelsOfPositiveValues", {2, 7 * 7, 40, 520, 0.0f, 4.0f}},
    // One pixel: exactly the input.
    {"SinglePixelIsTheIdentity", {2, 1, 97, 530}},
    // 5 x 768 outputs = 60 workgroups of 64, over 56 x 56 pixels each.
    {"ManyOutputsSpanManyWorkgroups", {5, 56 * 56, 768, 540}},
    // 3 x 97 = 291 outputs = 5 workgroups: with at most 2 along x they form a 2 x 3 grid.
    {"DispatchSpilledIntoYStillCoversEveryOutput", {3, 5 * 7, 97, 550, -1.0f, 1.0f, 2}},
});
}

// clang-format on

}  // namespace

void add_mean_pool_checks(CheckList& list) { add_MeanPool_cases(list); }

}  // namespace vkvision::selftest
