// VK_LAYER_VKVISION_device_profile (tests/support/device_profile_layer) through raw Vulkan: each test
// makes its own instance and device with the layer enabled by name and a profile chosen through
// VKVISION_DEVICE_PROFILE. ctest puts the layer's manifest on VK_ADD_LAYER_PATH. No shaders, so fast.
#define VK_ENABLE_BETA_EXTENSIONS  // VK_KHR_portability_subset is provisional
#include <gtest/gtest.h>
#include <vulkan/vulkan.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr const char* kLayer = "VK_LAYER_VKVISION_device_profile";
constexpr VkDeviceSize kMiB = 1 << 20;

bool layer_available() {
  uint32_t count = 0;
  vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vkEnumerateInstanceLayerProperties(&count, layers.data());
  for (const auto& layer : layers)
    if (std::strcmp(layer.layerName, kLayer) == 0) return true;
  return false;
}

// Sets VKVISION_DEVICE_PROFILE for one test and restores the previous value (the suite itself may
// run under a profile, tools/test_profiles.sh).
class ProfileVariable {
 public:
  explicit ProfileVariable(const char* profile) {
    if (const char* old = std::getenv("VKVISION_DEVICE_PROFILE")) previous_ = old;
    if (profile)
      setenv("VKVISION_DEVICE_PROFILE", profile, 1);
    else
      unsetenv("VKVISION_DEVICE_PROFILE");
  }
  ~ProfileVariable() {
    if (previous_)
      setenv("VKVISION_DEVICE_PROFILE", previous_->c_str(), 1);
    else
      unsetenv("VKVISION_DEVICE_PROFILE");
  }

 private:
  std::optional<std::string> previous_;
};

VkResult create_instance(VkInstance* instance) {
  VkApplicationInfo app{.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3};
  VkInstanceCreateInfo info{.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                            .pApplicationInfo = &app,
                            .enabledLayerCount = 1,
                            .ppEnabledLayerNames = &kLayer};
  return vkCreateInstance(&info, nullptr, instance);
}

struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
};

// An instance and device under one profile, with the few helpers the tests need.
class ProfiledDevice {
 public:
  explicit ProfiledDevice(const char* profile, std::vector<const char*> extensions = {},
                          const void* features = nullptr)
      : variable_(profile) {
    result = create_instance(&instance);
    if (result != VK_SUCCESS) return;
    uint32_t count = 1;
    vkEnumeratePhysicalDevices(instance, &count, &physical);
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue{.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                  .queueFamilyIndex = 0,
                                  .queueCount = 1,
                                  .pQueuePriorities = &priority};
    VkDeviceCreateInfo info{.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                            .pNext = features,
                            .queueCreateInfoCount = 1,
                            .pQueueCreateInfos = &queue,
                            .enabledExtensionCount = static_cast<uint32_t>(extensions.size()),
                            .ppEnabledExtensionNames = extensions.data()};
    result = vkCreateDevice(physical, &info, nullptr, &device);
    if (result != VK_SUCCESS) return;
    vkGetDeviceQueue(device, 0, 0, &queue_);
    VkCommandPoolCreateInfo pool{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = 0};
    vkCreateCommandPool(device, &pool, nullptr, &pool_);
  }
  ~ProfiledDevice() {
    if (device) {
      for (const Buffer& buffer : buffers_) {
        vkDestroyBuffer(device, buffer.buffer, nullptr);
        vkFreeMemory(device, buffer.memory, nullptr);
      }
      vkDestroyCommandPool(device, pool_, nullptr);
      vkDestroyDevice(device, nullptr);
    }
    if (instance) vkDestroyInstance(instance, nullptr);
  }

  VkPhysicalDeviceMemoryProperties memory_properties() const {
    VkPhysicalDeviceMemoryProperties properties{};
    vkGetPhysicalDeviceMemoryProperties(physical, &properties);
    return properties;
  }

