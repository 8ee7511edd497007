// Device memory: arenas (one VkDeviceMemory + one VkBuffer each) that tensors are sub-allocated
// from, and the upload/download paths for unified memory (map) and discrete GPUs (staging copies).
#pragma once
#include <vulkan/vulkan.h>

#include <cstddef>
#include <memory>
#include <string>

#include "vk/context.h"
#include "vk/memory_types.h"

namespace vkvision::vk {

class Arena;

// A range of an arena's buffer: what a descriptor binds and a copy reads or writes.
struct BufferSlice {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;
  std::byte* mapped = nullptr;   // host pointer to offset, when the arena is host-visible
  const Arena* arena = nullptr;  // the arena it is part of (to flush or invalidate a mapped range)

  // After host writes through `mapped` / before host reads of it: no-ops on coherent memory.
  void flush() const;
  void invalidate() const;
};

class Arena {
 public:
  // size 0 is allowed and creates nothing. Throws DeviceError ("out of device memory: <purpose>
  // needs ...") when the device or DeviceOptions::device_memory_budget has too little left, holding
  // nothing afterwards; throws at once on a lost context.
  Arena(std::shared_ptr<Context> context, VkDeviceSize size, MemoryUse use, const std::string& purpose);
  ~Arena();  // gives the memory (and its budget) back, unless a hung submit may still use it
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Bump allocation, aligned to the device's storage-buffer offset alignment. `what` names the tensor
  // in the error raised when the slice is larger than a descriptor can address or the arena is full.
  BufferSlice allocate(VkDeviceSize size, const std::string& what);
  // A slice at a planned offset (memory plans compute offsets themselves).
  BufferSlice slice(VkDeviceSize offset, VkDeviceSize size) const;

  VkBuffer buffer() const { return buffer_; }
  VkDeviceSize size() const { return size_; }
  bool host_visible() const { return mapped_ != nullptr; }
  VkDeviceSize alignment() const { return alignment_; }
  // Makes host writes to [offset, offset + size) visible to the device when the memory is not
  // coherent (the range widened to nonCoherentAtomSize); the whole arena by default.
  void flush(VkDeviceSize offset = 0, VkDeviceSize size = VK_WHOLE_SIZE) const;
  // Makes device writes to the range visible to the host when the memory is not coherent.
  void invalidate(VkDeviceSize offset = 0, VkDeviceSize size = VK_WHOLE_SIZE) const;
  bool coherent() const { return coherent_; }
  uint32_t memory_type() const { return memory_type_; }
  uint32_t heap() const { return heap_; }

 private:
  void create(MemoryUse use, const std::string& purpose);
  [[noreturn]] void throw_allocation_failure(VkResult result, const char* call, const std::string& purpose,
                                             VkDeviceSize bytes) const;
  void destroy();
  VkMappedMemoryRange atom_range(VkDeviceSize offset, VkDeviceSize size) const;

  std::shared_ptr<Context> context_;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkDeviceSize size_ = 0;
  VkDeviceSize used_ = 0;
  VkDeviceSize reserved_ = 0;  // bytes counted against the context's memory budget
  VkDeviceSize alignment_ = 16;
  VkDeviceSize allocation_size_ = 0;
  uint32_t memory_type_ = 0, heap_ = 0;
  bool coherent_ = true;
  std::byte* mapped_ = nullptr;
};

// The offset alignment every tensor slice gets: valid for storage and texel-buffer bindings alike.
VkDeviceSize binding_alignment(const DeviceInfo& info);

// The most bytes one arena may hold: maxMemoryAllocationSize and maxBufferSize (larger data is split
// over several arenas, or run in sub-batches).
VkDeviceSize max_arena_bytes(const DeviceInfo& info);

// Rounds up to a multiple of alignment (a power of two or any positive value).
inline VkDeviceSize align_up(VkDeviceSize value, VkDeviceSize alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// Copies host bytes into a device slice: memcpy when mapped, else through a temporary staging
// buffer and one submitted copy. For one-time uploads (weights); per-inference I/O is recorded.
void upload(Context& context, const BufferSlice& destination, const void* data, size_t bytes);
// Copies a device slice to host memory (tests and debugging; inference output uses the plan's path).
void download(Context& context, const BufferSlice& source, void* data, size_t bytes);

// Whether device-local memory can be mapped directly (unified memory, and not forced to stage).
bool device_memory_mappable(const Context& context);

}  // namespace vkvision::vk
