#include <cmath>
#include <optional>
#include <sstream>

#include "ops/error_bounds.h"
#include "ops/layer_norm.h"
#include "patch_gather_reference.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Bounded;
using testing::DeviceTest;
using testing::gamma_n;
using testing::kUnit;

// torch.nn.functional.layer_norm in double (biased variance, eps inside the square root), with a
// bound on the fp32 kernel's error from a first-order analysis of the shifted one-pass algorithm
// (shift = the row's first element, d_i = x_i - shift):
//   d_i:            u |d_i|
//   mean of d:      e_m  = (gamma_C + u) mean|d| + u |mean d|
//   mean of d^2:    e_2  = (gamma_C + 3u) mean(d^2)         (d rounded: 2u; products and sum: gamma_C)
//   variance:       e_v  = e_2 + 2 |mean d| e_m + u (mean d)^2 + u mean(d^2)
//   1/sqrt(v+eps):  rel  = (e_v + u (v + eps)) / (2 (v + eps)) + 2u   (inversesqrt: 2 ULP in Vulkan)
//   x_i - mean:     e_c  = u |d_i| + e_m + u |x_i - mean|
//   y_i = (x_i - mean) inv g + b:  |g| inv (e_c + |x_i - mean| rel) + u (2 |(x_i - mean) inv g| + |y_i|)
// doubled to cover second-order terms. Nothing in it grows with |mean| itself: centring about a
// sample makes every quantity the kernel rounds of the order of the row's spread, and that is what
// "the shifted formula keeps accuracy" means. (The textbook E[x^2] - E[x]^2 has an error of order
// gamma_C mean^2, which for rows at 1000 +- 1 exceeds the variance itself.)
std::vector<Bounded> layer_norm_reference(uint32_t rows, uint32_t channels, float eps, const std::vector<float>& x,
                                          const std::vector<float>& gamma, const std::vector<float>& beta) {
  std::vector<Bounded> out(size_t(rows) * channels);
  const double u = kUnit, gc = gamma_n(channels), e = double(eps);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* row = &x[size_t(r) * channels];
    const double shift = row[0];
    double sum_d = 0, sum_abs_d = 0, sum_d2 = 0;
    for (uint32_t c = 0; c < channels; ++c) {
      const double d = double(row[c]) - shift;
      sum_d += d;
      sum_abs_d += std::abs(d);
      sum_d2 += d * d;
    }
    const double mean_d = sum_d / channels, mean = shift + mean_d;
    double variance = 0;
    for (uint32_t c = 0; c < channels; ++c) variance += (row[c] - mean) * (row[c] - mean);
    variance /= channels;
    const double inv = 1.0 / std::sqrt(variance + e);
    const double e_m = (gc + u) * sum_abs_d / channels + u * std::abs(mean_d);
    const double mean_d2 = sum_d2 / channels;
    const double e_2 = (gc + 3 * u) * mean_d2;
    const double e_v = e_2 + 2 * std::abs(mean_d) * e_m + u * mean_d * mean_d + u * mean_d2;
    const double rel = (e_v + u * (variance + e)) / (2 * (variance + e)) + 2 * u;
    for (uint32_t c = 0; c < channels; ++c) {
      const double d = double(row[c]) - shift, centred = double(row[c]) - mean;
      const double normalised = centred * inv * gamma[c];
      const double y = normalised + beta[c];
      const double e_c = u * std::abs(d) + e_m + u * std::abs(centred);
      const double bound = std::abs(gamma[c]) * inv * (e_c + std::abs(centred) * rel) +
                           u * (2 * std::abs(normalised) + std::abs(y));
      out[size_t(r) * channels + c] = {y, 2 * bound};
    }
  }
  return out;
}

