#include "exec/image_input.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "image_resample_abi.h"
#include "io/resample_weights.h"
#include "vk/check.h"
#include "vk/program.h"

namespace vkvision::exec {
namespace {

constexpr uint32_t kSetsPerPool = 16;
// Set 0's storage buffers: columns, rows, band, normalisation, sRGB decode.
constexpr uint32_t kImageSetBuffers = 5;
constexpr VkFormat kSrgbFormats[2] = {VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_B8G8R8A8_SRGB};
constexpr uint32_t kSrgbDecodeFloats = 2 * 256 * 4;

struct FormatEntry {
  VkFormat format;
  const char* name;
  uint32_t decode;
};
constexpr FormatEntry kFormats[] = {
    {VK_FORMAT_R8G8B8A8_UNORM, "R8G8B8A8_UNORM", IMAGE_DECODE_UNORM},
    {VK_FORMAT_R8G8B8A8_SRGB, "R8G8B8A8_SRGB", IMAGE_DECODE_SRGB},
    {VK_FORMAT_B8G8R8A8_UNORM, "B8G8R8A8_UNORM", IMAGE_DECODE_UNORM},
    {VK_FORMAT_B8G8R8A8_SRGB, "B8G8R8A8_SRGB", IMAGE_DECODE_SRGB},
    {VK_FORMAT_R16G16B16A16_SFLOAT, "R16G16B16A16_SFLOAT", IMAGE_DECODE_FLOAT},
    {VK_FORMAT_R32G32B32A32_SFLOAT, "R32G32B32A32_SFLOAT", IMAGE_DECODE_FLOAT},
};

const FormatEntry* find_format(VkFormat format) {
  for (const FormatEntry& entry : kFormats)
    if (entry.format == format) return &entry;
  return nullptr;
}

int srgb_index(VkFormat format) { return format == VK_FORMAT_B8G8R8A8_SRGB ? 1 : 0; }

struct Rect {
  uint32_t x = 0, y = 0, width = 0, height = 0;
};

// The source rectangle the transform sees: the whole image when either side is 0.
Rect source_rect(const ImageInput& image) {
  if (image.rect_width == 0 || image.rect_height == 0) return {0, 0, image.width, image.height};
  return {image.x, image.y, image.rect_width, image.rect_height};
}

// The exact 32-bit sum (image_resample.glsl) keeps hi = floor(sum / 2^16) in an int32, so every
// partial sum must stay below 2^47 in magnitude; 2^21 + 255 * sum |w| bounds them all.
constexpr int64_t kMaxExactSum = int64_t(1) << 47;

// One axis's table as the shaders read it: first[size] (shifted by `first_shift`), count[size],
// weights[size * taps]. Throws when the exact 32-bit sum could overflow (no real filter comes near).
std::vector<int32_t> axis_table(const io::AxisWeights& axis, int64_t first_shift) {
  const size_t size = axis.first.size();
  std::vector<int32_t> table(2 * size + axis.weights.size());
  for (size_t i = 0; i < size; ++i) {
    table[i] = int32_t(axis.first[i] + first_shift);
    table[size + i] = axis.count[i];
    int64_t bound = int64_t(1) << (io::kResamplePrecisionBits - 1);
    for (int t = 0; t < axis.count[i]; ++t) {
      bound += 255 * std::abs(int64_t(axis.weights[i * axis.taps + t]));
      if (bound >= kMaxExactSum)
        throw Error("internal: resampling weights too large for the GPU's exact 32-bit sum");
    }
  }
  std::copy(axis.weights.begin(), axis.weights.end(), table.begin() + 2 * size);
  return table;
}

// Host data into a device slice for compute shaders of later submissions: mapped memory needs
// only the flush (a submit makes host writes visible); a staged copy ends with its own barrier.
void upload_for_compute(vk::Context& context, const vk::BufferSlice& destination, const void* data,
                        size_t bytes) {
  if (destination.mapped) {
    vk::upload(context, destination, data, bytes);
    return;
  }
  auto shared = std::shared_ptr<vk::Context>(&context, [](vk::Context*) {});
  vk::Arena staging(shared, bytes, vk::MemoryUse::Upload, "image preprocessing staging buffer");
  std::memcpy(staging.slice(0, bytes).mapped, data, bytes);
  staging.flush();
  vk::CommandBuffer commands(context);
  commands.begin();
  commands.copy(staging.slice(0, bytes), destination);
  commands.barrier_transfer_to_compute();
  commands.end();
  context.submit_and_wait(commands.handle());
}

VkDescriptorBufferInfo buffer_info(const vk::BufferSlice& slice) {
  return {slice.buffer, slice.offset, slice.size};
}

}  // namespace

struct ImagePreprocessor::Prepared {
  std::unique_ptr<vk::Arena> arena;  // coefficient tables and band
  VkDescriptorSet set = VK_NULL_HANDLE;
  abi::ImageResamplePush push{};
  VkCommandBuffer last_commands = VK_NULL_HANDLE;  // where it was last recorded
};

ImagePreprocessor::ImagePreprocessor(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines,
                                     io::PreprocessConfig config)
    : context_(std::move(context)), pipelines_(pipelines), config_(std::move(config)) {
  io::check_config(config_);
  try {
    create();
  } catch (...) {
    destroy();  // the destructor does not run for a constructor that throws
    throw;
  }
}

void ImagePreprocessor::create() {
  VkDevice device = context_->device();
  // texelFetch ignores filtering and addressing; nearest and clamping keep the sampler trivial.
  VkSamplerCreateInfo sampler_info{.sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
                                   .magFilter = VK_FILTER_NEAREST,
                                   .minFilter = VK_FILTER_NEAREST,
                                   .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
                                   .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                                   .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                                   .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE};
  VKV_CHECK(vkCreateSampler(device, &sampler_info, nullptr, &sampler_));

  VkDescriptorSetLayoutBinding image_bindings[1 + kImageSetBuffers];
  image_bindings[0] = {.binding = IMAGE_BINDING_SOURCE,
                       .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
                       .descriptorCount = 1,
                       .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
                       .pImmutableSamplers = &sampler_};
  for (uint32_t i = 1; i <= kImageSetBuffers; ++i)
    image_bindings[i] = {.binding = i,
                         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                         .descriptorCount = 1,
                         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo image_set_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                                 .bindingCount = 1 + kImageSetBuffers,
                                                 .pBindings = image_bindings};
  VKV_CHECK(vkCreateDescriptorSetLayout(device, &image_set_info, nullptr, &image_set_layout_));
  VkDescriptorSetLayoutBinding destination_binding{.binding = IMAGE_BINDING_DESTINATION,
                                                   .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                   .descriptorCount = 1,
                                                   .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo destination_set_info{
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &destination_binding};
  VKV_CHECK(vkCreateDescriptorSetLayout(device, &destination_set_info, nullptr, &destination_set_layout_));
  const VkDescriptorSetLayout set_layouts[2] = {image_set_layout_, destination_set_layout_};
  VkPushConstantRange push_range{
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = sizeof(abi::ImageResamplePush)};
  VkPipelineLayoutCreateInfo layout_info{.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                         .setLayoutCount = 2,
                                         .pSetLayouts = set_layouts,
                                         .pushConstantRangeCount = 1,
                                         .pPushConstantRanges = &push_range};
  VKV_CHECK(vkCreatePipelineLayout(device, &layout_info, nullptr, &layout_));
  horizontal_ = pipelines_.create(vk::ShaderId::image_resample_horizontal, layout_);
  vertical_ = pipelines_.create(vk::ShaderId::image_resample_vertical, layout_);

  // table[c][v] = the CPU path's float for byte v of channel c, so no GPU division can differ.
  const int channels = config_.channels;
  std::vector<float> normalisation(size_t(channels) * 256);
  for (int c = 0; c < channels; ++c)
    for (int v = 0; v < 256; ++v)
      normalisation[c * 256 + v] = io::normalise(v, config_.mean[c], config_.std[c]);
  const VkDeviceSize alignment = vk::binding_alignment(context_->info());
  constants_ = std::make_unique<vk::Arena>(
      context_,
      vk::align_up(normalisation.size() * sizeof(float), alignment) + kSrgbDecodeFloats * sizeof(float),
      vk::MemoryUse::DeviceLocal, "image preprocessing tables");
  normalisation_ = constants_->allocate(normalisation.size() * sizeof(float), "normalisation table");
  srgb_decode_ = constants_->allocate(kSrgbDecodeFloats * sizeof(float), "sRGB decode table");
  upload_for_compute(*context_, normalisation_, normalisation.data(), normalisation.size() * sizeof(float));
  calibrate_srgb();
}

ImagePreprocessor::~ImagePreprocessor() { destroy(); }

void ImagePreprocessor::destroy() {
  VkDevice device = context_->device();
  for (VkDescriptorPool pool : pools_) vkDestroyDescriptorPool(device, pool, nullptr);
  vkDestroyPipeline(device, vertical_, nullptr);
  vkDestroyPipeline(device, horizontal_, nullptr);
  vkDestroyPipelineLayout(device, layout_, nullptr);
  vkDestroyDescriptorSetLayout(device, destination_set_layout_, nullptr);
  vkDestroyDescriptorSetLayout(device, image_set_layout_, nullptr);
  vkDestroySampler(device, sampler_, nullptr);
}

// sRGB decode precision is implementation-defined, so no formula inverts it on every device. The
// decode of each byte is read back from a 256 x 1 image of this device, and the horizontal pass
// maps a texel to the byte whose decode is nearest: exact wherever the decode is deterministic and
// strictly increasing, which is checked here (a format where it is not is refused by check()).
void ImagePreprocessor::calibrate_srgb() {
  VkDevice device = context_->device();
  std::vector<uint32_t> texels(256);
  for (uint32_t v = 0; v < 256; ++v) texels[v] = v | v << 8 | v << 16 | 0xffu << 24;
  vk::Arena staging(context_, texels.size() * 4, vk::MemoryUse::Upload, "sRGB calibration staging buffer");
  const vk::BufferSlice staged = staging.allocate(texels.size() * 4, "sRGB calibration texels");
  std::memcpy(staged.mapped, texels.data(), texels.size() * 4);
  staged.flush();

  const VkPipeline calibration = pipelines_.create(vk::ShaderId::image_srgb_calibration, layout_);
  struct Calibrated {
    VkImage image = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkImageView view = VK_NULL_HANDLE;
    VkDescriptorSet set = VK_NULL_HANDLE;
  };
  std::vector<Calibrated> images(2);
  VkDescriptorPool pool = VK_NULL_HANDLE;
  const auto release = [&] {
    for (const Calibrated& entry : images) {
      if (entry.view) vkDestroyImageView(device, entry.view, nullptr);
      if (entry.image) vkDestroyImage(device, entry.image, nullptr);
      if (entry.memory) vkFreeMemory(device, entry.memory, nullptr);
    }
    if (pool) vkDestroyDescriptorPool(device, pool, nullptr);
    vkDestroyPipeline(device, calibration, nullptr);
  };
  try {
    const VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 2},
                                           {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 * kImageSetBuffers}};
    VkDescriptorPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                         .maxSets = 2,
                                         .poolSizeCount = 2,
                                         .pPoolSizes = sizes};
    VKV_CHECK(vkCreateDescriptorPool(device, &pool_info, nullptr, &pool));
    vk::CommandBuffer commands(*context_);
    commands.begin();
    for (int f = 0; f < 2; ++f) {
      VkFormatProperties properties;
      vkGetPhysicalDeviceFormatProperties(context_->physical_device(), kSrgbFormats[f], &properties);
      const VkFormatFeatureFlags needed =
          VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
      if ((properties.optimalTilingFeatures & needed) != needed) {
        srgb_unusable_[f] = "the device cannot sample it with optimal tiling";
        continue;
      }
      Calibrated& entry = images[f];
      // The image is 1 KiB and lives for this function only; it bypasses the arenas' budget.
      VkImageCreateInfo image_info{.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                                   .imageType = VK_IMAGE_TYPE_2D,
                                   .format = kSrgbFormats[f],
                                   .extent = {256, 1, 1},
                                   .mipLevels = 1,
                                   .arrayLayers = 1,
                                   .samples = VK_SAMPLE_COUNT_1_BIT,
                                   .tiling = VK_IMAGE_TILING_OPTIMAL,
                                   .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                   .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
                                   .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
      VKV_CHECK(vkCreateImage(device, &image_info, nullptr, &entry.image));
      VkMemoryRequirements requirements;
      vkGetImageMemoryRequirements(device, entry.image, &requirements);
      const auto& memory = context_->memory_properties();
      uint32_t type = UINT32_MAX;
      for (uint32_t i = 0; i < memory.memoryTypeCount && type == UINT32_MAX; ++i)
        if ((requirements.memoryTypeBits >> i & 1) &&
            (memory.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
          type = i;
      for (uint32_t i = 0; i < memory.memoryTypeCount && type == UINT32_MAX; ++i)
        if (requirements.memoryTypeBits >> i & 1) type = i;
      VkMemoryAllocateInfo allocate_info{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                         .allocationSize = requirements.size,
                                         .memoryTypeIndex = type};
      VKV_CHECK(vkAllocateMemory(device, &allocate_info, nullptr, &entry.memory));
      VKV_CHECK(vkBindImageMemory(device, entry.image, entry.memory, 0));
      VkImageViewCreateInfo view_info{.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                      .image = entry.image,
                                      .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                      .format = kSrgbFormats[f],
                                      .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
      VKV_CHECK(vkCreateImageView(device, &view_info, nullptr, &entry.view));

      VkImageMemoryBarrier to_transfer{.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                                       .srcAccessMask = 0,
                                       .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                       .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                       .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                       .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                       .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                       .image = entry.image,
                                       .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
      vkCmdPipelineBarrier(commands.handle(), VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                           VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr, 0, nullptr, 1, &to_transfer);
      VkBufferImageCopy region{.bufferOffset = staged.offset,
                               .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                               .imageExtent = {256, 1, 1}};
      vkCmdCopyBufferToImage(commands.handle(), staged.buffer, entry.image,
                             VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
      VkImageMemoryBarrier to_shader = to_transfer;
      to_shader.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
      to_shader.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
      to_shader.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
      to_shader.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
      vkCmdPipelineBarrier(commands.handle(), VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, nullptr, 0, nullptr, 1, &to_shader);

      // Only the sampler and the decode table are bound: the calibration shader uses nothing else.
      VkDescriptorSetAllocateInfo set_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                           .descriptorPool = pool,
                                           .descriptorSetCount = 1,
                                           .pSetLayouts = &image_set_layout_};
      VKV_CHECK(vkAllocateDescriptorSets(device, &set_info, &entry.set));
      const VkDescriptorImageInfo image_descriptor{sampler_, entry.view,
                                                   VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
      const VkDescriptorBufferInfo decode_descriptor = buffer_info(srgb_decode_);
      const VkWriteDescriptorSet writes[2] = {{.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                               .dstSet = entry.set,
                                               .dstBinding = IMAGE_BINDING_SOURCE,
                                               .descriptorCount = 1,
                                               .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
                                               .pImageInfo = &image_descriptor},
                                              {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                               .dstSet = entry.set,
                                               .dstBinding = IMAGE_BINDING_SRGB_DECODE,
                                               .descriptorCount = 1,
                                               .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                               .pBufferInfo = &decode_descriptor}};
      vkUpdateDescriptorSets(device, 2, writes, 0, nullptr);
      abi::ImageResamplePush push{};
      push.srgb_table = uint32_t(f);
      vkCmdBindPipeline(commands.handle(), VK_PIPELINE_BIND_POINT_COMPUTE, calibration);
      vkCmdBindDescriptorSets(commands.handle(), VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 1, &entry.set, 0,
                              nullptr);
      vkCmdPushConstants(commands.handle(), layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
      vkCmdDispatch(commands.handle(), 256 / IMAGE_RESAMPLE_LOCAL_SIZE_X, 1, 1);
    }
    // For the readback below and the horizontal passes of later submissions.
    commands.memory_barrier(
        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
        VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT);
    commands.end();
    context_->submit_and_wait(commands.handle());
  } catch (...) {
    release();
    throw;
  }
  release();

  std::vector<float> decoded(kSrgbDecodeFloats);
  vk::download(*context_, srgb_decode_, decoded.data(), decoded.size() * sizeof(float));
  for (int f = 0; f < 2; ++f) {
    if (!srgb_unusable_[f].empty()) continue;
    for (int c = 0; c < 3 && srgb_unusable_[f].empty(); ++c)
      for (int v = 1; v < 256; ++v)
        if (!(decoded[(f * 256 + v) * 4 + c] > decoded[(f * 256 + v - 1) * 4 + c])) {
          srgb_unusable_[f] = "the device's sRGB decode is not strictly increasing (bytes " +
                              std::to_string(v - 1) + " and " + std::to_string(v) +
                              "), so the stored bytes cannot be recovered exactly";
          break;
        }
  }
}

void ImagePreprocessor::check(const ImageInput& image) const {
  if (!image.view) throw InputError("image input: the view is VK_NULL_HANDLE");
  const FormatEntry* format = find_format(image.format);
  if (!format) {
    std::string list;
    for (const FormatEntry& entry : kFormats)
      list += std::string(list.empty() ? "" : ", ") + entry.name + " (" + std::to_string(entry.format) + ")";
    throw InputError("image input: format " + std::to_string(image.format) + " is not one of " + list);
  }
  if (image.width == 0 || image.height == 0 || image.width > INT_MAX || image.height > INT_MAX)
    throw InputError("image input: extent " + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + " is empty or too large");
  if (image.layout != VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL && image.layout != VK_IMAGE_LAYOUT_GENERAL &&
      image.layout != VK_IMAGE_LAYOUT_READ_ONLY_OPTIMAL)
    throw InputError("image input: layout " + std::to_string(image.layout) +
                     " is not SHADER_READ_ONLY_OPTIMAL, GENERAL or READ_ONLY_OPTIMAL");
  if ((image.rect_width == 0 || image.rect_height == 0) && (image.x || image.y))
    throw InputError("image input: a source rectangle at (" + std::to_string(image.x) + ", " +
                     std::to_string(image.y) + ") needs a width and a height");
  const Rect rect = source_rect(image);
  if (uint64_t(rect.x) + rect.width > image.width || uint64_t(rect.y) + rect.height > image.height)
    throw InputError("image input: source rectangle " + std::to_string(rect.width) + "x" +
                     std::to_string(rect.height) + " at (" + std::to_string(rect.x) + ", " +
                     std::to_string(rect.y) + ") is outside the " + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + " image");
  VkFormatProperties properties;
  vkGetPhysicalDeviceFormatProperties(context_->physical_device(), image.format, &properties);
  if (!(properties.optimalTilingFeatures & VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT))
    throw DeviceError(std::string("image input: the device cannot sample ") + format->name +
                      " images with optimal tiling");
  if (format->decode == IMAGE_DECODE_SRGB && !srgb_unusable_[srgb_index(image.format)].empty())
    throw DeviceError(std::string("image input: ") + format->name + ": " +
                      srgb_unusable_[srgb_index(image.format)]);
  io::resized_size(int(rect.width), int(rect.height), config_);  // throws when smaller than the crop
}

VkDescriptorSet ImagePreprocessor::allocate_set(VkDescriptorSetLayout layout) {
  VkDescriptorSetAllocateInfo allocate_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                            .descriptorSetCount = 1,
                                            .pSetLayouts = &layout};
  VkDescriptorSet set = VK_NULL_HANDLE;
  if (!pools_.empty()) {
    allocate_info.descriptorPool = pools_.back();
    const VkResult result = vkAllocateDescriptorSets(context_->device(), &allocate_info, &set);
    if (result == VK_SUCCESS) return set;
    if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
      vk::throw_vk_error(result, "vkAllocateDescriptorSets", __FILE__, __LINE__);
  }
  // A new pool with room for kSetsPerPool sets of either layout.
  const VkDescriptorPoolSize sizes[2] = {
      {VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, kSetsPerPool},
      {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kImageSetBuffers}};
  VkDescriptorPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                       .maxSets = kSetsPerPool,
                                       .poolSizeCount = 2,
                                       .pPoolSizes = sizes};
  VkDescriptorPool pool = VK_NULL_HANDLE;
  VKV_CHECK(vkCreateDescriptorPool(context_->device(), &pool_info, nullptr, &pool));
  pools_.push_back(pool);
  allocate_info.descriptorPool = pool;
  VKV_CHECK(vkAllocateDescriptorSets(context_->device(), &allocate_info, &set));
  return set;
}

ImagePreprocessor::Prepared& ImagePreprocessor::prepare(const ImageInput& image) {
  const Key key{image.view, image.format,     image.width,       image.height, image.x,
                image.y,    image.rect_width, image.rect_height, image.layout};
  if (auto it = prepared_.find(key); it != prepared_.end()) return *it->second;
  check(image);
  const Rect rect = source_rect(image);
  const io::CropResampling crop = io::crop_resampling(int(rect.width), int(rect.height), config_);
  // Columns in image coordinates (the rectangle's origin added); rows relative to the band.
  const std::vector<int32_t> columns = axis_table(crop.columns, rect.x);
  const std::vector<int32_t> rows = axis_table(crop.rows, -int64_t(crop.rows.source_begin));
  const uint32_t size = uint32_t(config_.input_size), channels = uint32_t(config_.channels);
  const uint32_t band_rows = uint32_t(crop.rows.source_end - crop.rows.source_begin);
  const VkDeviceSize band_bytes = VkDeviceSize(band_rows) * size * channels * sizeof(uint32_t);

  auto prepared = std::make_unique<Prepared>();
  const VkDeviceSize alignment = vk::binding_alignment(context_->info());
  prepared->arena = std::make_unique<vk::Arena>(
      context_,
      vk::align_up(columns.size() * 4, alignment) + vk::align_up(rows.size() * 4, alignment) + band_bytes,
      vk::MemoryUse::DeviceLocal, "image preprocessing coefficients and band");
  const vk::BufferSlice column_slice = prepared->arena->allocate(columns.size() * 4, "column coefficients");
  const vk::BufferSlice row_slice = prepared->arena->allocate(rows.size() * 4, "row coefficients");
  const vk::BufferSlice band = prepared->arena->allocate(band_bytes, "resampled band");
  upload_for_compute(*context_, column_slice, columns.data(), columns.size() * 4);
  upload_for_compute(*context_, row_slice, rows.data(), rows.size() * 4);

  prepared->set = allocate_set(image_set_layout_);
  const VkDescriptorImageInfo image_descriptor{sampler_, image.view, image.layout};
  const VkDescriptorBufferInfo buffers[kImageSetBuffers] = {buffer_info(column_slice), buffer_info(row_slice),
                                                            buffer_info(band), buffer_info(normalisation_),
                                                            buffer_info(srgb_decode_)};
  VkWriteDescriptorSet writes[1 + kImageSetBuffers];
  writes[0] = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
               .dstSet = prepared->set,
               .dstBinding = IMAGE_BINDING_SOURCE,
               .descriptorCount = 1,
               .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
               .pImageInfo = &image_descriptor};
  for (uint32_t i = 0; i < kImageSetBuffers; ++i)
    writes[1 + i] = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                     .dstSet = prepared->set,
                     .dstBinding = IMAGE_BINDING_COLUMNS + i,
                     .descriptorCount = 1,
                     .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                     .pBufferInfo = &buffers[i]};
  vkUpdateDescriptorSets(context_->device(), 1 + kImageSetBuffers, writes, 0, nullptr);

  abi::ImageResamplePush& push = prepared->push;
  push.size = size;
  push.channels = channels;
  push.band_rows = band_rows;
  push.column_taps = uint32_t(crop.columns.taps);
  push.row_taps = uint32_t(crop.rows.taps);
  push.band_origin_y = rect.y + uint32_t(crop.rows.source_begin);
  push.decode = find_format(image.format)->decode;
  push.srgb_table = uint32_t(srgb_index(image.format));
  return *prepared_.emplace(key, std::move(prepared)).first->second;
}

VkDescriptorSet ImagePreprocessor::destination_set(const vk::BufferSlice& destination,
                                                   uint32_t& skipped_floats) {
  const VkDeviceSize alignment =
      std::max<VkDeviceSize>(context_->info().min_storage_buffer_offset_alignment, 4);
  const VkDeviceSize aligned = destination.offset / alignment * alignment;
  skipped_floats = uint32_t((destination.offset - aligned) / sizeof(float));
  const auto key = std::make_pair(destination.buffer, destination.offset);
  if (auto it = destination_sets_.find(key); it != destination_sets_.end()) return it->second;
  const VkDeviceSize bytes = VkDeviceSize(config_.channels) * config_.input_size * config_.input_size * 4;
  const VkDescriptorSet set = allocate_set(destination_set_layout_);
  const VkDescriptorBufferInfo info{destination.buffer, aligned, destination.offset - aligned + bytes};
  const VkWriteDescriptorSet write{.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                   .dstSet = set,
                                   .dstBinding = IMAGE_BINDING_DESTINATION,
                                   .descriptorCount = 1,
                                   .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                   .pBufferInfo = &info};
  vkUpdateDescriptorSets(context_->device(), 1, &write, 0, nullptr);
  destination_sets_.emplace(key, set);
  return set;
}

void ImagePreprocessor::record(vk::CommandBuffer& commands, const ImageInput& image,
                               const vk::BufferSlice& destination) {
  const VkDeviceSize bytes = VkDeviceSize(config_.channels) * config_.input_size * config_.input_size * 4;
  if (destination.size < bytes || destination.offset % 4)
    throw Error("internal: image preprocessing destination of " + std::to_string(destination.size) +
                " bytes at offset " + std::to_string(destination.offset) + " cannot hold " +
                std::to_string(bytes));
  Prepared& prepared = prepare(image);
  abi::ImageResamplePush push = prepared.push;
  const VkDescriptorSet sets[2] = {prepared.set, destination_set(destination, push.destination_offset)};
  VkCommandBuffer handle = commands.handle();
  // The band is this image's own: a second record into the same command buffer waits for the first
  // one's reads (other command buffers are ordered by the caller's entry barrier).
  if (prepared.last_commands == handle) commands.barrier_compute_to_compute();
  prepared.last_commands = handle;

  vkCmdBindDescriptorSets(handle, VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 2, sets, 0, nullptr);
  vkCmdPushConstants(handle, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
  const DeviceInfo& info = context_->info();
  const auto horizontal_groups =
      vk::groups_for(uint64_t(push.band_rows) * push.size, IMAGE_RESAMPLE_LOCAL_SIZE_X, info);
  vkCmdBindPipeline(handle, VK_PIPELINE_BIND_POINT_COMPUTE, horizontal_);
  vkCmdDispatch(handle, horizontal_groups[0], horizontal_groups[1], horizontal_groups[2]);
  commands.barrier_compute_to_compute();
  const auto vertical_groups =
      vk::groups_for(uint64_t(push.size) * push.size, IMAGE_RESAMPLE_LOCAL_SIZE_X, info);
  vkCmdBindPipeline(handle, VK_PIPELINE_BIND_POINT_COMPUTE, vertical_);
  vkCmdDispatch(handle, vertical_groups[0], vertical_groups[1], vertical_groups[2]);
}

uint64_t ImagePreprocessor::cached_bytes() const {
  uint64_t bytes = 0;
  for (const auto& [key, prepared] : prepared_) bytes += prepared->arena->size();
  return bytes;
}

}  // namespace vkvision::exec
