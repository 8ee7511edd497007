// vkvision on the device classes the device-profile layer simulates over lavapipe
// (tests/support/device_profile_layer): which memory it takes, what it refuses, what it enables.
// Each test selects its own profile for the contexts it creates, whatever profile the suite runs under.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "support/scoped_profile.h"
#include "support/test_directory.h"
#include "vk/context.h"
#include "vk/memory.h"
#include "vk/timestamps.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::ScopedProfile;

std::shared_ptr<vk::Context> create_context() {
  DeviceOptions options;
  options.validation = true;
  return vk::Context::create(options);
}

void expect_no_validation_messages(const vk::Context& context) {
  for (const std::string& message : context.validation_messages()) ADD_FAILURE() << "validation: " << message;
}

TEST(PortabilityTest, DiscreteGpuWithoutResizableBarKeepsDeviceMemoryInVramAndStagesTransfers) {
  ScopedProfile profile("discrete_no_rebar");
  auto context = create_context();
  const DeviceInfo& info = context->info();
  EXPECT_FALSE(info.unified_memory);
  EXPECT_TRUE(info.memory_budget);
  EXPECT_EQ(info.device_local_bytes, uint64_t(8) << 30);
  {
    vk::Arena weights(context, 1 << 20, vk::MemoryUse::DeviceLocal, "weights");
    EXPECT_EQ(weights.heap(), 0u);  // VRAM, not the 256 MiB BAR window (heap 2)
    EXPECT_FALSE(weights.host_visible());
    vk::Arena upload(context, 4096, vk::MemoryUse::Upload, "staging");
    EXPECT_EQ(upload.heap(), 1u);  // system RAM
    vk::Arena readback(context, 4096, vk::MemoryUse::Readback, "readback");
    EXPECT_EQ(readback.memory_type(), 3u);  // host-cached

    // Round trip through staging copies.
    vk::BufferSlice slice = weights.allocate(1000 * sizeof(float), "values");
    std::vector<float> values(1000), back(1000);
    for (size_t i = 0; i < values.size(); ++i) values[i] = 0.25f * float(i) - 7.0f;
    vk::upload(*context, slice, values.data(), values.size() * sizeof(float));
    vk::download(*context, slice, back.data(), back.size() * sizeof(float));
    EXPECT_EQ(back, values);
  }
  expect_no_validation_messages(*context);
}

TEST(PortabilityTest, NonCoherentMemoryIsFlushedAndInvalidatedAtAtomGranularity) {
  // The layer hands out shadow copies of non-coherent mappings: a missed flush leaves the device
  // reading stale bytes and a missed invalidate leaves the host reading NaN.
  ScopedProfile profile("integrated_noncoherent");
  auto context = create_context();
  EXPECT_TRUE(context->info().unified_memory);
  {
    vk::Arena arena(context, 1 << 16, vk::MemoryUse::DeviceLocal, "mapped");
    ASSERT_TRUE(arena.host_visible());
    EXPECT_FALSE(arena.coherent());
    vk::Arena staged(context, 1 << 16, vk::MemoryUse::DeviceLocal, "mapped too");
    // Slices at offsets and sizes that are not multiples of the 64-byte atom.
    (void)arena.allocate(12, "pad");
    vk::BufferSlice first = arena.allocate(333 * sizeof(float), "first");
    vk::BufferSlice second = arena.allocate(77 * sizeof(float), "second");
    std::vector<float> a(333), b(77), a_back(333), b_back(77);
    for (size_t i = 0; i < a.size(); ++i) a[i] = float(i) * 0.5f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = -float(i);
    vk::upload(*context, first, a.data(), a.size() * sizeof(float));
    vk::upload(*context, second, b.data(), b.size() * sizeof(float));
    vk::download(*context, first, a_back.data(), a_back.size() * sizeof(float));
    vk::download(*context, second, b_back.data(), b_back.size() * sizeof(float));
    EXPECT_EQ(a_back, a);
    EXPECT_EQ(b_back, b);
  }
  expect_no_validation_messages(*context);
}

