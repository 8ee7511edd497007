#include "vk/program.h"

#include <algorithm>

#include "vk/check.h"

namespace vkvision::vk {
namespace {

struct Range {
  VkBuffer buffer;
  VkDeviceSize begin, end;
  bool overlaps(const Range& other) const {
    return buffer == other.buffer && begin < other.end && other.begin < end;
  }
};

bool overlaps_any(const Range& range, const std::vector<Range>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const Range& r) { return r.overlaps(range); });
}

}  // namespace

std::array<uint32_t, 3> groups_for(uint64_t invocations, uint32_t local_size, const DeviceInfo& info) {
  const uint64_t groups = std::max<uint64_t>(1, (invocations + local_size - 1) / local_size);
  const uint64_t max_x = std::min<uint32_t>(info.max_workgroup_count[0], 65535);
  if (groups <= max_x) return {static_cast<uint32_t>(groups), 1, 1};
  const uint64_t y = (groups + max_x - 1) / max_x;
  if (y > info.max_workgroup_count[1])
    throw DeviceError("a dispatch of " + std::to_string(invocations) +
                      " invocations exceeds the device's workgroup count limits");
  return {static_cast<uint32_t>(max_x), static_cast<uint32_t>(y), 1};
}

DispatchProgram::DispatchProgram(Context& context, PipelineCache& pipelines, std::vector<Dispatch> dispatches)
    : context_(context), dispatches_(std::move(dispatches)) {
  if (dispatches_.empty()) return;
  uint32_t descriptor_count = 0;
  for (const auto& dispatch : dispatches_) {
    if (dispatch.push.size() > kPushConstantBytes)
      throw Error(std::string("internal: push constants too large for ") + shader_name(dispatch.shader));
    descriptor_count += static_cast<uint32_t>(dispatch.buffers.size());
    pipelines_.push_back(&pipelines.get({dispatch.shader, dispatch.specialization,
                                         static_cast<uint32_t>(dispatch.buffers.size()), dispatch.texel}));
    if (layers_.empty() || layers_.back() != dispatch.layer) layers_.push_back(dispatch.layer);
  }
  VkDescriptorPoolSize pool_sizes[2] = {
      {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = std::max(1u, descriptor_count)},
      {.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .descriptorCount = std::max(1u, descriptor_count)}};
  VkDescriptorPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                       .maxSets = static_cast<uint32_t>(dispatches_.size()),
                                       .poolSizeCount = 2,
                                       .pPoolSizes = pool_sizes};
  VKV_CHECK(vkCreateDescriptorPool(context_.device(), &pool_info, nullptr, &pool_));
  sets_.resize(dispatches_.size());
  for (size_t i = 0; i < dispatches_.size(); ++i) {
    VkDescriptorSetAllocateInfo allocate_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                              .descriptorPool = pool_,
                                              .descriptorSetCount = 1,
                                              .pSetLayouts = &pipelines_[i]->set_layout};
    VKV_CHECK(vkAllocateDescriptorSets(context_.device(), &allocate_info, &sets_[i]));
    const auto& buffers = dispatches_[i].buffers;
    std::vector<VkDescriptorBufferInfo> infos(buffers.size());
    std::vector<VkBufferView> views(buffers.size());
    std::vector<VkWriteDescriptorSet> writes(buffers.size());
    for (uint32_t b = 0; b < buffers.size(); ++b) {
      if (!buffers[b].buffer || buffers[b].size == 0)
        throw Error(std::string("internal: ") + shader_name(dispatches_[i].shader) + " binding " +
                    std::to_string(b) + " is empty");
      writes[b] = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                   .dstSet = sets_[i],
                   .dstBinding = b,
                   .descriptorCount = 1};
      if ((dispatches_[i].texel >> b) & 1) {
        // Whole texels only: a view's range must be a multiple of the element (16 bytes, 8 for RGBA16F).
        // texelFetch returns a vec4 from either format, so fp16 weights need no other shader.
        const bool half = (dispatches_[i].half_texel >> b) & 1;
        const VkDeviceSize texel_bytes = half ? 8 : 16;
        VkBufferViewCreateInfo view_info{
            .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
            .buffer = buffers[b].buffer,
            .format = half ? VK_FORMAT_R16G16B16A16_SFLOAT : VK_FORMAT_R32G32B32A32_SFLOAT,
            .offset = buffers[b].offset,
            .range = buffers[b].size / texel_bytes * texel_bytes};
        VKV_CHECK(vkCreateBufferView(context_.device(), &view_info, nullptr, &views[b]));
        views_.push_back(views[b]);
        writes[b].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        writes[b].pTexelBufferView = &views[b];
      } else {
        infos[b] = {.buffer = buffers[b].buffer, .offset = buffers[b].offset, .range = buffers[b].size};
        writes[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[b].pBufferInfo = &infos[b];
      }
    }
    vkUpdateDescriptorSets(context_.device(), static_cast<uint32_t>(writes.size()), writes.data(), 0,
                           nullptr);
  }

  // Hazard tracking: a barrier goes before a dispatch that reads what was written since the last
  // barrier (RAW) or writes what was read or written since then (WAR, WAW).
  std::vector<Range> written_since, read_since;
  barrier_before_.assign(dispatches_.size(), false);
  for (size_t i = 0; i < dispatches_.size(); ++i) {
    const auto& dispatch = dispatches_[i];
    bool hazard = false;
    for (uint32_t b = 0; b < dispatch.buffers.size(); ++b) {
      const auto& slice = dispatch.buffers[b];
      Range range{slice.buffer, slice.offset, slice.offset + slice.size};
      const bool writes = dispatch.written & (1u << b);
      if (overlaps_any(range, written_since) || (writes && overlaps_any(range, read_since))) hazard = true;
    }
    if (hazard) {
      barrier_before_[i] = true;
      written_since.clear();
      read_since.clear();
    }
    for (uint32_t b = 0; b < dispatch.buffers.size(); ++b) {
      const auto& slice = dispatch.buffers[b];
      Range range{slice.buffer, slice.offset, slice.offset + slice.size};
      ((dispatch.written & (1u << b)) ? written_since : read_since).push_back(range);
    }
  }
}