class LayerNormTest : public DeviceTest {
 protected:
  // Rows of `center + noise * U(-1, 1)`, gamma in [0.5, 1.5], beta in [-0.5, 0.5].
  // With `residual`, also adds a random O(1) residual after the normalisation.
  // `info`: the DeviceInfo the dispatch is built for (a doctored copy in the groups_for test).
  void check(uint32_t rows, uint32_t channels, float eps, float center, float noise, uint32_t seed,
             bool residual = false, const DeviceInfo* info = nullptr) {
    std::ostringstream trace;
    trace << rows << " rows x C " << channels << ", values " << center << " +- " << noise << ", eps " << eps
          << (residual ? ", residual" : "");
    SCOPED_TRACE(trace.str());
    auto x = random_values(size_t(rows) * channels, seed, -1.0f, 1.0f);
    for (auto& value : x) value = center + noise * value;
    auto gamma = random_values(channels, seed + 1, 0.5f, 1.5f), beta = random_values(channels, seed + 2, -0.5f, 0.5f);
    auto r = random_values(x.size(), seed + 3);
    auto input = make_buffer(x), affine = make_buffer(ops::pack_layer_norm_affine(gamma, beta)),
         output = make_buffer(x.size());
    std::optional<vk::BufferSlice> residual_buffer;
    if (residual) residual_buffer = make_buffer(r);
    run({ops::layer_norm(info ? *info : device(), rows, channels, eps, input, affine, output, residual_buffer)});
    auto expected = layer_norm_reference(rows, channels, eps, x, gamma, beta);
    if (residual)
      for (size_t i = 0; i < expected.size(); ++i) {
        // One more rounded addition.
        expected[i].value += r[i];
        expected[i].bound += kUnit * std::abs(expected[i].value);
      }
    EXPECT_TRUE(testing::within_bounds(read(output, x.size()), expected));
  }
};

TEST_F(LayerNormTest, ThreeChannels) { check(2 * 5 * 7, 3, 1e-6f, 0.0f, 1.0f, 400); }

TEST_F(LayerNormTest, FortyChannels) { check(2 * 13 * 11, 40, 1e-6f, 0.0f, 1.0f, 410); }

TEST_F(LayerNormTest, NinetySevenChannels) { check(2 * 5 * 7, 97, 1e-6f, 0.3f, 2.0f, 420); }

TEST_F(LayerNormTest, SevenHundredSixtyEightChannelsTokenRows) { check(37, 768, 1e-6f, 0.0f, 1.0f, 430); }

TEST_F(LayerNormTest, ManyRowsSpanManyWorkgroups) {
  // 2 x 56 x 56 pixels: 6272 rows = 98 workgroups of 64 rows.
  check(2 * 56 * 56, 40, 1e-6f, 0.0f, 1.0f, 440);
}

TEST_F(LayerNormTest, LargeMeanRelativeToSpreadKeepsAccuracy) {
  // 1000 +- 1 and 1000 +- 0.01 (std / mean = 6e-4 and 6e-6). The second also makes eps a visible
  // share of the variance (0.01^2 / 3 = 3.3e-5 vs 1e-6), so it is honoured too.
  for (uint32_t channels : {3u, 40u, 97u, 768u}) {
    check(2 * 5 * 7, channels, 1e-6f, 1000.0f, 1.0f, 450 + channels);
    check(2 * 5 * 7, channels, 1e-6f, 1000.0f, 0.01f, 460 + channels);
  }
}

TEST_F(LayerNormTest, LargeNegativeMeanKeepsAccuracy) { check(37, 768, 1e-6f, -4096.0f, 0.5f, 470); }

TEST_F(LayerNormTest, EpsOneEMinus5IsAddedInsideTheSquareRoot) {
  // Rows with variance 0.01^2/3 = 3.3e-5: eps 1e-5 vs 1e-6 changes the output by about 13%, far
  // beyond the bound, so a kernel that dropped or misplaced eps fails here.
  check(2 * 5 * 7, 40, 1e-5f, 0.0f, 0.01f, 480);
  check(2 * 5 * 7, 97, 1e-6f, 0.0f, 0.01f, 481);
  check(37, 768, 1e-5f, 0.0f, 1.0f, 482);
}

TEST_F(LayerNormTest, ResidualIsAddedAfterTheNormalisation) {
  check(2 * 5 * 7, 97, 1e-5f, 0.0f, 1.0f, 485, true);
  check(37, 768, 1e-6f, 1000.0f, 0.01f, 486, true);
}

