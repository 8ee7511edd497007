// Running a session inside a host application's frame (docs/EMBEDDING.md): its inputs and outputs in
// the host's own buffers and images, recorded into the host's command buffers or submitted with the
// host's semaphores. Plain values; the Vulkan handles in them stay the host's.
#pragma once
#include <vulkan/vulkan.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace vkvision {

// A range of a host VkBuffer, and the usage flags it was created with (checked: vkvision copies
// from an input buffer and into an output buffer, so they need TRANSFER_SRC and TRANSFER_DST).
// size: at least what the session reads or writes there.
struct BufferRange {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;
  VkBufferUsageFlags usage = 0;
};

// A host image the session preprocesses on the GPU (resize, centre crop, normalise: the model's own
// eval transform, bit-identical to the CPU path's) into the network's input.
struct ImageInput {
  // A 2D view of the image's first mip level and layer, created from an image with
  // VK_IMAGE_USAGE_SAMPLED_BIT. Formats: R8G8B8A8 and B8G8R8A8 UNORM and SRGB, R16G16B16A16_SFLOAT,
  // R32G32B32A32_SFLOAT (values in [0, 1], quantised to 8 bits as the CPU path's decoded pixels are).
  VkImageView view = VK_NULL_HANDLE;
  VkFormat format = VK_FORMAT_UNDEFINED;
  uint32_t width = 0, height = 0;  // the view's extent
  // The layout the image is in when the recorded commands run; it is left in it.
  // SHADER_READ_ONLY_OPTIMAL, GENERAL, or READ_ONLY_OPTIMAL.
  VkImageLayout layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
  // The source rectangle in pixels; width or height 0: the whole image.
  uint32_t x = 0, y = 0, rect_width = 0, rect_height = 0;
};

// What a recorded or submitted inference reads and writes. Input: exactly one of input_buffer
// (float32 NCHW [batch, channels, size, size], normalised), input_images (one per image of the
// batch), or neither (the values last given to Session::write_input). Output: output_buffer (float32
// logits [batch, classes]), or none (read them with Session::logits() once the work is done).
//
// Synchronisation at entry: vkvision's first command is a memory barrier from input_stages and
// input_access (and its own earlier work) to its reads, so the host only orders its own writes
// before the recorded commands; images must already be in `layout`. At exit: a barrier from
// vkvision's writes to output_stages and output_access.
struct Bindings {
  BufferRange input_buffer;
  std::vector<ImageInput> input_images;
  BufferRange output_buffer;
  // What last wrote the input (buffer or image). The default covers any earlier command.
  VkPipelineStageFlags input_stages = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
  VkAccessFlags input_access = VK_ACCESS_MEMORY_WRITE_BIT;
  // Who reads the logits next. 0: compute shaders, transfers and the host, plus vertex and fragment
  // shaders where the runtime's queue family has graphics.
  VkPipelineStageFlags output_stages = 0;
  VkAccessFlags output_access = 0;  // 0: shader, transfer and host reads
};

// What a Session::submit waits for and signals, in the host's semaphores. A timeline semaphore's
// value goes in wait_values/signal_value (ignored for binary semaphores).
struct SubmitSync {
  std::vector<VkSemaphore> wait_semaphores;
  std::vector<VkPipelineStageFlags> wait_stages;  // one per wait semaphore
  std::vector<uint64_t> wait_values;              // empty, or one per wait semaphore
  VkSemaphore signal_semaphore = VK_NULL_HANDLE;
  uint64_t signal_value = 0;
};

namespace detail {
struct TicketState;
}

// One submitted inference. Copies refer to the same submission; it may outlive the session.
class Ticket {
 public:
  Ticket() = default;  // a ticket for nothing: ready at once
  explicit Ticket(std::shared_ptr<const detail::TicketState> state);
  // True once the submission's work has finished. Throws DeviceError on a lost device; thread-safe.
  bool ready() const;
  // Waits at most `timeout` for the work; true when it finished. Throws DeviceError on a lost device;
  // thread-safe.
  bool wait(std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) const;

 private:
  std::shared_ptr<const detail::TicketState> state_;
};

}  // namespace vkvision
