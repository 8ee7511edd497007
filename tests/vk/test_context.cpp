#include <bit>
#include <string>

#include "support/device_test.h"
#include "vk/check.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::DeviceTest;

class ContextTest : public DeviceTest {};

TEST_F(ContextTest, DeviceInfoIsPopulated) {
  const DeviceInfo& info = device();
  EXPECT_FALSE(info.name.empty());
  EXPECT_FALSE(info.type.empty());
  EXPECT_FALSE(info.driver_name.empty());
  EXPECT_GE(info.api_version, VK_API_VERSION_1_2) << info.api_version_string();
  EXPECT_GT(info.subgroup_size, 0u);
  EXPECT_TRUE(std::has_single_bit(info.subgroup_size)) << info.subgroup_size;
  EXPECT_GT(info.max_storage_buffer_range, 0u);
  // Vulkan's guaranteed minimums for the limits kernels and groups_for rely on.
  EXPECT_GE(info.max_workgroup_count[0], 65535u);
  EXPECT_GE(info.max_workgroup_count[1], 65535u);
  EXPECT_GE(info.max_workgroup_invocations, 128u);
  EXPECT_GE(info.max_workgroup_size[0], 128u);
  EXPECT_GE(info.max_push_constants_size, vk::kPushConstantBytes);
  EXPECT_GE(info.max_compute_shared_memory, 16384u);
  EXPECT_TRUE(std::has_single_bit(info.min_storage_buffer_offset_alignment));
  EXPECT_GT(info.device_local_bytes, 0u);
  // The pipeline-cache UUID names the cache file: all zeros would make every driver share one.
  bool uuid_set = false;
  for (uint8_t byte : info.pipeline_cache_uuid) uuid_set |= byte != 0;
  EXPECT_TRUE(uuid_set);
  // Per-layer timing needs timestamps on the compute queue (every device vkvision targets has them).
  EXPECT_TRUE(info.timestamps);
  EXPECT_GT(info.timestamp_period_ns, 0.0f);
}

TEST_F(ContextTest, DeviceInfoMatchesTheContextsHandles) {
  EXPECT_NE(context().instance(), VK_NULL_HANDLE);
  EXPECT_NE(context().physical_device(), VK_NULL_HANDLE);
  EXPECT_NE(context().device(), VK_NULL_HANDLE);
  EXPECT_NE(context().queue(), VK_NULL_HANDLE);
  const DeviceInfo again = vk::query_device_info(context().physical_device(), device().index);
  EXPECT_EQ(again.name, device().name);
  EXPECT_EQ(again.pipeline_cache_uuid, device().pipeline_cache_uuid);
  EXPECT_EQ(again.max_storage_buffer_range, device().max_storage_buffer_range);
}

TEST_F(ContextTest, ListDevicesFindsTheContextsDevice) {
  const auto devices = list_devices();
  ASSERT_GE(devices.size(), 1u);
  for (uint32_t i = 0; i < devices.size(); ++i) {
    EXPECT_EQ(devices[i].index, i);
    EXPECT_FALSE(devices[i].name.empty());
  }
  ASSERT_LT(device().index, devices.size());
  EXPECT_EQ(devices[device().index].name, device().name);
  EXPECT_EQ(devices[device().index].pipeline_cache_uuid, device().pipeline_cache_uuid);
}

TEST_F(ContextTest, InvalidDeviceIndexThrowsInputError) {
  const int count = static_cast<int>(list_devices().size());
  for (int index : {count, 99}) {
    DeviceOptions options;
    options.device_index = index;
    options.validation = true;
    try {
      vk::Context::create(options);
      ADD_FAILURE() << "device " << index << " of " << count << " was accepted";
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("device " + std::to_string(index) + " does not exist"), std::string::npos)
          << message;
    }
  }
}

TEST_F(ContextTest, SecondValidatedContextOnTheSameDeviceWorksAlongsideTheFirst) {
  DeviceOptions options;
  options.device_index = static_cast<int>(device().index);
  options.validation = true;
  auto second = vk::Context::create(options);
  EXPECT_EQ(second->info().name, device().name);
  EXPECT_NE(second->device(), context().device());
  EXPECT_EQ(second->validation_message_count(), 0u);
}

// A context of its own, so a test can lose it without losing the shared one.
std::shared_ptr<vk::Context> separate_context(const DeviceOptions& extra = {}) {
  DeviceOptions options = extra;
  options.device_index = -1;
  options.validation = true;
  return vk::Context::create(options);
}

