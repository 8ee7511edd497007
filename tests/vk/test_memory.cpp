#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <thread>

#include "ops/elementwise.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::DeviceTest;

class MemoryTest : public DeviceTest {};

std::vector<float> iota_values(size_t count, float start) {
  std::vector<float> values(count);
  std::iota(values.begin(), values.end(), start);
  return values;
}

TEST_F(MemoryTest, MappedPathRoundTrips) {
  if (!vk::device_memory_mappable(context()))
    GTEST_SKIP() << device().name << " has no host-visible device memory";
  vk::Arena arena(context_ptr(), 4096, vk::MemoryUse::DeviceLocal, "round trip");
  ASSERT_TRUE(arena.host_visible());
  auto first = arena.allocate(3 * sizeof(float), "first");
  auto second = arena.allocate(97 * sizeof(float), "second");  // at a non-zero offset
  ASSERT_NE(second.mapped, nullptr);
  auto a = iota_values(3, 1.5f), b = random_values(97, 700);
  vk::upload(context(), first, a.data(), a.size() * sizeof(float));
  vk::upload(context(), second, b.data(), b.size() * sizeof(float));
  // The mapped path is a plain memcpy into the slice's host pointer.
  EXPECT_EQ(std::memcmp(second.mapped, b.data(), b.size() * sizeof(float)), 0);
  std::vector<float> a_back(3), b_back(97);
  vk::download(context(), first, a_back.data(), a_back.size() * sizeof(float));
  vk::download(context(), second, b_back.data(), b_back.size() * sizeof(float));
  EXPECT_EQ(a_back, a);
  EXPECT_EQ(b_back, b);
}

TEST_F(MemoryTest, StagingPathRoundTripsAndFeedsKernels) {
  DeviceOptions options;
  options.device_index = static_cast<int>(device().index);
  options.validation = true;
  options.force_staging = true;
  auto staged = vk::Context::create(options);
  EXPECT_TRUE(staged->force_staging());
  EXPECT_FALSE(vk::device_memory_mappable(*staged));
  {
    vk::Arena arena(staged, 4096, vk::MemoryUse::DeviceLocal, "staged round trip");
    EXPECT_FALSE(arena.host_visible());
    auto a_slice = arena.allocate(97 * sizeof(float), "a");
    auto b_slice = arena.allocate(97 * sizeof(float), "b");  // at a non-zero offset: copies must honour it
    auto y_slice = arena.allocate(97 * sizeof(float), "y");
    EXPECT_EQ(a_slice.mapped, nullptr);
    EXPECT_EQ(b_slice.mapped, nullptr);
    auto a = random_values(97, 710), b = random_values(97, 711);
    vk::upload(*staged, a_slice, a.data(), a.size() * sizeof(float));
    vk::upload(*staged, b_slice, b.data(), b.size() * sizeof(float));
    std::vector<float> a_back(97), b_back(97);
    vk::download(*staged, a_slice, a_back.data(), a_back.size() * sizeof(float));
    vk::download(*staged, b_slice, b_back.data(), b_back.size() * sizeof(float));
    EXPECT_EQ(a_back, a);
    EXPECT_EQ(b_back, b);

    // A kernel reads what the staging upload wrote and the staging download reads what it wrote.
    const auto cache_dir =
        std::filesystem::temp_directory_path() / ("vkvision-test-memory-" + std::to_string(::getpid()));
    {
      vk::PipelineCache pipelines(staged, cache_dir);
      vk::DispatchProgram program(
          *staged, pipelines,
          {ops::elementwise(staged->info(), ops::ElementwiseMode::Add, 97, 97, a_slice, b_slice, y_slice)});
      vk::CommandBuffer commands(*staged);
      commands.begin();
      program.record(commands);
      commands.barrier_compute_to_transfer();
      commands.end();
      staged->submit_and_wait(commands.handle());
    }
    std::filesystem::remove_all(cache_dir);
    std::vector<float> y(97);
    vk::download(*staged, y_slice, y.data(), y.size() * sizeof(float));
    for (size_t i = 0; i < y.size(); ++i)
      EXPECT_EQ(y[i], a[i] + b[i]) << "index " << i;  // correctly rounded add
  }
  for (const auto& message : staged->validation_messages())
    ADD_FAILURE() << "validation (staging context): " << message;
  EXPECT_EQ(staged->validation_message_count(), 0u);
}

