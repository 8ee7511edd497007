#include <cmath>
#include <sstream>

#include "ops/error_bounds.h"
#include "ops/mean_pool.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using testing::Bounded;
using testing::DeviceTest;

class MeanPoolTest : public DeviceTest {
 protected:
  // Global average pool of NHWC [n, pixels, channels] -> [n, channels] against a double mean.
  // `info`: the DeviceInfo the dispatch is built for (a doctored copy in the groups_for test).
  void check(uint32_t n, uint32_t pixels, uint32_t channels, uint32_t seed, float low = -1.0f, float high = 1.0f,
             const DeviceInfo* info = nullptr) {
    std::ostringstream trace;
    trace << "N" << n << " pixels " << pixels << " C" << channels;
    SCOPED_TRACE(trace.str());
    auto x = random_values(size_t(n) * pixels * channels, seed, low, high);
    auto input = make_buffer(x), output = make_buffer(size_t(n) * channels);
    run({ops::mean_pool(info ? *info : device(), n, pixels, channels, input, output)});
    std::vector<Bounded> expected(size_t(n) * channels);
    for (uint32_t b = 0; b < n; ++b)
      for (uint32_t c = 0; c < channels; ++c) {
        double sum = 0, magnitude = 0;
        for (uint32_t p = 0; p < pixels; ++p) {
          const double value = x[(size_t(b) * pixels + p) * channels + c];
          sum += value;
          magnitude += std::abs(value);
        }
        // fp32 sum of `pixels` values (gamma_pixels * sum|x|), then one rounded division.
        const double mean = sum / pixels;
        expected[size_t(b) * channels + c] = {
            mean, testing::gamma_n(pixels) * magnitude / pixels + testing::kUnit * std::abs(mean)};
      }
    EXPECT_TRUE(testing::within_bounds(read(output, expected.size()), expected));
  }
};

TEST_F(MeanPoolTest, Batch2Of5x7With97Channels) { check(2, 5 * 7, 97, 500); }

TEST_F(MeanPoolTest, Batch3Of13x11With3Channels) { check(3, 13 * 11, 3, 510); }

TEST_F(MeanPoolTest, Batch2Of7x7With40ChannelsOfPositiveValues) {
  // All-positive values (post-GELU-like): no cancellation, so the bound is tight relative to the mean.
  check(2, 7 * 7, 40, 520, 0.0f, 4.0f);
}

TEST_F(MeanPoolTest, SinglePixelIsTheIdentity) {
  // One pixel: sum of one value divided by 1 is exact.
  const uint32_t n = 2, channels = 97;
  auto x = random_values(size_t(n) * channels, 530);
  auto input = make_buffer(x), output = make_buffer(x.size());
  run({ops::mean_pool(device(), n, 1, channels, input, output)});
  EXPECT_EQ(read(output, x.size()), x);
}

TEST_F(MeanPoolTest, ManyOutputsSpanManyWorkgroups) {
  // 5 x 768 outputs = 60 workgroups of 64, over 56 x 56 pixels each.
  check(5, 56 * 56, 768, 540);
}

TEST_F(MeanPoolTest, DispatchSpilledIntoYStillCoversEveryOutput) {
  // 3 x 97 = 291 outputs = 5 workgroups: with at most 2 along x they form a 2 x 3 grid.
  DeviceInfo small = device();
  small.max_workgroup_count = {2, device().max_workgroup_count[1], 1};
  check(3, 5 * 7, 97, 550, -1.0f, 1.0f, &small);
}

}  // namespace
}  // namespace vkvision
