#include <cmath>

#include "ops/elementwise.h"
#include "ops/error_bounds.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using testing::Bounded;
using testing::DeviceTest;

class ElementwiseTest : public DeviceTest {
 protected:
  std::vector<float> run_mode(ops::ElementwiseMode mode, uint32_t channels, const std::vector<float>& a,
                              const std::vector<float>& b, const DeviceInfo* info = nullptr) {
    auto a_buffer = make_buffer(a), b_buffer = make_buffer(b), output = make_buffer(a.size());
    auto dispatch = ops::elementwise(info ? *info : device(), mode, uint32_t(a.size()), channels, a_buffer, b_buffer, output);
    last_groups_ = dispatch.groups;
    run({dispatch});
    return read(output, a.size());
  }
  std::array<uint32_t, 3> last_groups_{};
};

// a * g + b in fp32: one rounded multiply and one rounded add (each within u/(1+u) relative), or a
// single fused one: within u (|a g| + |y|) of the exact value. The double reference's product is
// exact (24 x 24 bits) and its sum is within 2^-53 |y| of exact, which the bound also allows for.
double affine_error_bound(double product, double value) {
  return testing::kUnit * (std::abs(product) + std::abs(value)) + 0x1p-53 * std::abs(value);
}

// An NHWC activation of batch 2, 5x7 pixels, 97 channels: 6790 elements, 107 workgroups (last partial).
constexpr uint32_t kChannels = 97;
constexpr size_t kCount = size_t(2) * 5 * 7 * kChannels;

TEST_F(ElementwiseTest, GeluMatchesErfForm) {
  // [-6, 6] covers both tails; add exact zero, tiny values and large magnitudes.
  auto a = random_values(kCount, 600, -6.0f, 6.0f);
  const float specials[] = {0.0f, -0.0f, 1e-6f, -1e-6f, 0.5f, -0.5f, 3.0f, -3.0f, 10.0f, -10.0f, 30.0f, -30.0f};
  for (size_t i = 0; i < std::size(specials); ++i) a[i] = specials[i];
  auto y = run_mode(ops::ElementwiseMode::Gelu, kChannels, a, {0.0f});
  std::vector<Bounded> expected(a.size());
  // The input is exact, so only the approximation and its fp32 evaluation count (gelu_error_bound).
  for (size_t i = 0; i < a.size(); ++i) expected[i] = {testing::gelu_reference(a[i]), testing::gelu_error_bound(a[i])};
  EXPECT_TRUE(testing::within_bounds(y, expected));
}

TEST_F(ElementwiseTest, AddIsCorrectlyRounded) {
  auto a = random_values(kCount, 610), b = random_values(kCount, 611);
  auto y = run_mode(ops::ElementwiseMode::Add, kChannels, a, b);
  // Vulkan requires fp32 addition to be correctly rounded: bit-identical to the host's float sum.
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(y[i], a[i] + b[i]) << "index " << i;
}

TEST_F(ElementwiseTest, ChannelAffineScalesAndShiftsEachChannel) {
  auto a = random_values(kCount, 620), scale = random_values(kChannels, 621, 0.5f, 2.0f),
       shift = random_values(kChannels, 622);
  std::vector<float> b(scale);
  b.insert(b.end(), shift.begin(), shift.end());
  auto y = run_mode(ops::ElementwiseMode::ChannelAffine, kChannels, a, b);
  std::vector<Bounded> expected(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double product = double(a[i]) * scale[i % kChannels], value = product + shift[i % kChannels];
    expected[i] = {value, affine_error_bound(product, value)};
  }
  EXPECT_TRUE(testing::within_bounds(y, expected));
}

TEST_F(ElementwiseTest, ChannelAffineWithThreeChannels) {
  const uint32_t channels = 3;
  auto a = random_values(size_t(2) * 13 * 11 * channels, 630), b = random_values(2 * channels, 631);
  auto y = run_mode(ops::ElementwiseMode::ChannelAffine, channels, a, b);
  std::vector<Bounded> expected(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double product = double(a[i]) * b[i % channels], value = product + b[channels + i % channels];
    expected[i] = {value, affine_error_bound(product, value)};
  }
  EXPECT_TRUE(testing::within_bounds(y, expected));
}

TEST_F(ElementwiseTest, ReluIsExact) {
  auto a = random_values(kCount, 640);
  a[0] = 0.0f;
  a[1] = -0.0f;
  auto y = run_mode(ops::ElementwiseMode::Relu, kChannels, a, {0.0f});
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(y[i], std::max(a[i], 0.0f)) << "index " << i;
}

TEST_F(ElementwiseTest, ChannelGateScalesEachImagesChannelsByItsOwnVector) {
  // Batch 2 of 5x7 pixels: image n's channel c scales by gate[n, c]. One rounded product: exact
  // to the float product of the same operands.
  auto a = random_values(kCount, 660), gate = random_values(2 * kChannels, 661, 0.0f, 1.0f);
  auto a_buffer = make_buffer(a), gate_buffer = make_buffer(gate), output = make_buffer(kCount);
  run({ops::elementwise(device(), ops::ElementwiseMode::ChannelGate, uint32_t(kCount), kChannels, a_buffer, gate_buffer,
                        output, uint32_t(kCount / 2))});
  const auto y = read(output, kCount);
  for (size_t i = 0; i < kCount; ++i) ASSERT_EQ(y[i], a[i] * gate[(i / (kCount / 2)) * kChannels + i % kChannels]) << "index " << i;
}

TEST_F(ElementwiseTest, DispatchSpilledIntoYCoversEveryElement) {
  // Only 7 workgroups allowed along x: 107 workgroups become 7 x 16, the last 5 idle.
  DeviceInfo small = device();
  small.max_workgroup_count = {7, device().max_workgroup_count[1], 1};
  auto a = random_values(kCount, 650), b = random_values(kCount, 651);
  auto y = run_mode(ops::ElementwiseMode::Add, kChannels, a, b, &small);
  EXPECT_EQ(last_groups_[0], 7u);
  EXPECT_EQ(last_groups_[1], 16u);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(y[i], a[i] + b[i]) << "index " << i;
}

}  // namespace
}  // namespace vkvision
