// Compute pipelines: one per (shader, specialisation constants), created once and cached in memory,
// with a VkPipelineCache persisted per device (keyed by pipeline-cache UUID and driver version).
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vk/context.h"
#include "vk/shader_ids.h"

namespace vkvision::vk {

// Every pipeline layout reserves this much push-constant space (the Vulkan guaranteed minimum).
constexpr uint32_t kPushConstantBytes = 128;
// The most buffers one kernel binds (window_attention_projection.comp: 8 storage buffers); devices
// allowing fewer storage buffers per stage (maxPerStageDescriptorStorageBuffers, spec minimum 4)
// are refused when the runtime is created. Uniform texel buffers count against
// maxPerStageDescriptorSampledImages (spec minimum 16), which this stays under too.
constexpr uint32_t kMaxKernelBuffers = 8;

struct PipelineKey {
  ShaderId shader = ShaderId::count;    // an embedded shader variant (vk/shader_ids.h)
  std::vector<int32_t> specialization;  // constant_id 0, 1, ... in order
  uint32_t buffer_count = 0;            // buffers at bindings 0..buffer_count-1
  uint32_t texel_bindings = 0;          // bit i: binding i is an RGBA32F uniform texel buffer, else storage
  auto operator<=>(const PipelineKey&) const = default;
};

struct Pipeline {
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  uint32_t buffer_count = 0;
  uint32_t texel_bindings = 0;
};

class PipelineCache {
 public:
  // cache_dir empty: $VKVISION_CACHE_DIR, else $XDG_CACHE_HOME/vkvision, else ~/.cache/vkvision
  // (DeviceOptions::cache_directory). disk_cache false: no file is read or written, and file() and
  // decisions_file() are empty (DeviceOptions::disk_cache).
  explicit PipelineCache(std::shared_ptr<Context> context, std::filesystem::path cache_dir = {},
                         bool disk_cache = true);
  ~PipelineCache();  // saves the cache file
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;

  const Pipeline& get(const PipelineKey& key);
  // A compute pipeline of an embedded shader with a layout of the caller's (descriptor types the
  // keys above do not cover, e.g. sampled images), through the persisted cache; the caller destroys
  // it.
  VkPipeline create(ShaderId shader, VkPipelineLayout layout);
  // Builds `shader`'s pipelines from other SPIR-V (same bindings and push constants) from now on: how
  // the self-test's own test plays a driver that miscompiles one kernel (tests/selftest). Only
  // before a pipeline of that shader is built.
  void substitute_shader(ShaderId shader, std::vector<uint32_t> words);
  const std::filesystem::path& file() const { return file_; }
  // Writes the VkPipelineCache data; failures are ignored (a cache is an optimisation).
  void save() const;

  // Per-device tuning decisions (e.g. which GEMM family a timed trial picked), kept beside the
  // pipeline cache under the same key, so a trial runs once per device and driver version. The value
  // is one line of text; without a cache directory decisions last as long as this object.
  std::optional<std::string> decision(const std::string& name);
  void record_decision(const std::string& name, const std::string& value);
  const std::filesystem::path& decisions_file() const { return decisions_file_; }

 private:
  std::shared_ptr<Context> context_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  std::filesystem::path file_, decisions_file_;
  std::map<std::string, std::string> decisions_;
  std::mutex mutex_;
  std::map<PipelineKey, std::unique_ptr<Pipeline>> pipelines_;
  std::map<ShaderId, std::vector<uint32_t>> substitutes_;
};

}  // namespace vkvision::vk
