// The Swin kernels' dispatch geometry through the conformance harness (ops/conformance.h):
// PatchMerging's gather against an exact reference, and both kernels on a workgroup grid spilled into
// y (numerics of window attention: test_window_attention.cpp).
#include <string>

#include "ops/patch_merge_gather.h"
#include "ops/spatial_mlp.h"
#include "ops/window_attention.h"
#include "selftest/ops/op_check_lists.h"
#include "selftest/ops/patch_gather_reference.h"

namespace vkvision::selftest {
namespace {

struct SwinOpsParams {
  bool attention = false;  // window attention 1-D vs spilled, else the PatchMerging gather
  uint32_t n = 2, h = 13, w = 11, c = 3, seed = 0;
  uint32_t max_groups_x = 0;  // a device allowing only this many workgroups along x (0: as is)
  uint32_t groups_y = 0;      // the grid's y extent that must then result (0: not checked)
};

std::string describe(const SwinOpsParams& p) {
  return std::string(p.attention ? "attention" : "patch merge") + ", N " + std::to_string(p.n) + ", " +
         std::to_string(p.h) + "x" + std::to_string(p.w) + "x" + std::to_string(p.c);
}

class SwinOpsChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  // A copy of the device that allows only `max_x` workgroups along x, forcing a 2-D grid.
  static DeviceInfo small_x(DeviceInfo info, uint32_t max_x) {
    info.max_workgroup_count = {max_x, info.max_workgroup_count[1], 1};
    return info;
  }

  Outcome run_case(const SwinOpsParams& p, const Path& path, const DeviceInfo& info) {
    return p.attention ? run_attention(p, path, info) : run_gather(p, info);
  }

  // A pure gather: every output is a copied input or an exact zero, so equality is exact.
  Outcome run_gather(const SwinOpsParams& p, const DeviceInfo& device_info) {
    const DeviceInfo info = p.max_groups_x ? small_x(device_info, p.max_groups_x) : device_info;
    auto x = random_values(size_t(p.n) * p.h * p.w * p.c, p.seed);
    const size_t out_count = size_t(p.n) * ((p.h + 1) / 2) * ((p.w + 1) / 2) * 4 * p.c;
    auto input = make_buffer(x), output = make_buffer(out_count);
    Outcome outcome;
    outcome.dispatches = {ops::patch_merge_gather(info, p.n, p.h, p.w, p.c, input, output)};
    outcome.shader = vk::ShaderId::patch_merge_gather;
    if (p.groups_y) {
      require((outcome.dispatches[0].groups[1]) == (p.groups_y),
              "outcome.dispatches[0].groups[1] == p.groups_y");
    }
    run(outcome.dispatches);
    outcome.actual = read(output, out_count);
    outcome.expected = exactly(patch_gather_reference(p.n, p.h, p.w, p.c, x));
    return outcome;
  }

  // Each invocation computes the same query tokens whatever the grid shape, so the outputs of a
  // 1-D and a spilled 2-D dispatch must be bit-identical. 2 images x 4 windows x 3 heads x 7 groups
  // of 8 queries = 168 invocations = 3 workgroups: at most 2 along x gives a 2 x 2 grid.
  Outcome run_attention(const SwinOpsParams& p, const Path& path, const DeviceInfo& info) {
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
    Outcome outcome;
    outcome.shader = path.texel() ? vk::ShaderId::window_attention_texel : vk::ShaderId::window_attention;
    if (path.texel() && spilled.shader != outcome.shader)
      return {.not_run = "q/k/v exceed maxTexelBufferElements"};
    require((reference.groups[1]) == (1u), "reference.groups[1] == 1u");
    require((spilled.groups[0]) == (2u), "spilled.groups[0] == 2u");
    require((spilled.groups[1]) == (p.groups_y), "spilled.groups[1] == p.groups_y");
    outcome.dispatches = {spilled};
    run({reference, spilled});
    outcome.actual = read(two_d, out_count);
    outcome.expected = exactly(read(one_d, out_count));
    return outcome;
  }
};

// clang-format off
void add_SwinOps_cases(CheckList& list) {
  add_cases<SwinOpsChecks, SwinOpsParams>(list, "SwinOps", {
    {"PatchMergeGatherPadsOddSizesAndOrdersNeighboursLikeTorchvision", {.seed = 900}},
    // 2 x 7 x 6 x 12 = 1008 outputs = 16 workgroups: at most 5 along x gives a 5 x 4 grid.
    {"PatchMergeGatherSpilledIntoYStillCoversEveryOutput", {.seed = 910, .max_groups_x = 5, .groups_y = 4}},
    {"WindowAttentionSpilledIntoYMatchesTheOneDimensionalDispatch",
     {.attention = true, .seed = 920, .max_groups_x = 2, .groups_y = 2}, kOperandPaths},
});
}

// clang-format on

}  // namespace

void add_swin_ops_checks(CheckList& list) { add_SwinOps_cases(list); }

}  // namespace vkvision::selftest
