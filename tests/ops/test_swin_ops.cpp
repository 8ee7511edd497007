// The Swin kernels' dispatch geometry through the conformance harness (ops/conformance.h):
// PatchMerging's gather against an exact reference, and both kernels on a workgroup grid spilled into
// y (numerics of window attention: test_window_attention.cpp).
#include "ops/conformance.h"
#include "ops/patch_merge_gather.h"
#include "ops/spatial_mlp.h"
#include "ops/window_attention.h"
#include "patch_gather_reference.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using testing::Path;

struct SwinOpsParams {
  bool attention = false;  // window attention 1-D vs spilled, else the PatchMerging gather
  uint32_t n = 2, h = 13, w = 11, c = 3, seed = 0;
  uint32_t max_groups_x = 0;  // a device allowing only this many workgroups along x (0: as is)
  uint32_t groups_y = 0;      // the grid's y extent that must then result (0: not checked)
};

class SwinOpsTest : public testing::ConformanceTest<SwinOpsParams> {
 protected:
  // A copy of the device that allows only `max_x` workgroups along x, forcing a 2-D grid.
  static DeviceInfo small_x(DeviceInfo info, uint32_t max_x) {
    info.max_workgroup_count = {max_x, info.max_workgroup_count[1], 1};
    return info;
  }

  testing::Outcome run_case(const SwinOpsParams& p, const Path& path, const DeviceInfo& info) override {
    return p.attention ? run_attention(p, path, info) : run_gather(p, info);
  }

  // A pure gather: every output is a copied input or an exact zero, so equality is exact.
  testing::Outcome run_gather(const SwinOpsParams& p, const DeviceInfo& device_info) {
    const DeviceInfo info = p.max_groups_x ? small_x(device_info, p.max_groups_x) : device_info;
    auto x = random_values(size_t(p.n) * p.h * p.w * p.c, p.seed);
    const size_t out_count = size_t(p.n) * ((p.h + 1) / 2) * ((p.w + 1) / 2) * 4 * p.c;
    auto input = make_buffer(x), output = make_buffer(out_count);
    testing::Outcome outcome;
    outcome.dispatches = {ops::patch_merge_gather(info, p.n, p.h, p.w, p.c, input, output)};
    outcome.shader = vk::ShaderId::patch_merge_gather;
    if (p.groups_y) {
      EXPECT_EQ(outcome.dispatches[0].groups[1], p.groups_y);
    }
    run(outcome.dispatches);
    outcome.actual = read(output, out_count);
    outcome.expected = testing::exactly(testing::patch_gather_reference(p.n, p.h, p.w, p.c, x));
    return outcome;
  }

  // Each invocation computes the same query tokens whatever the grid shape, so the outputs of a
  // 1-D and a spilled 2-D dispatch must be bit-identical. 2 images x 4 windows x 3 heads x 7 groups
  // of 8 queries = 168 invocations = 3 workgroups: at most 2 along x gives a 2 x 2 grid.
  testing::Outcome run_attention(const SwinOpsParams& p, const Path& path, const DeviceInfo& info) {
    const uint32_t heads = 3, head_dim = 8, c = heads * head_dim, window = 7, t = window * window;
    const ops::WindowAttentionShape shape{
        .n = 2, .h = 14, .w = 14, .c = c, .heads = heads, .window = window, .shift = 3};
    auto qkv = make_buffer(random_values(size_t(2) * 14 * 14 * 3 * c, p.seed)),
         qkv_bias = make_buffer(random_values(3 * c, p.seed + 1)),
         position_bias = make_buffer(random_values(size_t(heads) * t * t, p.seed + 2)),
         head_scale = make_buffer(std::vector<float>(heads, 0.35f));
    const size_t out_count = size_t(2) * 14 * 14 * c;
    auto one_d = make_buffer(out_count), two_d = make_buffer(out_count);
    auto reference = ops::window_attention(info, shape, qkv, qkv_bias, position_bias, head_scale, one_d);
    auto spilled = ops::window_attention(small_x(info, p.max_groups_x), shape, qkv, qkv_bias, position_bias,
                                         head_scale, two_d);
    testing::Outcome outcome;
    outcome.shader = path.texel() ? vk::ShaderId::window_attention_texel : vk::ShaderId::window_attention;
    if (path.texel() && spilled.shader != outcome.shader)
      return {.not_run = "q/k/v exceed maxTexelBufferElements"};
    EXPECT_EQ(reference.groups[1], 1u);
    EXPECT_EQ(spilled.groups[0], 2u);
    EXPECT_EQ(spilled.groups[1], p.groups_y);
    outcome.dispatches = {spilled};
    run({reference, spilled});
    outcome.actual = read(two_d, out_count);
    outcome.expected = testing::exactly(read(one_d, out_count));
    return outcome;
  }
};

TEST_P(SwinOpsTest, Conformance) { conform(); }

// clang-format off
INSTANTIATE_TEST_SUITE_P(, SwinOpsTest, ::testing::ValuesIn(testing::on_paths<SwinOpsParams>({
    {"PatchMergeGatherPadsOddSizesAndOrdersNeighboursLikeTorchvision", {.seed = 900}},
    // 2 x 7 x 6 x 12 = 1008 outputs = 16 workgroups: at most 5 along x gives a 5 x 4 grid.
    {"PatchMergeGatherSpilledIntoYStillCoversEveryOutput", {.seed = 910, .max_groups_x = 5, .groups_y = 4}},
    {"WindowAttentionSpilledIntoYMatchesTheOneDimensionalDispatch",
     {.attention = true, .seed = 920, .max_groups_x = 2, .groups_y = 2}, testing::kOperandPaths},
})), testing::CaseName{});

// clang-format on

}  // namespace
}  // namespace vkvision