DispatchProgram::~DispatchProgram() {
  for (VkBufferView view : views_) vkDestroyBufferView(context_.device(), view, nullptr);
  if (pool_) vkDestroyDescriptorPool(context_.device(), pool_, nullptr);
}

size_t DispatchProgram::barrier_count() const {
  return static_cast<size_t>(std::count(barrier_before_.begin(), barrier_before_.end(), true));
}

void DispatchProgram::record(CommandBuffer& commands, VkQueryPool timestamps) const {
  VkCommandBuffer buffer = commands.handle();
  uint32_t query = 0;
  const Pipeline* bound = nullptr;
  for (size_t i = 0; i < dispatches_.size(); ++i) {
    const auto& dispatch = dispatches_[i];
    const bool new_layer = i == 0 || dispatches_[i - 1].layer != dispatch.layer;
    // With timing on, every layer boundary gets a barrier so each interval covers one layer's work.
    if (barrier_before_[i] || (timestamps && new_layer && i > 0)) commands.barrier_compute_to_compute();
    if (timestamps && new_layer) commands.write_timestamp(timestamps, query++);
    if (bound != pipelines_[i]) {
      vkCmdBindPipeline(buffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines_[i]->pipeline);
      bound = pipelines_[i];
    }
    vkCmdBindDescriptorSets(buffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines_[i]->layout, 0, 1, &sets_[i], 0,
                            nullptr);
    if (!dispatch.push.empty())
      vkCmdPushConstants(buffer, pipelines_[i]->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                         static_cast<uint32_t>(dispatch.push.size()), dispatch.push.data());
    vkCmdDispatch(buffer, dispatch.groups[0], dispatch.groups[1], dispatch.groups[2]);
  }
  if (timestamps && !dispatches_.empty()) {
    commands.barrier_compute_to_compute();
    commands.write_timestamp(timestamps, query++);
  }
}

}  // namespace vkvision::vk
