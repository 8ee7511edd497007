// Memory-type choice on the memory models real GPUs report (figures as in their vulkaninfo reports:
// heaps, and types in the drivers' order), without the GPUs: vk/memory_types.h is a pure function of
// VkPhysicalDeviceMemoryProperties.
#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

#include "vk/memory_types.h"

namespace vkvision::vk {
namespace {

constexpr VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                HC = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                CACHED = VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                                LAZY = VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT,
                                AMD_COHERENT = VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD |
                                               VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD;
constexpr uint64_t MiB = uint64_t(1) << 20, GiB = uint64_t(1) << 30;

struct Heap {
  uint64_t size;
  bool device_local;
};

VkPhysicalDeviceMemoryProperties model(
    std::initializer_list<Heap> heaps,
    std::initializer_list<std::pair<VkMemoryPropertyFlags, uint32_t>> types) {
  VkPhysicalDeviceMemoryProperties memory{};
  for (const Heap& heap : heaps)
    memory.memoryHeaps[memory.memoryHeapCount++] = {
        heap.size, heap.device_local ? VkMemoryHeapFlags(VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) : 0u};
  for (const auto& [flags, heap] : types) memory.memoryTypes[memory.memoryTypeCount++] = {flags, heap};
  return memory;
}

// NVIDIA RTX 3070 without resizable BAR: 8 GiB VRAM, system RAM, and the 256 MiB BAR window.
VkPhysicalDeviceMemoryProperties nvidia_without_rebar() {
  return model({{8 * GiB, true}, {16 * GiB, false}, {246 * MiB, true}},
               {{0, 1}, {DL, 0}, {DL, 0}, {HV | HC, 1}, {HV | HC | CACHED, 1}, {DL | HV | HC, 2}});
}

uint32_t choose(const VkPhysicalDeviceMemoryProperties& memory, MemoryUse use, uint32_t allowed = ~0u) {
  auto type = choose_memory_type(memory, allowed, use, device_heap_mappable(memory));
  EXPECT_TRUE(type.has_value());
  return type.value_or(~0u);
}

TEST(MemoryTypesTest, DiscreteGpuWithoutResizableBarKeepsWeightsInVramAndStagesThroughSystemMemory) {
  const auto memory = nvidia_without_rebar();
  EXPECT_EQ(device_heap(memory), 0u);  // VRAM, not the BAR window although that is device-local too
  EXPECT_FALSE(device_heap_mappable(memory));
  EXPECT_EQ(choose(memory, MemoryUse::DeviceLocal), 1u);
  EXPECT_EQ(choose(memory, MemoryUse::Upload), 3u);    // system RAM, coherent; not the BAR window
  EXPECT_EQ(choose(memory, MemoryUse::Readback), 4u);  // host-cached
}

TEST(MemoryTypesTest, ResizableBarMapsTheWholeVramHeap) {
  // NVIDIA with resizable BAR: the device-local host-visible type lives on the VRAM heap itself.
  const auto memory = model({{8 * GiB, true}, {16 * GiB, false}},
                            {{0, 1}, {DL, 0}, {HV | HC, 1}, {HV | HC | CACHED, 1}, {DL | HV | HC, 0}});
  EXPECT_TRUE(device_heap_mappable(memory));
  EXPECT_EQ(choose(memory, MemoryUse::DeviceLocal), 4u);
  EXPECT_EQ(choose(memory, MemoryUse::Readback), 3u);
}

TEST(MemoryTypesTest, AmdDeviceCoherentTypesAreNeverTaken) {
  // AMD RX 580 without Smart Access Memory, with the AMD device-coherent debugging types listed first.
  const auto memory =
      model({{8 * GiB, true}, {16 * GiB, false}, {256 * MiB, true}}, {{DL | AMD_COHERENT, 0},
                                                                      {DL, 0},
                                                                      {HV | HC, 1},
                                                                      {DL | HV | HC, 2},
                                                                      {HV | HC | CACHED, 1},
                                                                      {HV | HC | AMD_COHERENT, 1}});
  EXPECT_FALSE(device_heap_mappable(memory));
  EXPECT_EQ(choose(memory, MemoryUse::DeviceLocal), 1u);
  EXPECT_EQ(choose(memory, MemoryUse::Upload), 2u);
  EXPECT_EQ(choose(memory, MemoryUse::Readback), 4u);
}

TEST(MemoryTypesTest, IntegratedGpuMapsDeviceMemoryPreferringCoherentCachedTypes) {
  // Intel UHD 770: one heap; every host-visible type is device-local.
  const auto memory = model({{12 * GiB, true}}, {{DL, 0}, {DL | HV | HC, 0}, {DL | HV | HC | CACHED, 0}});
  EXPECT_TRUE(device_heap_mappable(memory));
  EXPECT_EQ(choose(memory, MemoryUse::DeviceLocal), 2u);
  EXPECT_EQ(choose(memory, MemoryUse::Upload), 1u);  // coherent, first of the equally good
  EXPECT_EQ(choose(memory, MemoryUse::Readback), 2u);
}

TEST(MemoryTypesTest, NonCoherentHostVisibleMemoryIsTakenWhenNothingElseIsMappable) {
  const auto memory = model({{4 * GiB, true}}, {{DL, 0}, {DL | HV | CACHED, 0}});
  EXPECT_TRUE(device_heap_mappable(memory));
  EXPECT_EQ(choose(memory, MemoryUse::DeviceLocal), 1u);
  EXPECT_EQ(choose(memory, MemoryUse::Upload), 1u);
}

TEST(MemoryTypesTest, LazilyAllocatedMemoryIsNeverTaken) {
  // Apple M1 through MoltenVK: private, shared, and memoryless (lazily allocated) types.
  const auto memory = model({{16 * GiB, true}}, {{DL | LAZY, 0}, {DL, 0}, {DL | HV | HC, 0}});
  EXPECT_EQ(choose(memory, MemoryUse::DeviceLocal), 2u);
  EXPECT_FALSE(choose_memory_type(memory, 0b001u, MemoryUse::DeviceLocal, true).has_value());
  EXPECT_FALSE(choose_memory_type(memory, 0b001u, MemoryUse::DeviceLocal, false).has_value());
}

TEST(MemoryTypesTest, OnlyTypesTheBufferAllowsAreTaken) {
  const auto memory = nvidia_without_rebar();
  EXPECT_EQ(choose(memory, MemoryUse::Readback, 1u << 3), 3u);  // not host-cached, but the only one allowed
  EXPECT_FALSE(choose_memory_type(memory, 1u << 1, MemoryUse::Upload, false).has_value());
  EXPECT_FALSE(
      choose_memory_type(memory, 1u << 5, MemoryUse::DeviceLocal, false).has_value());  // BAR-window only
}

TEST(MemoryTypesTest, FlagWordsNameEveryPropertyVkvisionLooksAt) {
  EXPECT_EQ(memory_flag_words(DL | HV | HC | CACHED), "device-local, host-visible, coherent, cached");
  EXPECT_EQ(memory_flag_words(0), "no flags");
}

}  // namespace
}  // namespace vkvision::vk
