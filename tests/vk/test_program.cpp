#include "ops/elementwise.h"
#include "support/device_test.h"
#include "vk/check.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::DeviceTest;

class DispatchProgramTest : public DeviceTest {
 protected:
  // y = a + b over `count` floats (elementwise.comp reads bindings 0, 1 and writes binding 2).
  vk::Dispatch add(const vk::BufferSlice& a, const vk::BufferSlice& b, const vk::BufferSlice& y,
                   uint32_t count, int layer = -1) {
    auto dispatch = ops::elementwise(device(), ops::ElementwiseMode::Add, count, count, a, b, y);
    dispatch.layer = layer;
    return dispatch;
  }
  size_t barriers(std::vector<vk::Dispatch> dispatches) {
    return vk::DispatchProgram(context(), pipelines(), std::move(dispatches)).barrier_count();
  }
};

constexpr uint32_t kCount = 97;

TEST_F(DispatchProgramTest, BarrierBetweenAWriteAndALaterRead) {
  auto a = random_values(kCount, 800), b = random_values(kCount, 801);
  auto a_buffer = make_buffer(a), b_buffer = make_buffer(b), t = make_buffer(kCount), y = make_buffer(kCount);
  std::vector<vk::Dispatch> dispatches{add(a_buffer, b_buffer, t, kCount), add(t, b_buffer, y, kCount)};
  EXPECT_EQ(barriers(dispatches), 1u);
  // And the barrier does its job: the second dispatch sees the first's output.
  run(dispatches);
  auto result = read(y, kCount);
  for (uint32_t i = 0; i < kCount; ++i) ASSERT_EQ(result[i], (a[i] + b[i]) + b[i]) << "index " << i;
}

TEST_F(DispatchProgramTest, NoBarrierBetweenIndependentDispatches) {
  auto a = random_values(kCount, 810), b = random_values(kCount, 811);
  auto a_buffer = make_buffer(a), b_buffer = make_buffer(b), y1 = make_buffer(kCount),
       y2 = make_buffer(kCount);
  // Both read a and b (reads never conflict) and write different buffers.
  std::vector<vk::Dispatch> dispatches{add(a_buffer, b_buffer, y1, kCount),
                                       add(b_buffer, a_buffer, y2, kCount)};
  EXPECT_EQ(barriers(dispatches), 0u);
  run(dispatches);
  auto r1 = read(y1, kCount), r2 = read(y2, kCount);
  for (uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(r1[i], a[i] + b[i]);
    ASSERT_EQ(r2[i], b[i] + a[i]);
  }
}

TEST_F(DispatchProgramTest, BarrierBeforeOverwritingWhatAnEarlierDispatchReads) {
  // Write after read: the second dispatch overwrites `a`, which the first reads.
  auto a = make_buffer(kCount), b = make_buffer(kCount), y = make_buffer(kCount);
  EXPECT_EQ(barriers({add(a, b, y, kCount), add(b, b, a, kCount)}), 1u);
}

TEST_F(DispatchProgramTest, BarrierBetweenTwoWritesOfTheSameBuffer) {
  auto a = make_buffer(kCount), b = make_buffer(kCount), y = make_buffer(kCount);
  EXPECT_EQ(barriers({add(a, b, y, kCount), add(b, a, y, kCount)}), 1u);
}

