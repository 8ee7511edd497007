#include "vk/memory_types.h"

namespace vkvision::vk {
namespace {

constexpr VkMemoryPropertyFlags kDeviceLocal = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
constexpr VkMemoryPropertyFlags kHostVisible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
constexpr VkMemoryPropertyFlags kCoherent = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
constexpr VkMemoryPropertyFlags kCached = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
// Types vkvision never takes: lazily allocated (tile memory), protected, and AMD's device-coherent
// types (uncached, for debugging markers).
constexpr VkMemoryPropertyFlags kNeverUsed =
    VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT |
    VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD | VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD;

bool has(VkMemoryPropertyFlags flags, VkMemoryPropertyFlags wanted) { return (flags & wanted) == wanted; }

}  // namespace

uint32_t device_heap(const VkPhysicalDeviceMemoryProperties& memory) {
  int best = -1;
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    if ((memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
        (best < 0 || memory.memoryHeaps[i].size > memory.memoryHeaps[best].size))
      best = static_cast<int>(i);
  if (best >= 0) return static_cast<uint32_t>(best);
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    if (best < 0 || memory.memoryHeaps[i].size > memory.memoryHeaps[best].size) best = static_cast<int>(i);
  return best < 0 ? 0 : static_cast<uint32_t>(best);
}

bool device_heap_mappable(const VkPhysicalDeviceMemoryProperties& memory) {
  const uint32_t heap = device_heap(memory);
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    const VkMemoryType& type = memory.memoryTypes[i];
    if (type.heapIndex == heap && has(type.propertyFlags, kDeviceLocal | kHostVisible) &&
        !(type.propertyFlags & kNeverUsed))
      return true;
  }
  return false;
}

std::optional<uint32_t> choose_memory_type(const VkPhysicalDeviceMemoryProperties& memory,
                                           uint32_t allowed_types, MemoryUse use, bool map_device_memory) {
  const uint32_t heap = device_heap(memory);
  int best = -1, best_score = -1;
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    if (!(allowed_types & (1u << i))) continue;
    const VkMemoryPropertyFlags flags = memory.memoryTypes[i].propertyFlags;
    if (flags & kNeverUsed) continue;
    int score = 0;
    switch (use) {
      case MemoryUse::DeviceLocal:
        if (memory.memoryTypes[i].heapIndex != heap || !has(flags, kDeviceLocal)) continue;
        if (map_device_memory) {
          if (!has(flags, kHostVisible)) continue;
          score = (flags & kCoherent ? 2 : 0) + (flags & kCached ? 1 : 0);
        } else {
          score = flags & kHostVisible ? 0 : 1;
        }
        break;
      case MemoryUse::Upload:
        if (!has(flags, kHostVisible)) continue;
        score = (flags & kCoherent ? 2 : 0) + (flags & kDeviceLocal ? 0 : 1);
        break;
      case MemoryUse::Readback:
        if (!has(flags, kHostVisible)) continue;
        score = (flags & kCached ? 4 : 0) + (flags & kCoherent ? 2 : 0) + (flags & kDeviceLocal ? 0 : 1);
        break;
    }
    if (score > best_score) best = static_cast<int>(i), best_score = score;  // ties: the lowest index
  }
  if (best < 0) return std::nullopt;
  return static_cast<uint32_t>(best);
}

std::string memory_flag_words(VkMemoryPropertyFlags flags) {
  std::string words;
  auto add = [&](VkMemoryPropertyFlags bit, const char* word) {
    if (!(flags & bit)) return;
    if (!words.empty()) words += ", ";
    words += word;
  };
  add(kDeviceLocal, "device-local");
  add(kHostVisible, "host-visible");
  add(kCoherent, "coherent");
  add(kCached, "cached");
  add(VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, "lazily allocated");
  add(VK_MEMORY_PROPERTY_PROTECTED_BIT, "protected");
  return words.empty() ? "no flags" : words;
}

}  // namespace vkvision::vk
