// The Swin kernels' dispatch geometry: PatchMerging's gather against an exact reference, and both
// kernels on a workgroup grid spilled into y (numerics of window attention: test_window_attention.cpp).
#include "ops/patch_merge_gather.h"
#include "ops/window_attention.h"
#include "patch_gather_reference.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using testing::DeviceTest;

class SwinOpsTest : public DeviceTest {
 protected:
  // A copy of the device that allows only `max_x` workgroups along x, forcing a 2-D grid.
  static DeviceInfo small_x(uint32_t max_x) {
    DeviceInfo info = device();
    info.max_workgroup_count = {max_x, device().max_workgroup_count[1], 1};
    return info;
  }

  std::vector<float> run_gather(const DeviceInfo& info, uint32_t n, uint32_t h, uint32_t w, uint32_t c,
                                const std::vector<float>& x, std::array<uint32_t, 3>* groups = nullptr) {
    const size_t out_count = size_t(n) * ((h + 1) / 2) * ((w + 1) / 2) * 4 * c;
    auto input = make_buffer(x), output = make_buffer(out_count);
    auto dispatch = ops::patch_merge_gather(info, n, h, w, c, input, output);
    if (groups) *groups = dispatch.groups;
    run({dispatch});
    return read(output, out_count);
  }
};

TEST_F(SwinOpsTest, PatchMergeGatherPadsOddSizesAndOrdersNeighboursLikeTorchvision) {
  // A pure gather: every output is a copied input or an exact zero, so equality is exact.
  const uint32_t n = 2, h = 13, w = 11, c = 3;
  auto x = random_values(size_t(n) * h * w * c, 900);
  EXPECT_EQ(run_gather(device(), n, h, w, c, x), testing::patch_gather_reference(n, h, w, c, x));
}

TEST_F(SwinOpsTest, PatchMergeGatherSpilledIntoYStillCoversEveryOutput) {
  // 2 x 7 x 6 x 12 = 1008 outputs = 16 workgroups: at most 5 along x gives a 5 x 4 grid.
  const uint32_t n = 2, h = 13, w = 11, c = 3;
  auto x = random_values(size_t(n) * h * w * c, 910);
  std::array<uint32_t, 3> groups{};
  EXPECT_EQ(run_gather(small_x(5), n, h, w, c, x, &groups), testing::patch_gather_reference(n, h, w, c, x));
  EXPECT_EQ(groups[1], 4u);
}

TEST_F(SwinOpsTest, WindowAttentionSpilledIntoYMatchesTheOneDimensionalDispatch) {
  // Each invocation computes the same query tokens whatever the grid shape, so the outputs of a
  // 1-D and a spilled 2-D dispatch must be bit-identical. 2 images x 4 windows x 3 heads x 7 groups
  // of 8 queries = 168 invocations = 3 workgroups: at most 2 along x gives a 2 x 2 grid.
  const uint32_t heads = 3, head_dim = 8, c = heads * head_dim, window = 7, t = window * window;
  const ops::WindowAttentionShape shape{.n = 2, .h = 14, .w = 14, .c = c, .heads = heads, .window = window, .shift = 3};
  auto qkv = make_buffer(random_values(size_t(2) * 14 * 14 * 3 * c, 920)), qkv_bias = make_buffer(random_values(3 * c, 921)),
       position_bias = make_buffer(random_values(size_t(heads) * t * t, 922)),
       head_scale = make_buffer(std::vector<float>(heads, 0.35f));
  const size_t out_count = size_t(2) * 14 * 14 * c;
  auto one_d = make_buffer(out_count), two_d = make_buffer(out_count);
  auto reference = ops::window_attention(device(), shape, qkv, qkv_bias, position_bias, head_scale, one_d);
  auto spilled = ops::window_attention(small_x(2), shape, qkv, qkv_bias, position_bias, head_scale, two_d);
  ASSERT_EQ(reference.groups[1], 1u);
  EXPECT_EQ(spilled.groups[0], 2u);
  EXPECT_EQ(spilled.groups[1], 2u);
  run({reference, spilled});
  EXPECT_EQ(read(two_d, out_count), read(one_d, out_count));
}

}  // namespace
}  // namespace vkvision