TEST_F(DispatchProgramTest, HazardsAreTrackedPerRangeOfASharedBuffer) {
  // Slices of one arena: disjoint ranges are independent, overlapping ranges are not. Every slice
  // starts at a multiple of the binding alignment (up to 256 bytes on some devices), as descriptors
  // require; each tensor spans two alignment units.
  vk::Arena arena(context_ptr(), 16384, vk::MemoryUse::DeviceLocal, "ranges");
  const VkDeviceSize unit = arena.alignment();
  const uint32_t count = uint32_t(2 * unit / 4);
  auto a = arena.allocate(count * 4, "a"), b = arena.allocate(count * 4, "b"),
       y1 = arena.allocate(count * 4, "y1"), y2 = arena.allocate(count * 4, "y2");
  EXPECT_EQ(barriers({add(a, b, y1, count), add(a, b, y2, count)}), 0u);
  // Reading from one unit into y1 overlaps what the first dispatch wrote there.
  auto overlap = arena.slice(y1.offset + unit, count * 4);
  EXPECT_EQ(barriers({add(a, b, y1, count), add(overlap, b, y2, count)}), 1u);
  // Ranges that only touch do not overlap: the first writes y1's first unit, the second reads the
  // 16 bytes right after it.
  auto head = arena.slice(y1.offset, unit), after_head = arena.slice(y1.offset + unit, 16);
  EXPECT_EQ(barriers({add(a, b, head, uint32_t(unit / 4)), add(after_head, after_head, y2, 4)}), 0u);
  // ... and one more byte would overlap.
  auto head_plus = arena.slice(y1.offset, unit + 1);
  EXPECT_EQ(barriers({add(a, b, head_plus, uint32_t(unit / 4)), add(after_head, after_head, y2, 4)}), 1u);
}

TEST_F(DispatchProgramTest, OneBarrierCoversEveryEarlierWrite) {
  // d0 and d1 write t0 and t1 without a barrier between them; d2 reads t0, so a barrier goes before
  // it, and that barrier also orders t1, so d3 (reading t1) needs none.
  auto a = random_values(kCount, 820), b = random_values(kCount, 821);
  auto a_buffer = make_buffer(a), b_buffer = make_buffer(b), t0 = make_buffer(kCount),
       t1 = make_buffer(kCount), y0 = make_buffer(kCount), y1 = make_buffer(kCount);
  std::vector<vk::Dispatch> dispatches{add(a_buffer, b_buffer, t0, kCount),
                                       add(b_buffer, b_buffer, t1, kCount), add(t0, a_buffer, y0, kCount),
                                       add(t1, a_buffer, y1, kCount)};
  EXPECT_EQ(barriers(dispatches), 1u);
  run(dispatches);
  auto r0 = read(y0, kCount), r1 = read(y1, kCount);
  for (uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(r0[i], (a[i] + b[i]) + a[i]);
    ASSERT_EQ(r1[i], (b[i] + b[i]) + a[i]);
  }
}

TEST_F(DispatchProgramTest, LayersListsDistinctLayersInDispatchOrder) {
  auto a = make_buffer(kCount), b = make_buffer(kCount), y1 = make_buffer(kCount), y2 = make_buffer(kCount),
       y3 = make_buffer(kCount);
  vk::DispatchProgram program(
      context(), pipelines(),
      {add(a, b, y1, kCount, 4), add(a, b, y2, kCount, 4), add(y1, y2, y3, kCount, 7)});
  EXPECT_EQ(program.dispatch_count(), 3u);
  EXPECT_EQ(program.layers(), (std::vector<int>{4, 7}));
}

