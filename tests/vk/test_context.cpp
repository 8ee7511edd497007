#include <bit>

#include "support/device_test.h"
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
      EXPECT_NE(message.find("device " + std::to_string(index) + " does not exist"), std::string::npos) << message;
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

}  // namespace
}  // namespace vkvision