  // The first memory type with all of `required` and none of `excluded`.
  uint32_t memory_type(VkMemoryPropertyFlags required, VkMemoryPropertyFlags excluded = 0) const {
    const auto properties = memory_properties();
    for (uint32_t i = 0; i < properties.memoryTypeCount; ++i) {
      const VkMemoryPropertyFlags flags = properties.memoryTypes[i].propertyFlags;
      if ((flags & required) == required && !(flags & excluded)) return i;
    }
    ADD_FAILURE() << "no memory type with flags " << required;
    return 0;
  }

  VkResult allocate(VkDeviceSize size, uint32_t type, VkDeviceMemory* memory) const {
    VkMemoryAllocateInfo info{
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size, .memoryTypeIndex = type};
    return vkAllocateMemory(device, &info, nullptr, memory);
  }

  VkBuffer make_unbound_buffer(VkDeviceSize size) const {
    VkBufferCreateInfo info{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = size,
                            .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    VkBuffer buffer = VK_NULL_HANDLE;
    vkCreateBuffer(device, &info, nullptr, &buffer);
    return buffer;
  }

  Buffer make_buffer(VkDeviceSize size, uint32_t type) {
    Buffer out;
    out.buffer = make_unbound_buffer(size);
    VkMemoryRequirements requirements{};
    vkGetBufferMemoryRequirements(device, out.buffer, &requirements);
    EXPECT_TRUE(requirements.memoryTypeBits & (1u << type));
    EXPECT_EQ(allocate(requirements.size, type, &out.memory), VK_SUCCESS);
    vkBindBufferMemory(device, out.buffer, out.memory, 0);
    buffers_.push_back(out);
    return out;
  }

  // Records with `record`, submits and waits.
  template <typename Record>
  void run(Record record) {
    VkCommandBufferAllocateInfo info{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = pool_,
                                     .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = 1};
    VkCommandBuffer commands = VK_NULL_HANDLE;
    vkAllocateCommandBuffers(device, &info, &commands);
    VkCommandBufferBeginInfo begin{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    vkBeginCommandBuffer(commands, &begin);
    record(commands);
    // Device writes made visible to the host, as an application must before it maps and reads.
    VkMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                            .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier,
                         0, nullptr, 0, nullptr);
    vkEndCommandBuffer(commands);
    VkSubmitInfo submit{
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands};
    ASSERT_EQ(vkQueueSubmit(queue_, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    vkQueueWaitIdle(queue_);
    vkFreeCommandBuffers(device, pool_, 1, &commands);
  }

  void copy(const Buffer& from, const Buffer& to, VkDeviceSize size) {
    run([&](VkCommandBuffer commands) {
      VkBufferCopy region{.size = size};
      vkCmdCopyBuffer(commands, from.buffer, to.buffer, 1, &region);
    });
  }

  void flush(VkDeviceMemory memory) const {
    VkMappedMemoryRange range{
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
    EXPECT_EQ(vkFlushMappedMemoryRanges(device, 1, &range), VK_SUCCESS);
  }
  void invalidate(VkDeviceMemory memory) const {
    VkMappedMemoryRange range{
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory, .size = VK_WHOLE_SIZE};
    EXPECT_EQ(vkInvalidateMappedMemoryRanges(device, 1, &range), VK_SUCCESS);
  }

  VkResult result = VK_ERROR_UNKNOWN;
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;

 private:
  ProfileVariable variable_;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  std::vector<Buffer> buffers_;
};

class DeviceProfileLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(layer_available()) << kLayer << " not found: build vkvision_device_profile_layer and set "
                                   << "VK_ADD_LAYER_PATH=<build>/device_profile_layer (ctest does)";
  }
};

TEST_F(DeviceProfileLayerTest, UnsetProfilePassesThrough) {
  ProfiledDevice device(nullptr);
  ASSERT_EQ(device.result, VK_SUCCESS);
  VkPhysicalDeviceProperties properties{};
  vkGetPhysicalDeviceProperties(device.physical, &properties);
  EXPECT_NE(std::string(properties.deviceName).find("llvmpipe"), std::string::npos) << properties.deviceName;
  EXPECT_EQ(device.memory_properties().memoryTypeCount, 1u);
}

TEST_F(DeviceProfileLayerTest, UnknownOrBrokenProfileFailsInstanceCreation) {
  for (const char* profile :
       {"no_such_profile", VKVISION_TEST_SOURCE_DIR "/tests/support/device_profile_layer/README.md"}) {
    ProfileVariable variable(profile);
    VkInstance instance = VK_NULL_HANDLE;
    EXPECT_EQ(create_instance(&instance), VK_ERROR_INITIALIZATION_FAILED) << profile;
  }
}

TEST_F(DeviceProfileLayerTest, ReportsTheDiscreteNoRebarDevice) {
  ProfiledDevice device("discrete_no_rebar");
  ASSERT_EQ(device.result, VK_SUCCESS);
  VkPhysicalDeviceDriverProperties driver{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties subgroup{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                              .pNext = &driver};
  VkPhysicalDeviceProperties2 properties{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &subgroup};
  vkGetPhysicalDeviceProperties2(device.physical, &properties);
  EXPECT_EQ(properties.properties.deviceType, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU);
  EXPECT_EQ(properties.properties.vendorID, 0x10DEu);
  EXPECT_EQ(subgroup.subgroupSize, 32u);
  EXPECT_EQ(properties.properties.limits.nonCoherentAtomSize, 64u);
  EXPECT_NE(std::string(driver.driverInfo).find("via device profile discrete_no_rebar"), std::string::npos);

  const auto memory = device.memory_properties();
  ASSERT_EQ(memory.memoryHeapCount, 3u);
  EXPECT_EQ(memory.memoryHeaps[0].size, 8192 * kMiB);
  EXPECT_EQ(memory.memoryHeaps[0].flags, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
  EXPECT_EQ(memory.memoryHeaps[2].size, 256 * kMiB);
  ASSERT_EQ(memory.memoryTypeCount, 5u);
  EXPECT_EQ(memory.memoryTypes[1].propertyFlags, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  EXPECT_EQ(memory.memoryTypes[4].propertyFlags, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                                     VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  EXPECT_EQ(memory.memoryTypes[4].heapIndex, 2u);

  // lavapipe's one real type maps to all five, so a buffer may live in any of them.
  VkBuffer buffer = device.make_unbound_buffer(4096);
  VkMemoryRequirements requirements{};
  vkGetBufferMemoryRequirements(device.device, buffer, &requirements);
  EXPECT_EQ(requirements.memoryTypeBits, 0x1Fu);
  VkBufferMemoryRequirementsInfo2 info{.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
                                       .buffer = buffer};
  VkMemoryRequirements2 requirements2{.sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
  vkGetBufferMemoryRequirements2(device.device, &info, &requirements2);
  EXPECT_EQ(requirements2.memoryRequirements.memoryTypeBits, 0x1Fu);
  vkDestroyBuffer(device.device, buffer, nullptr);
}

TEST_F(DeviceProfileLayerTest, ReportsSpecMinimumLimitsFeaturesAndFormats) {
  ProfiledDevice device("spec_minimum");
  ASSERT_EQ(device.result, VK_SUCCESS);
  VkPhysicalDeviceMaintenance4Properties maintenance4{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES};
  VkPhysicalDeviceVulkan11Properties v11{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES,
                                         .pNext = &maintenance4};
  VkPhysicalDeviceProperties2 properties{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &v11};
  vkGetPhysicalDeviceProperties2(device.physical, &properties);
  const VkPhysicalDeviceLimits& limits = properties.properties.limits;
  EXPECT_EQ(limits.maxStorageBufferRange, 1u << 27);
  EXPECT_EQ(limits.maxTexelBufferElements, 65536u);
  EXPECT_EQ(limits.minStorageBufferOffsetAlignment, 256u);
  EXPECT_EQ(limits.maxComputeWorkGroupInvocations, 128u);
  EXPECT_EQ(limits.maxComputeWorkGroupSize[2], 64u);
  EXPECT_EQ(limits.maxComputeSharedMemorySize, 16384u);
  EXPECT_EQ(v11.subgroupSize, 32u);
  EXPECT_EQ(v11.maxMemoryAllocationSize, VkDeviceSize{1} << 30);
  EXPECT_EQ(maintenance4.maxBufferSize, VkDeviceSize{1} << 30);

  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device.physical, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(device.physical, &count, families.data());
  EXPECT_EQ(families[0].timestampValidBits, 36u);

  VkPhysicalDeviceVulkan12Features v12{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan11Features f11{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                       .pNext = &v12};
  VkPhysicalDeviceFeatures2 features{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
  vkGetPhysicalDeviceFeatures2(device.physical, &features);
  EXPECT_FALSE(v12.shaderFloat16);
  EXPECT_FALSE(f11.storageBuffer16BitAccess);

  VkFormatProperties format{};
  vkGetPhysicalDeviceFormatProperties(device.physical, VK_FORMAT_R32G32B32A32_SFLOAT, &format);
  EXPECT_FALSE(format.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT);
  EXPECT_TRUE(format.bufferFeatures & VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT);
  vkGetPhysicalDeviceFormatProperties(device.physical, VK_FORMAT_R32_SFLOAT, &format);
  EXPECT_TRUE(format.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT);
}

TEST_F(DeviceProfileLayerTest, EnforcesHeapSizeAndAllocationLimits) {
  ProfiledDevice device("discrete_no_rebar");
  ASSERT_EQ(device.result, VK_SUCCESS);
  const uint32_t bar =
      device.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  VkDeviceMemory first = VK_NULL_HANDLE, second = VK_NULL_HANDLE;
  ASSERT_EQ(device.allocate(200 * kMiB, bar, &first), VK_SUCCESS);
  // 200 + 100 MiB is over the simulated 256 MiB BAR heap, though lavapipe's real heap has room.
  EXPECT_EQ(device.allocate(100 * kMiB, bar, &second), VK_ERROR_OUT_OF_DEVICE_MEMORY);

  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 memory{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                           .pNext = &budget};
  vkGetPhysicalDeviceMemoryProperties2(device.physical, &memory);
  EXPECT_EQ(budget.heapUsage[2], 200 * kMiB);
  EXPECT_EQ(budget.heapUsage[0], 0u);
  EXPECT_GT(budget.heapBudget[2], 200 * kMiB);
  EXPECT_LT(budget.heapBudget[2], 256 * kMiB);

  vkFreeMemory(device.device, first, nullptr);
  ASSERT_EQ(device.allocate(100 * kMiB, bar, &second), VK_SUCCESS);
  vkFreeMemory(device.device, second, nullptr);
  // One past the last memory type is refused rather than passed to the driver.
  EXPECT_NE(device.allocate(4096, device.memory_properties().memoryTypeCount, &second), VK_SUCCESS);

  ProfiledDevice minimum("spec_minimum");
  ASSERT_EQ(minimum.result, VK_SUCCESS);
  const uint32_t local = minimum.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  EXPECT_EQ(minimum.allocate((VkDeviceSize{1} << 30) + 4096, local, &second), VK_ERROR_OUT_OF_DEVICE_MEMORY);
}

TEST_F(DeviceProfileLayerTest, MappingMemoryThatIsNotHostVisibleFails) {
  ProfiledDevice device("discrete_no_rebar");
  ASSERT_EQ(device.result, VK_SUCCESS);
  const uint32_t vram =
      device.memory_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  VkDeviceMemory memory = VK_NULL_HANDLE;
  ASSERT_EQ(device.allocate(4096, vram, &memory), VK_SUCCESS);
  void* data = nullptr;
  EXPECT_EQ(vkMapMemory(device.device, memory, 0, VK_WHOLE_SIZE, 0, &data), VK_ERROR_MEMORY_MAP_FAILED);
  vkFreeMemory(device.device, memory, nullptr);
}

TEST_F(DeviceProfileLayerTest, NonCoherentMemoryNeedsFlushAndInvalidate) {
  ProfiledDevice device("integrated_noncoherent");
  ASSERT_EQ(device.result, VK_SUCCESS);
  const uint32_t type = device.memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  ASSERT_FALSE(device.memory_properties().memoryTypes[type].propertyFlags &
               VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  constexpr size_t kCount = 256;
  constexpr VkDeviceSize kBytes = kCount * sizeof(float);
  const std::vector<float> pattern(kCount, 42.0f);
  auto write = [&](const Buffer& buffer, bool flush) {
    void* data = nullptr;
    ASSERT_EQ(vkMapMemory(device.device, buffer.memory, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    std::memcpy(data, pattern.data(), kBytes);
    if (flush) device.flush(buffer.memory);
    vkUnmapMemory(device.device, buffer.memory);
  };
  auto read = [&](const Buffer& buffer, bool invalidate) {
    std::vector<float> values(kCount);
    void* data = nullptr;
    EXPECT_EQ(vkMapMemory(device.device, buffer.memory, 0, VK_WHOLE_SIZE, 0, &data), VK_SUCCESS);
    if (invalidate) device.invalidate(buffer.memory);
    std::memcpy(values.data(), data, kBytes);
    vkUnmapMemory(device.device, buffer.memory);
    return values;
  };

  // Host write without a flush: the device copies what was there before, not the write.
  Buffer source = device.make_buffer(kBytes, type), target = device.make_buffer(kBytes, type);
  device.run(
      [&](VkCommandBuffer commands) { vkCmdFillBuffer(commands, source.buffer, 0, VK_WHOLE_SIZE, 0); });
  write(source, false);
  device.copy(source, target, kBytes);
  EXPECT_EQ(read(target, true), std::vector<float>(kCount, 0.0f));
  // With the flush it arrives.
  write(source, true);
  device.copy(source, target, kBytes);
  EXPECT_EQ(read(target, true), pattern);

  // Device write, host read: without an invalidate the host sees the shadow's 0xFF bytes.
  device.run([&](VkCommandBuffer commands) {
    vkCmdFillBuffer(commands, target.buffer, 0, VK_WHOLE_SIZE, 0x3F800000);
  });
  const std::vector<float> stale = read(target, false);
  uint32_t bits = 0;
  std::memcpy(&bits, &stale[0], sizeof bits);
  EXPECT_EQ(bits, 0xFFFFFFFFu);
  EXPECT_EQ(read(target, true), std::vector<float>(kCount, 1.0f));
}

TEST_F(DeviceProfileLayerTest, FlushOfPartOfTheMappingCopiesOnlyThatPart) {
  ProfiledDevice device("integrated_noncoherent");
  ASSERT_EQ(device.result, VK_SUCCESS);
  const uint32_t type = device.memory_type(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  constexpr VkDeviceSize kBytes = 1024;  // nonCoherentAtomSize 64: flush [64, 128) of a mapping at 64
  Buffer buffer = device.make_buffer(kBytes, type), copy = device.make_buffer(kBytes, type);
  device.run(
      [&](VkCommandBuffer commands) { vkCmdFillBuffer(commands, buffer.buffer, 0, VK_WHOLE_SIZE, 0); });
  uint8_t* data = nullptr;
  ASSERT_EQ(vkMapMemory(device.device, buffer.memory, 64, VK_WHOLE_SIZE, 0, reinterpret_cast<void**>(&data)),
            VK_SUCCESS);
  std::memset(data, 7, kBytes - 64);
  VkMappedMemoryRange range{
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = buffer.memory, .offset = 64, .size = 64};
  ASSERT_EQ(vkFlushMappedMemoryRanges(device.device, 1, &range), VK_SUCCESS);
  vkUnmapMemory(device.device, buffer.memory);
  device.copy(buffer, copy, kBytes);
  ASSERT_EQ(vkMapMemory(device.device, copy.memory, 0, VK_WHOLE_SIZE, 0, reinterpret_cast<void**>(&data)),
            VK_SUCCESS);
  device.invalidate(copy.memory);
  EXPECT_EQ(data[63], 0);
  EXPECT_EQ(data[64], 7);
  EXPECT_EQ(data[127], 7);
  EXPECT_EQ(data[128], 0);
  vkUnmapMemory(device.device, copy.memory);
}

// Two timestamps (with availability words) written on the device's queue.
std::vector<uint64_t> write_timestamps(ProfiledDevice& device) {
  VkQueryPoolCreateInfo info{.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                             .queryType = VK_QUERY_TYPE_TIMESTAMP,
                             .queryCount = 2};
  VkQueryPool pool = VK_NULL_HANDLE;
  EXPECT_EQ(vkCreateQueryPool(device.device, &info, nullptr, &pool), VK_SUCCESS);
  device.run([&](VkCommandBuffer commands) {
    vkCmdResetQueryPool(commands, pool, 0, 2);
    vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, pool, 0);
    vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, 1);
  });
  std::vector<uint64_t> values(4);
  EXPECT_EQ(vkGetQueryPoolResults(device.device, pool, 0, 2, values.size() * sizeof(uint64_t), values.data(),
                                  2 * sizeof(uint64_t),
                                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT),
            VK_SUCCESS);
  vkDestroyQueryPool(device.device, pool, nullptr);
  return values;
}

TEST_F(DeviceProfileLayerTest, TimestampsKeepOnlyTheProfilesValidBits) {
  {
    // The masking matters only because lavapipe's real clock (nanoseconds since boot) is past 2^36.
    ProfiledDevice real(nullptr);
    ASSERT_EQ(real.result, VK_SUCCESS);
    const auto values = write_timestamps(real);
    if (values[0] < (uint64_t{1} << 36))
      GTEST_SKIP() << "the real clock is still below 2^36 ns (uptime < 69 s)";
  }
  ProfiledDevice device("spec_minimum");
  ASSERT_EQ(device.result, VK_SUCCESS);
  const auto values = write_timestamps(device);
  EXPECT_LT(values[0], uint64_t{1} << 36);
  EXPECT_LT(values[2], uint64_t{1} << 36);
  EXPECT_EQ(values[1], 1u);  // availability words are left alone
  EXPECT_EQ(values[3], 1u);
}

TEST_F(DeviceProfileLayerTest, PortabilityProfileAddsTheExtensionAndItsFeatures) {
  VkPhysicalDevicePortabilitySubsetFeaturesKHR requested{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR};
  // lavapipe lacks the extension; the layer removes it and this structure before calling down.
  ProfiledDevice device("apple_portability", {VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME}, &requested);
  ASSERT_EQ(device.result, VK_SUCCESS);
  uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(device.physical, nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateDeviceExtensionProperties(device.physical, nullptr, &count, extensions.data());
  bool found = false;
  for (const auto& extension : extensions)
    found |= std::strcmp(extension.extensionName, "VK_KHR_portability_subset") == 0;
  EXPECT_TRUE(found);

  VkPhysicalDevicePortabilitySubsetFeaturesKHR portability{
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR};
  VkPhysicalDeviceFeatures2 features{.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                     .pNext = &portability};
  vkGetPhysicalDeviceFeatures2(device.physical, &features);
  EXPECT_FALSE(portability.events);
  EXPECT_FALSE(portability.triangleFans);
  EXPECT_TRUE(portability.imageViewFormatSwizzle);
  VkPhysicalDeviceProperties properties{};
  vkGetPhysicalDeviceProperties(device.physical, &properties);
  EXPECT_EQ(VK_API_VERSION_MINOR(properties.apiVersion), 2u);
  EXPECT_EQ(properties.vendorID, 0x106Bu);
}

}  // namespace
