#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace vkvision::cli {
namespace {

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

nlohmann::json path_json(const MemoryPath& path) {
  return {{"memory_type", path.type}, {"heap", path.heap}, {"flags", path.flags}};
}

nlohmann::json device_json(const DeviceInfo& d) {
  nlohmann::json heaps = nlohmann::json::array();
  for (const MemoryHeapInfo& heap : d.memory_heaps)
    heaps.push_back({{"size", heap.size},
                     {"device_local", heap.device_local},
                     {"budget", heap.budget},
                     {"usage", heap.usage}});
  return {{"index", d.index},
          {"name", d.name},
          {"type", d.type},
          {"vendor_id", d.vendor_id},
          {"device_id", d.device_id},
          {"driver", d.driver_name + " " + d.driver_info},
          {"api_version", d.api_version_string()},
          {"supported", d.unsupported_reason.empty()},
          {"unsupported_reason", d.unsupported_reason},
          {"subgroup_size", d.subgroup_size},
          {"shader_float16", d.shader_float16},
          {"storage_buffer_16bit", d.storage_buffer_16bit},
          {"texel_buffer_rgba32f", d.texel_buffer_rgba32f},
          {"texel_buffer_rgba16f", d.texel_buffer_rgba16f},
          {"max_storage_buffer_range", d.max_storage_buffer_range},
          {"max_texel_buffer_elements", d.max_texel_buffer_elements},
          {"max_compute_shared_memory", d.max_compute_shared_memory},
          {"max_workgroup_invocations", d.max_workgroup_invocations},
          {"max_memory_allocation_size", d.max_memory_allocation_size},
          {"max_buffer_size", d.max_buffer_size},
          {"non_coherent_atom_size", d.non_coherent_atom_size},
          {"timestamp_valid_bits", d.timestamp_valid_bits},
          {"memory_budget", d.memory_budget},
          {"portability_subset", d.portability_subset},
          {"memory_heaps", heaps},
          {"unified_memory", d.unified_memory},
          {"memory_paths",
           {{"weights_activations", path_json(d.device_memory)},
            {"upload", path_json(d.upload_memory)},
            {"readback", path_json(d.readback_memory)}}}};
}

void print_path(const char* what, const MemoryPath& path) {
  if (path.type < 0) {
    std::printf("     %-22s no suitable memory type\n", what);
    return;
  }
  std::printf("     %-22s type %d on heap %d (%s)\n", what, path.type, path.heap, path.flags.c_str());
}

void print_device(const DeviceInfo& d) {
  std::printf("%u: %s (%s)%s\n", d.index, d.name.c_str(), d.type.c_str(),
              d.portability_subset ? ", portability driver" : "");
  if (!d.unsupported_reason.empty()) std::printf("   not usable: %s\n", d.unsupported_reason.c_str());
  std::printf("   driver %s %s, Vulkan %s\n", d.driver_name.c_str(), d.driver_info.c_str(),
              d.api_version_string().c_str());
  std::printf(
      "   subgroup size %u, fp16 arithmetic %s, 16-bit storage %s, RGBA32F/RGBA16F texel buffers %s/%s, "
      "timestamps %s",
      d.subgroup_size, d.shader_float16 ? "yes" : "no", d.storage_buffer_16bit ? "yes" : "no",
      d.texel_buffer_rgba32f ? "yes" : "no", d.texel_buffer_rgba16f ? "yes" : "no",
      d.timestamps ? "yes" : "no");
  if (d.timestamps) std::printf(" (%u bits)", d.timestamp_valid_bits);
  std::printf(
      "\n   maxStorageBufferRange %s, texel buffers %u elements, shared memory %u KiB, workgroup %u (%u x %u "
      "x %u)\n",
      mib(d.max_storage_buffer_range).c_str(), d.max_texel_buffer_elements, d.max_compute_shared_memory >> 10,
      d.max_workgroup_invocations, d.max_workgroup_size[0], d.max_workgroup_size[1], d.max_workgroup_size[2]);
  std::printf("   largest allocation %s, largest buffer %s, non-coherent atom %llu bytes\n",
              mib(d.max_memory_allocation_size).c_str(), mib(d.max_buffer_size).c_str(),
              static_cast<unsigned long long>(d.non_coherent_atom_size));
  for (size_t h = 0; h < d.memory_heaps.size(); ++h) {
    const MemoryHeapInfo& heap = d.memory_heaps[h];
    std::printf("   heap %zu: %s%s", h, mib(heap.size).c_str(),
                heap.device_local ? ", device-local" : ", host");
    if (d.memory_budget)
      std::printf(", budget %s, in use %s", mib(heap.budget).c_str(), mib(heap.usage).c_str());
    std::printf("\n");
  }
  std::printf("   memory paths (%s):\n", d.unified_memory
                                             ? "device heap is host-visible: mapped in place"
                                             : "device heap is not host-visible: filled through staging");
  print_path("weights, activations", d.device_memory);
  print_path("upload staging", d.upload_memory);
  print_path("readback staging", d.readback_memory);
}

}  // namespace

void add_devices(CLI::App& app) {
  auto* command =
      app.add_subcommand("devices", "list Vulkan devices and the properties kernels are chosen by");
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "one JSON array (for scripts such as bench/compare.py)");
  command->callback([json] {
    if (*json) {
      nlohmann::json list = nlohmann::json::array();
      for (const DeviceInfo& d : list_devices()) list.push_back(device_json(d));
      std::printf("%s\n", list.dump(2).c_str());
      return;
    }
    for (const DeviceInfo& d : list_devices()) print_device(d);
  });
}

void add_models(CLI::App& app) {
  auto* command = app.add_subcommand("models", "list supported model families and presets");
  command->callback([] {
    std::string family;
    for (const PresetInfo& preset : list_presets()) {
      if (preset.family != family) std::printf("%s\n", (family = preset.family).c_str());
      std::printf("  %-18s %s\n", preset.name.c_str(), preset.description.c_str());
    }
    std::printf(
        "Checkpoints: safetensors or PyTorch .pth/.bin, in official, timm or torchvision naming;\n"
        "the family and configuration are read from the tensor names and shapes.\n");
  });
}

}  // namespace vkvision::cli