TEST_F(DispatchProgramTest, PerLayerTimestampsAreNonDecreasing) {
  // Three layers (one of two dispatches), chained so each depends on the previous one.
  auto a = random_values(kCount, 830), b = random_values(kCount, 831);
  auto a_buffer = make_buffer(a), b_buffer = make_buffer(b), t0 = make_buffer(kCount),
       t1 = make_buffer(kCount), t2 = make_buffer(kCount), y = make_buffer(kCount);
  vk::DispatchProgram program(context(), pipelines(),
                              {add(a_buffer, b_buffer, t0, kCount, 0), add(a_buffer, a_buffer, t1, kCount, 0),
                               add(t0, t1, t2, kCount, 1), add(t2, b_buffer, y, kCount, 2)});
  ASSERT_EQ(program.layers().size(), 3u);
  const uint32_t query_count = static_cast<uint32_t>(program.layers().size()) + 1;
  VkQueryPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                  .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                  .queryCount = query_count};
  VkQueryPool pool = VK_NULL_HANDLE;
  VKV_CHECK(vkCreateQueryPool(context().device(), &pool_info, nullptr, &pool));
  std::vector<uint64_t> stamps(query_count, 0);
  {
    vk::CommandBuffer commands(context());
    commands.begin();
    commands.reset_queries(pool, 0, query_count);
    program.record(commands, pool);
    commands.barrier_transfer_to_host();
    commands.end();
    context().submit_and_wait(commands.handle());
    // WAIT: every query the program wrote must be available; a query it forgot would fail here.
    const VkResult result = vkGetQueryPoolResults(
        context().device(), pool, 0, query_count, stamps.size() * sizeof(uint64_t), stamps.data(),
        sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    EXPECT_EQ(result, VK_SUCCESS) << vk::result_name(result);
  }
  vkDestroyQueryPool(context().device(), pool, nullptr);
  for (uint32_t i = 1; i < query_count; ++i) EXPECT_LE(stamps[i - 1], stamps[i]) << "query " << i;
  EXPECT_LT(stamps.front(), stamps.back());  // the whole program took some time
  // The timed recording computes the same thing.
  auto result = read(y, kCount);
  for (uint32_t i = 0; i < kCount; ++i) ASSERT_EQ(result[i], ((a[i] + b[i]) + (a[i] + a[i])) + b[i]);
}

TEST_F(DispatchProgramTest, GroupsForFitsInXWhenItCan) {
  EXPECT_EQ(vk::groups_for(0, 64, device()), (std::array<uint32_t, 3>{1, 1, 1}));
  EXPECT_EQ(vk::groups_for(1, 64, device()), (std::array<uint32_t, 3>{1, 1, 1}));
  EXPECT_EQ(vk::groups_for(64, 64, device()), (std::array<uint32_t, 3>{1, 1, 1}));
  EXPECT_EQ(vk::groups_for(65, 64, device()), (std::array<uint32_t, 3>{2, 1, 1}));
  EXPECT_EQ(vk::groups_for(7850, 64, device()), (std::array<uint32_t, 3>{123, 1, 1}));
}

TEST_F(DispatchProgramTest, GroupsForSpillsIntoYPastTheXLimit) {
  DeviceInfo small = device();
  small.max_workgroup_count = {7, 100, 1};
  EXPECT_EQ(vk::groups_for(7 * 64, 64, small), (std::array<uint32_t, 3>{7, 1, 1}));
  EXPECT_EQ(vk::groups_for(7 * 64 + 1, 64, small), (std::array<uint32_t, 3>{7, 2, 1}));
  // Every invocation is covered, and no whole row of workgroups is wasted.
  for (uint64_t invocations : {1000ull, 7850ull, 44800ull}) {
    const auto groups = vk::groups_for(invocations, 64, small);
    const uint64_t needed = (invocations + 63) / 64;
    EXPECT_GE(uint64_t(groups[0]) * groups[1], needed) << invocations;
    EXPECT_LT(uint64_t(groups[0]) * (groups[1] - 1), needed) << invocations;
    EXPECT_LE(groups[0], 7u);
  }
  // Real devices report a larger x limit than 65535 on some drivers; groups_for still caps x there.
  DeviceInfo large = device();
  large.max_workgroup_count = {1u << 31, 65535, 65535};
  EXPECT_EQ(vk::groups_for(65536ull * 64, 64, large), (std::array<uint32_t, 3>{65535, 2, 1}));
}

TEST_F(DispatchProgramTest, GroupsForThrowsWhenYLimitIsExceeded) {
  DeviceInfo small = device();
  small.max_workgroup_count = {7, 2, 1};
  EXPECT_NO_THROW(vk::groups_for(14 * 64, 64, small));
  EXPECT_THROW(vk::groups_for(14 * 64 + 1, 64, small), DeviceError);
}

}  // namespace
}  // namespace vkvision
