#include "vk/pipeline.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "vk/check.h"

namespace vkvision::vk {
namespace {

std::filesystem::path default_cache_dir() {
  if (const char* dir = std::getenv("VKVISION_CACHE_DIR")) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0])
    return std::filesystem::path(xdg) / "vkvision";
  if (const char* home = std::getenv("HOME"); home && home[0])
    return std::filesystem::path(home) / ".cache" / "vkvision";
  return {};
}

// A compute pipeline of `code`; the shader module lives only as long as the creation.
VkPipeline create_compute_pipeline(VkDevice device, VkPipelineCache cache, std::span<const uint32_t> code,
                                   VkPipelineLayout layout, const VkSpecializationInfo* specialization) {
  VkShaderModuleCreateInfo module_info{.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                       .codeSize = code.size() * sizeof(uint32_t),
                                       .pCode = code.data()};
  VkShaderModule module = VK_NULL_HANDLE;
  VKV_CHECK(vkCreateShaderModule(device, &module_info, nullptr, &module));
  VkComputePipelineCreateInfo pipeline_info{
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                .pName = "main",
                .pSpecializationInfo = specialization},
      .layout = layout};
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkResult result = vkCreateComputePipelines(device, cache, 1, &pipeline_info, nullptr, &pipeline);
  vkDestroyShaderModule(device, module, nullptr);
  VKV_CHECK(result);
  return pipeline;
}

std::string hex(const uint8_t* bytes, size_t count) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

// "name value" lines; anything unreadable is ignored (the decision is then made again).
void load_decisions(const std::filesystem::path& file, std::map<std::string, std::string>& decisions) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0) continue;
    decisions[line.substr(0, space)] = line.substr(space + 1);
  }
}

// A temporary name beside `file` that no other writer uses at the same time (another runtime in
// this process, or another process), so the rename that publishes it never publishes a mix.
std::string temporary_beside(const std::filesystem::path& file) {
  static std::atomic<uint64_t> counter{0};
  return file.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
}

}  // namespace

PipelineCache::PipelineCache(std::shared_ptr<Context> context, std::filesystem::path cache_dir,
                             bool disk_cache)
    : context_(std::move(context)) {
  if (!disk_cache)
    cache_dir.clear();
  else if (cache_dir.empty())
    cache_dir = default_cache_dir();
  const DeviceInfo& info = context_->info();
  const std::string key = hex(info.pipeline_cache_uuid.data(), info.pipeline_cache_uuid.size()) + "-" +
                          std::to_string(info.driver_version);
  if (!cache_dir.empty()) {
    file_ = cache_dir / ("pipelines-" + key + ".bin");
    decisions_file_ = cache_dir / ("decisions-" + key + ".txt");
    load_decisions(decisions_file_, decisions_);
  }
  std::vector<char> initial;
  if (!file_.empty()) {
    std::ifstream in(file_, std::ios::binary);
    if (in) initial.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The driver checks the header (vendor, device, UUID) itself and ignores data that does not match.
  VkPipelineCacheCreateInfo create_info{.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                        .initialDataSize = initial.size(),
                                        .pInitialData = initial.empty() ? nullptr : initial.data()};
  if (vkCreatePipelineCache(context_->device(), &create_info, nullptr, &cache_) != VK_SUCCESS) {
    create_info.initialDataSize = 0;
    create_info.pInitialData = nullptr;
    VKV_CHECK(vkCreatePipelineCache(context_->device(), &create_info, nullptr, &cache_));
  }
}

PipelineCache::~PipelineCache() {
  save();
  VkDevice device = context_->device();
  for (auto& [key, pipeline] : pipelines_) {
    vkDestroyPipeline(device, pipeline->pipeline, nullptr);
    vkDestroyPipelineLayout(device, pipeline->layout, nullptr);
    vkDestroyDescriptorSetLayout(device, pipeline->set_layout, nullptr);
  }
  if (cache_) vkDestroyPipelineCache(device, cache_, nullptr);
}

void PipelineCache::save() const {
  if (file_.empty() || !cache_) return;
  size_t size = 0;
  if (vkGetPipelineCacheData(context_->device(), cache_, &size, nullptr) != VK_SUCCESS || size == 0) return;
  std::vector<char> data(size);
  if (vkGetPipelineCacheData(context_->device(), cache_, &size, data.data()) != VK_SUCCESS) return;
  std::error_code error;
  std::filesystem::create_directories(file_.parent_path(), error);
  const auto temporary = temporary_beside(file_);
  bool written = false;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(size));
    written = static_cast<bool>(out);
  }
  if (written) std::filesystem::rename(temporary, file_, error);
  if (!written || error) std::filesystem::remove(temporary, error);
}

