// Which memory type each kind of buffer takes, chosen by heap and property flags as the vendors'
// memory guides recommend. Pure functions of the device's reported memory properties, so they are
// tested on the memory models of real GPUs (tests/vk/test_memory_types.cpp) without those GPUs.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <optional>
#include <string>

namespace vkvision::vk {

enum class MemoryUse {
  DeviceLocal,  // weights and activations: fastest for the device, host-visible only on unified memory
  Upload,       // host writes, device reads (staging for inputs and weights)
  Readback,     // device writes, host reads (staging for outputs); host-cached where available
};

// The heap weights and activations live in: the largest device-local heap (on a discrete GPU its
// VRAM, never the 256 MiB BAR window beside it), else the largest heap of all.
uint32_t device_heap(const VkPhysicalDeviceMemoryProperties& memory);

// Whether weights and activations may be mapped: the device heap itself has a host-visible type
// (integrated GPUs, CPU drivers, resizable BAR). Not when the only device-local host-visible type
// sits on a small heap of its own (the BAR window of a discrete GPU without resizable BAR).
bool device_heap_mappable(const VkPhysicalDeviceMemoryProperties& memory);

// The memory type for `use` among `allowed_types` (a buffer's memoryTypeBits), or nullopt when
// none has the flags the use needs. map_device_memory: DeviceLocal buffers are to be mapped
// (device_heap_mappable and not forced to stage).
// DeviceLocal: a device-local type on the device heap, host-visible (coherent preferred) when
//   mapped, else preferably not host-visible.
// Upload: host-visible, preferably coherent and not device-local (system RAM, not the BAR window).
// Readback: host-visible, preferably host-cached (reads of write-combined memory are slow), then
//   coherent, then not device-local.
std::optional<uint32_t> choose_memory_type(const VkPhysicalDeviceMemoryProperties& memory,
                                           uint32_t allowed_types, MemoryUse use, bool map_device_memory);

// "device-local, host-visible, coherent": the words of a type's property flags, for messages and
// `vkvision devices`.
std::string memory_flag_words(VkMemoryPropertyFlags flags);

}  // namespace vkvision::vk