TEST_F(LayerNormTest, StoragePathWithChannelsAMultipleOfFour) {
  // Where the device has texel buffers C % 4 == 0 takes the texel path; the storage path must
  // still hold for such C on devices without them.
  DeviceInfo storage_only = device();
  storage_only.texel_buffer_rgba32f = false;
  check(2 * 13 * 11, 40, 1e-6f, 0.0f, 1.0f, 496, true, &storage_only);
  check(37, 768, 1e-6f, 1000.0f, 0.01f, 497, false, &storage_only);
}

TEST_F(LayerNormTest, DispatchSpilledIntoYStillCoversEveryRow) {
  // 2 x 13 x 11 = 286 rows = 5 workgroups: with at most 2 along x they form a 2 x 3 grid.
  DeviceInfo small = device();
  small.max_workgroup_count = {2, device().max_workgroup_count[1], 1};
  check(2 * 13 * 11, 40, 1e-6f, 0.0f, 1.0f, 495, false, &small);
}

// Swin's PatchMerging norm reading its 2x2 gather in place: the same result, to the same bound, as
// the norm of the gathered tensor, padding zeros of odd sizes included in each row's statistics.
class GatheredLayerNormTest : public DeviceTest {
 protected:
  void check(uint32_t n, uint32_t h, uint32_t w, uint32_t c, uint32_t seed, const DeviceInfo& info) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c));
    const uint32_t rows = n * ((h + 1) / 2) * ((w + 1) / 2), channels = 4 * c;
    const auto x = random_values(size_t(n) * h * w * c, seed, -1.0f, 1.0f);
    const auto gamma = random_values(channels, seed + 1, 0.5f, 1.5f), beta = random_values(channels, seed + 2, -0.5f, 0.5f);
    auto input = make_buffer(x), affine = make_buffer(ops::pack_layer_norm_affine(gamma, beta)),
         output = make_buffer(size_t(rows) * channels);
    run({ops::layer_norm(info, rows, channels, 1e-5f, input, affine, output, std::nullopt, ops::PatchGather{n, h, w})});
    const auto expected =
        layer_norm_reference(rows, channels, 1e-5f, testing::patch_gather_reference(n, h, w, c, x), gamma, beta);
    EXPECT_TRUE(testing::within_bounds(read(output, size_t(rows) * channels), expected));
  }
};

TEST_F(GatheredLayerNormTest, OddSizesMatchTheNormOfTheGatheredMap) {
  check(2, 7, 9, 12, 500, device());  // four-channel loads where the device has texel buffers
  check(1, 8, 6, 24, 503, device());  // even: no padding
  check(2, 5, 3, 6, 506, device());   // a part of 6 channels: one channel per load
}

TEST_F(GatheredLayerNormTest, StoragePath) {
  DeviceInfo storage_only = device();
  storage_only.texel_buffer_rgba32f = false;
  check(2, 7, 9, 12, 509, storage_only);
}

TEST_F(GatheredLayerNormTest, RowsThatDoNotMatchTheGatherAreRefused) {
  auto buffer = make_buffer(std::vector<float>(64, 0.0f));
  EXPECT_THROW(ops::layer_norm(device(), 5, 16, 1e-5f, buffer, buffer, buffer, std::nullopt, ops::PatchGather{1, 4, 4}),
               vkvision::Error);
  EXPECT_THROW(ops::layer_norm(device(), 4, 18, 1e-5f, buffer, buffer, buffer, std::nullopt, ops::PatchGather{1, 4, 4}),
               vkvision::Error);
}

TEST_F(LayerNormTest, ConstantRowNormalisesToBeta) {
  // Zero variance: (x - mean) = 0 exactly, so the output is beta whatever eps is.
  const uint32_t channels = 97;
  std::vector<float> x(channels * 3, 7.25f);
  auto gamma = random_values(channels, 490, 0.5f, 1.5f), beta = random_values(channels, 491, -0.5f, 0.5f);
  auto input = make_buffer(x), affine = make_buffer(ops::pack_layer_norm_affine(gamma, beta)), output = make_buffer(x.size());
  run({ops::layer_norm(device(), 3, channels, 1e-6f, input, affine, output)});
  auto y = read(output, x.size());
  for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], beta[i % channels]) << "index " << i;
}

}  // namespace
}  // namespace vkvision