std::optional<std::string> PipelineCache::decision(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (auto it = decisions_.find(name); it != decisions_.end()) return it->second;
  return std::nullopt;
}

void PipelineCache::record_decision(const std::string& name, const std::string& value) {
  std::lock_guard lock(mutex_);
  decisions_[name] = value;
  if (decisions_file_.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(decisions_file_.parent_path(), error);
  const auto temporary = temporary_beside(decisions_file_);
  bool written = false;
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& [key, text] : decisions_) out << key << ' ' << text << '\n';
    written = static_cast<bool>(out);
  }
  if (written) std::filesystem::rename(temporary, decisions_file_, error);
  if (!written || error) std::filesystem::remove(temporary, error);
}

void PipelineCache::substitute_shader(ShaderId shader, std::vector<uint32_t> words) {
  std::lock_guard lock(mutex_);
  for (const auto& [key, pipeline] : pipelines_)
    if (key.shader == shader)
      throw Error(std::string("internal: substitute_shader after ") + shader_name(shader) + " was built");
  substitutes_[shader] = std::move(words);
}

VkPipeline PipelineCache::create(ShaderId shader, VkPipelineLayout layout) {
  std::span<const uint32_t> code = shader_words(shader);
  if (code.empty()) throw Error("internal: no embedded shader " + std::to_string(uint32_t(shader)));
  std::lock_guard lock(mutex_);  // the VkPipelineCache is externally synchronised with get()'s
  return create_compute_pipeline(context_->device(), cache_, code, layout, nullptr);
}

const Pipeline& PipelineCache::get(const PipelineKey& key) {
  std::lock_guard lock(mutex_);
  if (auto it = pipelines_.find(key); it != pipelines_.end()) return *it->second;

  std::span<const uint32_t> code = shader_words(key.shader);
  if (auto substitute = substitutes_.find(key.shader); substitute != substitutes_.end())
    code = substitute->second;
  if (code.empty()) throw Error("internal: no embedded shader " + std::to_string(uint32_t(key.shader)));
  if (key.buffer_count > kMaxKernelBuffers)
    throw Error(std::string("internal: ") + shader_name(key.shader) + " binds " +
                std::to_string(key.buffer_count) +
                " buffers, more than kMaxKernelBuffers, which devices are checked against");
  VkDevice device = context_->device();
  auto pipeline = std::make_unique<Pipeline>();
  pipeline->buffer_count = key.buffer_count;
  pipeline->texel_bindings = key.texel_bindings;

  std::vector<VkDescriptorSetLayoutBinding> bindings(key.buffer_count);
  for (uint32_t i = 0; i < key.buffer_count; ++i)
    bindings[i] = {.binding = i,
                   .descriptorType = (key.texel_bindings >> i) & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                                   : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                   .descriptorCount = 1,
                   .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo set_info{.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = key.buffer_count,
                                           .pBindings = bindings.data()};
  VKV_CHECK(vkCreateDescriptorSetLayout(device, &set_info, nullptr, &pipeline->set_layout));
  VkPushConstantRange push_range{
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = kPushConstantBytes};
  VkPipelineLayoutCreateInfo layout_info{.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                         .setLayoutCount = 1,
                                         .pSetLayouts = &pipeline->set_layout,
                                         .pushConstantRangeCount = 1,
                                         .pPushConstantRanges = &push_range};
  VKV_CHECK(vkCreatePipelineLayout(device, &layout_info, nullptr, &pipeline->layout));

  std::vector<VkSpecializationMapEntry> entries(key.specialization.size());
  for (uint32_t i = 0; i < entries.size(); ++i) entries[i] = {.constantID = i, .offset = i * 4u, .size = 4};
  VkSpecializationInfo specialization{.mapEntryCount = static_cast<uint32_t>(entries.size()),
                                      .pMapEntries = entries.data(),
                                      .dataSize = key.specialization.size() * 4,
                                      .pData = key.specialization.data()};
  pipeline->pipeline = create_compute_pipeline(device, cache_, code, pipeline->layout,
                                               entries.empty() ? nullptr : &specialization);
  return *pipelines_.emplace(key, std::move(pipeline)).first->second;
}

}  // namespace vkvision::vk