TEST(PortabilityTest, HeapTooSmallForTheWeightsIsNamedInTheError) {
  // A discrete GPU with 128 MiB of VRAM and a 64 MiB BAR window: weights that do not fit VRAM are
  // refused naming the heap, never put in the BAR window.
  testing::TestDirectory directory("portability");
  std::filesystem::create_directories(directory.path());
  const std::filesystem::path path = directory.path() / "small_vram.json";
  std::ofstream(path) << R"({
    "description": "discrete GPU with 128 MiB of VRAM", "modelled_on": "test only",
    "device": {"deviceType": "DISCRETE_GPU"}, "properties": {"subgroupSize": 32},
    "memory": {"heaps": [{"size": "128 MiB", "flags": ["DEVICE_LOCAL"]}, {"size": "1 GiB", "flags": []},
                         {"size": "64 MiB", "flags": ["DEVICE_LOCAL"]}],
               "types": [{"heap": 0, "flags": ["DEVICE_LOCAL"]},
                         {"heap": 1, "flags": ["HOST_VISIBLE", "HOST_COHERENT"]},
                         {"heap": 2, "flags": ["DEVICE_LOCAL", "HOST_VISIBLE", "HOST_COHERENT"]}]}})";
  ScopedProfile profile(path.string());
  auto context = create_context();
  try {
    vk::Arena weights(context, 200 << 20, vk::MemoryUse::DeviceLocal, "weights");
    ADD_FAILURE() << "200 MiB of weights fit a 128 MiB heap";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("out of device memory: weights needs 200.0 MiB, more than all of heap 0 "
                        "(device-local, 128.0 MiB)"),
              std::string::npos)
        << error.what();
  }
  expect_no_validation_messages(*context);
}

TEST(PortabilityTest, PortabilityDriverIsEnumeratedAndItsSubsetEnabled) {
  ScopedProfile profile("apple_portability");
  auto context = create_context();
  EXPECT_TRUE(context->info().portability_subset);
  EXPECT_EQ(context->info().type, "integrated GPU");
  expect_no_validation_messages(*context);  // the layer flags a device that does not enable the subset
}

TEST(PortabilityTest, Vulkan11DeviceIsRefusedWithOneLine) {
  ScopedProfile profile("vulkan_1_1");
  try {
    create_context();
    ADD_FAILURE() << "a Vulkan 1.1 device was accepted";
  } catch (const DeviceError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("supports Vulkan 1.1.0; vkvision needs 1.2"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  const auto devices = list_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_FALSE(devices[0].unsupported_reason.empty());  // `vkvision devices` still lists it, saying why
}

TEST(PortabilityTest, DeviceWithFewerStorageBuffersPerStageThanAKernelBindsIsRefused) {
  // The spec allows 4; window_attention_projection binds 8.
  testing::TestDirectory directory("portability");
  std::filesystem::create_directories(directory.path());
  const std::filesystem::path path = directory.path() / "four_storage_buffers.json";
  std::ofstream(path) << R"({"description": "4 storage buffers per stage", "modelled_on": "test only",
                             "limits": {"maxPerStageDescriptorStorageBuffers": 4}})";
  ScopedProfile profile(path.string());
  try {
    create_context();
    ADD_FAILURE() << "a device with 4 storage buffers per stage was accepted";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("allows 4 storage buffers per shader stage; vkvision's kernels bind up to 8"),
              std::string::npos)
        << error.what();
  }
}

TEST(PortabilityTest, SpecMinimumLimitsAreWhatTheContextReports) {
  ScopedProfile profile("spec_minimum");
  auto context = create_context();
  const DeviceInfo& info = context->info();
  EXPECT_EQ(info.max_workgroup_invocations, 128u);
  EXPECT_EQ(info.max_texel_buffer_elements, 65536u);
  EXPECT_EQ(info.min_storage_buffer_offset_alignment, 256u);
  EXPECT_EQ(info.non_coherent_atom_size, 256u);
  EXPECT_EQ(info.max_memory_allocation_size, uint64_t(1) << 30);
  EXPECT_EQ(info.timestamp_valid_bits, 36u);
  EXPECT_FALSE(info.texel_buffer_rgba32f);
  EXPECT_FALSE(info.texel_buffer_rgba16f);
  EXPECT_EQ(vk::binding_alignment(info), 256u);
  EXPECT_EQ(vk::max_arena_bytes(info), uint64_t(1) << 30);
  expect_no_validation_messages(*context);
}

TEST(TimestampTest, IntervalsAreTakenModuloTheValidBits) {
  const uint64_t wrap = uint64_t(1) << 36;
  EXPECT_EQ(vk::elapsed_ticks(100, 250, 64), 150u);
  EXPECT_EQ(vk::elapsed_ticks(wrap - 10, 5, 36), 15u);  // the counter wrapped between the two
  // Bits above the valid ones are garbage the driver may leave set.
  EXPECT_EQ(vk::elapsed_ticks((uint64_t(7) << 40) | 100, (uint64_t(3) << 50) | 130, 36), 30u);
  EXPECT_EQ(vk::elapsed_ticks(~uint64_t(0), 0, 64), 1u);
}

}  // namespace
}  // namespace vkvision
