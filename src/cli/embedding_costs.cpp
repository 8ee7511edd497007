#include "cli/embedding_costs.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "api/preprocess_config.h"
#include "api/state.h"
#include "exec/image_input.h"
#include "vk/check.h"
#include "vk/timestamps.h"

namespace vkvision::cli {
namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// A sampled RGBA8 image on the device with a gradient in it, left in SHADER_READ_ONLY_OPTIMAL.
class TestImage {
 public:
  TestImage(const std::shared_ptr<vk::Context>& context, uint32_t width, uint32_t height)
      : context_(context) {
    const VkDevice device = context->device();
    VkImageCreateInfo info{.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                           .imageType = VK_IMAGE_TYPE_2D,
                           .format = VK_FORMAT_R8G8B8A8_UNORM,
                           .extent = {width, height, 1},
                           .mipLevels = 1,
                           .arrayLayers = 1,
                           .samples = VK_SAMPLE_COUNT_1_BIT,
                           .tiling = VK_IMAGE_TILING_OPTIMAL,
                           .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT};
    VKV_CHECK(vkCreateImage(device, &info, nullptr, &image_));
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(device, image_, &needs);
    const auto& memory = context->memory_properties();
    uint32_t type = 0;
    while (!((needs.memoryTypeBits >> type & 1) &&
             (memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)))
      ++type;
    VkMemoryAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = needs.size,
                                  .memoryTypeIndex = type};
    VKV_CHECK(vkAllocateMemory(device, &allocate, nullptr, &memory_));
    VKV_CHECK(vkBindImageMemory(device, image_, memory_, 0));
    VkImageViewCreateInfo view_info{.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                    .image = image_,
                                    .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                    .format = VK_FORMAT_R8G8B8A8_UNORM,
                                    .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    VKV_CHECK(vkCreateImageView(device, &view_info, nullptr, &view_));

    vk::Arena staging(context, VkDeviceSize(width) * height * 4, vk::MemoryUse::Upload, "bench image");
    const vk::BufferSlice pixels = staging.slice(0, staging.size());
    for (uint32_t y = 0; y < height; ++y)
      for (uint32_t x = 0; x < width; ++x) {
        std::byte* p = pixels.mapped + (size_t(y) * width + x) * 4;
        p[0] = std::byte(x * 255 / width), p[1] = std::byte(y * 255 / height),
        p[2] = std::byte((x ^ y) & 255);
        p[3] = std::byte(255);
      }
    pixels.flush();
    vk::CommandBuffer commands(*context);
    commands.begin();
    transition(commands.handle(), VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
               VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
               VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferImageCopy region{.bufferOffset = pixels.offset,
                             .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                             .imageExtent = {width, height, 1}};
    vkCmdCopyBufferToImage(commands.handle(), pixels.buffer, image_, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                           &region);
    transition(commands.handle(), VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
               VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
               VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    commands.end();
    context->submit_and_wait(commands.handle());
    input_ = {.view = view_, .format = VK_FORMAT_R8G8B8A8_UNORM, .width = width, .height = height};
  }
  ~TestImage() {
    vkDestroyImageView(context_->device(), view_, nullptr);
    vkDestroyImage(context_->device(), image_, nullptr);
    vkFreeMemory(context_->device(), memory_, nullptr);
  }
  const ImageInput& input() const { return input_; }

 private:
  void transition(VkCommandBuffer commands, VkImageLayout from, VkImageLayout to, VkPipelineStageFlags source,
                  VkAccessFlags source_access, VkPipelineStageFlags destination,
                  VkAccessFlags destination_access) {
    VkImageMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                                 .srcAccessMask = source_access,
                                 .dstAccessMask = destination_access,
                                 .oldLayout = from,
                                 .newLayout = to,
                                 .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .image = image_,
                                 .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(commands, source, destination, 0, 0, nullptr, 0, nullptr, 1, &barrier);
  }

  std::shared_ptr<vk::Context> context_;
  VkImage image_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkImageView view_ = VK_NULL_HANDLE;
  ImageInput input_;
};

// The CPU time of session.record() alone, between the command buffer's begin and end.
double record_microseconds(const vk::Context& context, Session& session, const Bindings& bindings,
                           uint32_t iterations) {
  VkCommandPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .queueFamilyIndex = context.queue_family()};
  VkCommandPool pool;
  VKV_CHECK(vkCreateCommandPool(context.device(), &pool_info, nullptr, &pool));
  VkCommandBufferAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
  VkCommandBuffer commands;
  VKV_CHECK(vkAllocateCommandBuffers(context.device(), &allocate, &commands));
  std::vector<double> us;
  for (uint32_t i = 0; i <= iterations; ++i) {  // the first, which prepares an image's tables, is not counted
    VKV_CHECK(vkResetCommandPool(context.device(), pool, 0));
    VkCommandBufferBeginInfo begin{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKV_CHECK(vkBeginCommandBuffer(commands, &begin));
    const auto start = std::chrono::steady_clock::now();
    session.record(commands, bindings);
    const auto end = std::chrono::steady_clock::now();
    VKV_CHECK(vkEndCommandBuffer(commands));
    if (i > 0) us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  vkDestroyCommandPool(context.device(), pool, nullptr);
  return median(us);
}

}  // namespace

EmbeddingCosts measure_embedding_costs(const std::shared_ptr<Runtime>& runtime, Session& session,
                                       const Model& model, uint32_t iterations) {
  auto& state = detail::Access::state(*runtime);
  const std::shared_ptr<vk::Context>& context = state.context;
  EmbeddingCosts costs;
  const VkDeviceSize input_bytes = VkDeviceSize(session.batch()) * session.input_channels() *
                                   session.input_size() * session.input_size() * 4;
  const VkDeviceSize output_bytes = VkDeviceSize(session.batch()) * model.info().num_classes * 4;
  vk::Arena input(context, input_bytes, vk::MemoryUse::DeviceLocal, "bench input");
  vk::Arena output(context, output_bytes, vk::MemoryUse::DeviceLocal, "bench logits");
  const VkBufferUsageFlags usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  const BufferRange logits{output.buffer(), 0, output_bytes, usage};
  costs.record_buffer_us = record_microseconds(
      *context, session, {.input_buffer = {input.buffer(), 0, input_bytes, usage}, .output_buffer = logits},
      iterations);

  const TestImage image(context, costs.image_width, costs.image_height);
  costs.record_image_us = record_microseconds(
      *context, session,
      {.input_images = std::vector<ImageInput>(session.batch(), image.input()), .output_buffer = logits},
      iterations);

  // The CPU path on the same pixels, for comparison.
  const io::PreprocessConfig config =
      detail::preprocess_config(model.info().preprocessing, session.input_size());
  io::Image pixels{.width = int(costs.image_width), .height = int(costs.image_height), .channels = 3};
  pixels.pixels.resize(size_t(costs.image_width) * costs.image_height * 3);
  for (uint32_t y = 0; y < costs.image_height; ++y)
    for (uint32_t x = 0; x < costs.image_width; ++x) {
      uint8_t* p = &pixels.pixels[(size_t(y) * costs.image_width + x) * 3];
      p[0] = uint8_t(x * 255 / costs.image_width), p[1] = uint8_t(y * 255 / costs.image_height);
      p[2] = uint8_t((x ^ y) & 255);
    }
  costs.host_preprocess_ms = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    io::preprocess(pixels, config);
    costs.host_preprocess_ms =
        std::min(costs.host_preprocess_ms,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }

  const DeviceInfo& info = context->info();
  if (!info.timestamps) return costs;
  exec::ImagePreprocessor preprocessor(context, *state.pipelines, config);
  const VkDeviceSize image_bytes = input_bytes / session.batch();
  VkQueryPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                  .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                  .queryCount = 2};
  VkQueryPool queries;
  VKV_CHECK(vkCreateQueryPool(context->device(), &pool_info, nullptr, &queries));
  vk::CommandBuffer commands(*context);
  commands.begin();
  commands.reset_queries(queries, 0, 2);
  commands.write_timestamp(queries, 0);
  preprocessor.record(commands, image.input(), input.slice(0, image_bytes));
  commands.write_timestamp(queries, 1);
  commands.end();
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    context->submit_and_wait(commands.handle());
    uint64_t ticks[2];
    VKV_CHECK(vkGetQueryPoolResults(context->device(), queries, 0, 2, sizeof(ticks), ticks, sizeof(uint64_t),
                                    VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    ms.push_back(double(vk::elapsed_ticks(ticks[0], ticks[1], info.timestamp_valid_bits)) *
                 info.timestamp_period_ns * 1e-6);
  }
  vkDestroyQueryPool(context->device(), queries, nullptr);
  costs.preprocess_ms = median(ms) * session.batch();
  std::vector<float> zeros(size_t(input_bytes / 4), 0.0f);
  double network = 0;
  for (const LayerTiming& layer : session.profile(zeros)) network += layer.milliseconds;
  costs.network_ms = network;
  return costs;
}

}  // namespace vkvision::cli
