#include "exec/frame_recording.h"

#include <cstring>
#include <string>
#include <vector>

#include "vkvision/error.h"

namespace vkvision::exec {
namespace {

constexpr VkPipelineStageFlags kOwnStages =
    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
constexpr VkAccessFlags kOwnWrites = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
constexpr VkAccessFlags kOwnAccesses = kOwnWrites | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT;

bool has_graphics(const vk::Context& context) {
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(context.physical_device(), &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(context.physical_device(), &count, families.data());
  return context.queue_family() < count &&
         (families[context.queue_family()].queueFlags & VK_QUEUE_GRAPHICS_BIT);
}

void check_range(const BufferRange& range, const char* name, VkDeviceSize needed, VkBufferUsageFlags usage,
                 const char* usage_name) {
  if (range.size < needed)
    throw InputError(std::string("Bindings::") + name + ": " + std::to_string(range.size) +
                     " bytes, the session needs " + std::to_string(needed));
  if (!(range.usage & usage))
    throw InputError(std::string("Bindings::") + name + ": the buffer's usage lacks " + usage_name +
                     " (vkvision copies " + (usage == VK_BUFFER_USAGE_TRANSFER_SRC_BIT ? "from" : "into") +
                     " it); state BufferRange::usage as the buffer was created");
}

vk::BufferSlice prefix(const vk::BufferSlice& slice, VkDeviceSize size) {
  vk::BufferSlice part = slice;
  part.size = size;
  return part;
}

vk::BufferSlice host_slice(const BufferRange& range, VkDeviceSize offset, VkDeviceSize size) {
  return {.buffer = range.buffer, .offset = range.offset + offset, .size = size};
}

}  // namespace

FrameRecorder::FrameRecorder(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines,
                             const Plan& plan, io::PreprocessConfig preprocessing)
    : context_(std::move(context)),
      pipelines_(pipelines),
      plan_(plan),
      preprocessing_(std::move(preprocessing)),
      graphics_queue_(has_graphics(*context_)) {}

FrameRecorder::~FrameRecorder() = default;

void FrameRecorder::check(const Bindings& bindings) const {
  const bool buffer_input = bindings.input_buffer.buffer != VK_NULL_HANDLE;
  if (buffer_input && !bindings.input_images.empty())
    throw InputError("Bindings: both input_buffer and input_images are set; give one input");
  const VkDeviceSize input_bytes = plan_.input_count() * sizeof(float);
  const VkDeviceSize output_bytes = plan_.output_count() * sizeof(float);
  if (buffer_input)
    check_range(bindings.input_buffer, "input_buffer", input_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                "VK_BUFFER_USAGE_TRANSFER_SRC_BIT");
  if (bindings.output_buffer.buffer)
    check_range(bindings.output_buffer, "output_buffer", output_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                "VK_BUFFER_USAGE_TRANSFER_DST_BIT");
  if (!bindings.input_images.empty()) {
    if (bindings.input_images.size() != plan_.batch())
      throw InputError("Bindings::input_images: " + std::to_string(bindings.input_images.size()) +
                       " images for a session of batch " + std::to_string(plan_.batch()));
    // The preprocessor's checks need no device state; a temporary one is not built for them.
    if (images_)
      for (const ImageInput& image : bindings.input_images) images_->check(image);
  }
}

vk::Arena& FrameRecorder::own_input() {
  if (!own_input_)
    own_input_ = std::make_unique<vk::Arena>(context_, plan_.input_count() * sizeof(float),
                                             vk::MemoryUse::Upload, "session input");
  return *own_input_;
}

vk::Arena& FrameRecorder::own_logits() {
  if (!own_logits_)
    own_logits_ = std::make_unique<vk::Arena>(context_, plan_.output_count() * sizeof(float),
                                              vk::MemoryUse::Readback, "session logits");
  return *own_logits_;
}

void FrameRecorder::record(vk::CommandBuffer& commands, const Bindings& bindings) {
  if (!bindings.input_images.empty() && !images_)
    images_ = std::make_unique<ImagePreprocessor>(context_, pipelines_, preprocessing_);
  check(bindings);
  const uint32_t batch = plan_.batch(), sub_batch = plan_.sub_batch();
  const VkDeviceSize image_in = plan_.input_count() / batch * sizeof(float);
  const VkDeviceSize image_out = plan_.output_count() / batch * sizeof(float);
  const vk::BufferSlice& input = plan_.input_slice();
  const vk::BufferSlice& output = plan_.output_slice();
  const bool own_input_used = !bindings.input_buffer.buffer && bindings.input_images.empty();
  if (own_input_used) own_input();
  if (!bindings.output_buffer.buffer) own_logits();

  for (uint32_t first = 0; first < batch; first += sub_batch) {
    const uint32_t images = std::min(sub_batch, batch - first);
    // Entry: the host's last write of the input, and vkvision's own earlier work on these buffers
    // (a previous sub-batch or frame), before anything here reads or overwrites them. (Host writes
    // to the session's own input are made visible by the submit itself.)
    commands.memory_barrier(bindings.input_stages | kOwnStages, bindings.input_access | kOwnWrites,
                            kOwnStages, kOwnAccesses);
    const VkDeviceSize used = images * image_in;
    if (bindings.input_buffer.buffer) {
      commands.copy(host_slice(bindings.input_buffer, first * image_in, used), prefix(input, used));
    } else if (!bindings.input_images.empty()) {
      for (uint32_t i = 0; i < images; ++i)
        images_->record(commands, bindings.input_images[first + i],
                        {.buffer = input.buffer, .offset = input.offset + i * image_in, .size = image_in});
    } else {
      commands.copy(own_input_->slice(first * image_in, used), prefix(input, used));
    }
    // A last sub-batch with fewer images runs zeros in the rest (rows never mix; their logits are
    // dropped), as run() does.
    if (used < input.size)
      vkCmdFillBuffer(commands.handle(), input.buffer, input.offset + used, input.size - used, 0);
    commands.memory_barrier(kOwnStages, kOwnWrites, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    plan_.record_dispatches(commands);
    commands.barrier_compute_to_transfer();
    const VkDeviceSize logits = images * image_out;
    const vk::BufferSlice destination = bindings.output_buffer.buffer
                                            ? host_slice(bindings.output_buffer, first * image_out, logits)
                                            : own_logits_->slice(first * image_out, logits);
    commands.copy(prefix(output, logits), destination);
  }
  // Exit: the logits visible to whoever the host says reads them next.
  VkPipelineStageFlags readers = bindings.output_stages;
  if (!readers) {
    readers = kOwnStages | VK_PIPELINE_STAGE_HOST_BIT;
    if (graphics_queue_)
      readers |= VK_PIPELINE_STAGE_VERTEX_SHADER_BIT | VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT;
  }
  const VkAccessFlags reads =
      bindings.output_access
          ? bindings.output_access
          : VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT;
  commands.memory_barrier(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, readers, reads);
}

void FrameRecorder::write_input(std::span<const float> input) {
  vk::Arena& arena = own_input();
  const vk::BufferSlice slice = arena.slice(0, input.size_bytes());
  std::memcpy(slice.mapped, input.data(), input.size_bytes());
  slice.flush();
}

void FrameRecorder::read_logits(std::span<float> logits) const {
  if (!own_logits_) throw Error("internal: no session logits recorded");
  const vk::BufferSlice slice = own_logits_->slice(0, logits.size_bytes());
  slice.invalidate();
  std::memcpy(logits.data(), slice.mapped, logits.size_bytes());
}

}  // namespace vkvision::exec