// Submitting a command buffer still being recorded is a validation error; so a lost context that
// throws on one, with no validation message, threw before anything reached the queue.
void expect_submit_throws_at_once(vk::Context& context, const std::string& expected) {
  vk::CommandBuffer unfinished(context);
  unfinished.begin();
  try {
    context.submit_and_wait(unfinished.handle());
    ADD_FAILURE() << "a submit on a lost context did not throw";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

void submit_empty(vk::Context& context) {
  vk::CommandBuffer commands(context);
  commands.begin();
  commands.end();
  context.submit_and_wait(commands.handle());
}

TEST_F(ContextTest, DeviceLostIsReportedAndLaterSubmitsAndAllocationsThrowAtOnce) {
  auto lost = separate_context();
  submit_empty(*lost);  // a healthy submit first
  EXPECT_FALSE(lost->lost());
  lost->inject_wait_result_for_testing(VK_ERROR_DEVICE_LOST);
  try {
    submit_empty(*lost);
    FAIL() << "a lost device's submit did not throw";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what()).find("device lost: vkWaitForFences returned VK_ERROR_DEVICE_LOST"),
              std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(lost->lost());
  expect_submit_throws_at_once(*lost, "device lost: vkWaitForFences");
  try {
    vk::Arena arena(lost, 4096, vk::MemoryUse::DeviceLocal, "after the loss");
    ADD_FAILURE() << "an allocation on a lost context did not throw";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what()).find("device lost"), std::string::npos) << error.what();
  }
  EXPECT_EQ(lost->memory_budget().held(), 0u);
  for (const auto& message : lost->validation_messages())
    ADD_FAILURE() << "validation (lost context): " << message;
}

TEST_F(ContextTest, HungSubmitIsReportedWithItsTimeoutAndLaterSubmitsThrowAtOnce) {
  auto hung = separate_context({.submit_timeout_ms = 5000});
  hung->inject_wait_result_for_testing(VK_TIMEOUT);
  try {
    submit_empty(*hung);
    FAIL() << "a timed-out submit did not throw";
  } catch (const DeviceError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("device hung: a submit did not finish within 5000 ms"), std::string::npos)
        << message;
    EXPECT_NE(message.find("submit_timeout_ms"), std::string::npos) << message;
  }
  EXPECT_TRUE(hung->lost());
  // The injected timeout came after the work really finished: nothing is left running.
  EXPECT_FALSE(hung->submitted_work_may_be_running());
  expect_submit_throws_at_once(*hung, "device hung");
  for (const auto& message : hung->validation_messages())
    ADD_FAILURE() << "validation (hung context): " << message;
}

TEST_F(ContextTest, OtherSubmitFailuresNameTheCallAndLeaveTheContextUsable) {
  auto context = separate_context();
  context->inject_wait_result_for_testing(VK_ERROR_OUT_OF_HOST_MEMORY);
  try {
    submit_empty(*context);
    FAIL() << "an injected VK_ERROR_OUT_OF_HOST_MEMORY did not throw";
  } catch (const DeviceError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("out of memory"), std::string::npos) << message;
    EXPECT_NE(message.find("vkWaitForFences"), std::string::npos) << message;
  }
  EXPECT_FALSE(context->lost());
  submit_empty(*context);
  for (const auto& message : context->validation_messages()) ADD_FAILURE() << "validation: " << message;
}

TEST_F(ContextTest, FailureMessagesNameTheCallAndTheResult) {
  EXPECT_EQ(vk::failure_message(VK_ERROR_DEVICE_LOST, "vkQueueSubmit", "/x/context.cpp", 7),
            "device lost: vkQueueSubmit returned VK_ERROR_DEVICE_LOST at context.cpp:7");
  EXPECT_EQ(vk::failure_message(VK_ERROR_OUT_OF_DEVICE_MEMORY, "vkAllocateMemory", "memory.cpp", 3),
            "out of memory: Vulkan call failed with VK_ERROR_OUT_OF_DEVICE_MEMORY (-2): vkAllocateMemory at "
            "memory.cpp:3");
  EXPECT_EQ(vk::failure_message(VK_ERROR_UNKNOWN, "vkCreateBuffer", "memory.cpp", 9),
            "Vulkan call failed with VK_ERROR_UNKNOWN (-13): vkCreateBuffer at memory.cpp:9");
}

}  // namespace
}  // namespace vkvision