TEST_F(MemoryTest, AllocationBeyondMaxStorageBufferRangeThrowsNamingTheTensor) {
  vk::Arena arena(context_ptr(), 4096, vk::MemoryUse::DeviceLocal, "limits");
  const VkDeviceSize too_big = device().max_storage_buffer_range + 1;
  try {
    arena.allocate(too_big, "stages.3.blocks.7.pwconv1.weight");
    FAIL() << "allocating " << too_big << " bytes did not throw";
  } catch (const DeviceError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("stages.3.blocks.7.pwconv1.weight"), std::string::npos) << message;
    EXPECT_NE(message.find("maxStorageBufferRange"), std::string::npos) << message;
  }
  // Exactly the limit is allowed by the range check (it then fails only because this arena is small,
  // and that error names the tensor too).
  try {
    arena.allocate(device().max_storage_buffer_range, "big.tensor");
    FAIL() << "a 4 KiB arena accepted " << device().max_storage_buffer_range << " bytes";
  } catch (const DeviceError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find("maxStorageBufferRange"), std::string::npos) << message;
    EXPECT_NE(message.find("big.tensor"), std::string::npos) << message;
  }
}

TEST_F(MemoryTest, FullArenaThrowsNamingTheTensor) {
  // 200 bytes, then the rest up to the end, whatever the binding alignment (16 to 256 bytes).
  const VkDeviceSize alignment = vk::binding_alignment(device());
  const VkDeviceSize size = vk::align_up(200, alignment) + alignment;
  vk::Arena arena(context_ptr(), size, vk::MemoryUse::DeviceLocal, "small");
  const VkDeviceSize second = vk::align_up(200, arena.alignment());
  ASSERT_LT(second, size);
  arena.allocate(200, "fits");
  arena.allocate(size - second, "fills.the.rest");  // ends exactly at the arena's end
  try {
    arena.allocate(1, "does.not.fit");
    FAIL() << "allocation past the end of the arena did not throw";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what()).find("does.not.fit"), std::string::npos) << error.what();
  }
}

TEST_F(MemoryTest, SuccessiveSlicesAreAlignedAndDisjoint) {
  vk::Arena arena(context_ptr(), 1 << 16, vk::MemoryUse::DeviceLocal, "alignment");
  const VkDeviceSize alignment = vk::binding_alignment(device());
  EXPECT_EQ(arena.alignment(), alignment);
  EXPECT_GE(alignment, 16u);  // a vec4 / one RGBA32F texel
  EXPECT_EQ(alignment % device().min_storage_buffer_offset_alignment, 0u);
  EXPECT_EQ(alignment % device().min_texel_buffer_offset_alignment, 0u);
  VkDeviceSize end = 0;
  for (VkDeviceSize size : {VkDeviceSize(4), VkDeviceSize(12), VkDeviceSize(97 * 4), VkDeviceSize(1),
                            VkDeviceSize(16), VkDeviceSize(3 * 4), VkDeviceSize(alignment + 4)}) {
    auto slice = arena.allocate(size, "slice");
    EXPECT_EQ(slice.buffer, arena.buffer());
    EXPECT_EQ(slice.size, size);
    EXPECT_EQ(slice.offset % alignment, 0u) << "size " << size;
    // Tightly packed: the next aligned offset after the previous slice, never overlapping it.
    EXPECT_EQ(slice.offset, vk::align_up(end, alignment)) << "size " << size;
    if (arena.host_visible()) {
      EXPECT_EQ(slice.mapped, arena.slice(0, 1).mapped + slice.offset);
    }
    end = slice.offset + slice.size;
  }
}

TEST_F(MemoryTest, AlignUpRoundsToMultiples) {
  EXPECT_EQ(vk::align_up(0, 16), 0u);
  EXPECT_EQ(vk::align_up(1, 16), 16u);
  EXPECT_EQ(vk::align_up(16, 16), 16u);
  EXPECT_EQ(vk::align_up(17, 16), 32u);
  EXPECT_EQ(vk::align_up(7, 12), 12u);  // not a power of two
  EXPECT_EQ(vk::align_up(25, 12), 36u);
}

TEST_F(MemoryTest, EmptyArenaCreatesNothing) {
  vk::Arena arena(context_ptr(), 0, vk::MemoryUse::DeviceLocal, "empty");
  EXPECT_EQ(arena.buffer(), VK_NULL_HANDLE);
  EXPECT_EQ(arena.size(), 0u);
}

std::shared_ptr<vk::Context> budgeted_context(uint64_t budget) {
  DeviceOptions options;
  options.validation = true;
  options.device_memory_budget = budget;
  return vk::Context::create(options);
}

// The bytes the device asks for behind an arena of `size` (its memory requirements, not `size`).
uint64_t allocation_bytes(vk::Context& context, VkDeviceSize size, vk::MemoryUse use) {
  auto counting = std::shared_ptr<vk::Context>(&context, [](vk::Context*) {});
  const uint64_t before = context.memory_budget().held();
  vk::Arena arena(counting, size, use, "measure");
  return context.memory_budget().held() - before;
}

TEST_F(MemoryTest, BudgetRefusesWhatItCannotHoldAndFreedArenasGiveTheirBytesBack) {
  const uint64_t half = allocation_bytes(context(), 1 << 19, vk::MemoryUse::DeviceLocal);
  const uint64_t half_staging = allocation_bytes(context(), 1 << 19, vk::MemoryUse::Upload);
  ASSERT_GE(half, uint64_t(1) << 19);
  const uint64_t limit = half + half_staging;
  auto budgeted = budgeted_context(limit);
  {
    vk::Arena first(budgeted, 1 << 19, vk::MemoryUse::DeviceLocal, "first");
    EXPECT_EQ(budgeted->memory_budget().held(), half);
    vk::Arena second(budgeted, 1 << 19, vk::MemoryUse::Upload, "second");  // staging memory counts too
    EXPECT_EQ(budgeted->memory_budget().held(), limit);
    try {
      vk::Arena third(budgeted, 1 << 19, vk::MemoryUse::DeviceLocal, "stage 3 activations");
      FAIL() << "an arena past the budget was created";
    } catch (const DeviceError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.find("out of device memory: stage 3 activations needs "), 0u) << message;
      EXPECT_NE(message.find("the device-memory budget has 0 bytes of"), std::string::npos) << message;
    }
    EXPECT_EQ(budgeted->memory_budget().held(), limit);  // the refused arena holds nothing
  }
  EXPECT_EQ(budgeted->memory_budget().held(), 0u);
  EXPECT_EQ(budgeted->memory_budget().peak(), limit);
  vk::Arena again(budgeted, 1 << 19, vk::MemoryUse::DeviceLocal, "stage 3 activations");  // fits once freed
  vk::Arena beside(budgeted, 1 << 19, vk::MemoryUse::Upload, "beside it");
  for (const auto& message : budgeted->validation_messages())
    ADD_FAILURE() << "validation (budget): " << message;
}

TEST_F(MemoryTest, ThreadingBudgetAdmitsExactlyItsLimitUnderConcurrentReservations) {
  constexpr uint64_t kLimit = 1000, kThreads = 4, kTriesPerThread = 400;  // 1600 tries for 1000 bytes
  vk::MemoryBudget budget(kLimit);
  std::vector<uint64_t> admitted(kThreads, 0);
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < kTriesPerThread; ++i) admitted[t] += budget.try_reserve(1);
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::accumulate(admitted.begin(), admitted.end(), uint64_t(0)), kLimit);
  EXPECT_EQ(budget.held(), kLimit);
  EXPECT_FALSE(budget.try_reserve(1));
  budget.release(kLimit);
  EXPECT_EQ(budget.held(), 0u);
  EXPECT_EQ(budget.peak(), kLimit);
}

TEST_F(MemoryTest, UnlimitedBudgetOnlyCounts) {
  vk::MemoryBudget budget;
  EXPECT_TRUE(budget.try_reserve(uint64_t(1) << 40));
  EXPECT_EQ(budget.held(), uint64_t(1) << 40);
  EXPECT_EQ(budget.limit(), 0u);
}

}  // namespace
}  // namespace vkvision
