#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace vkvision::cli {

void add_devices(CLI::App& app) {
  auto* command = app.add_subcommand("devices", "list Vulkan devices and the properties kernels are chosen by");
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "one JSON array (for scripts such as bench/compare.py)");
  command->callback([json] {
    if (*json) {
      nlohmann::json list = nlohmann::json::array();
      for (const DeviceInfo& d : list_devices())
        list.push_back({{"index", d.index}, {"name", d.name}, {"type", d.type},
                        {"driver", d.driver_name + " " + d.driver_info}, {"api_version", d.api_version_string()},
                        {"subgroup_size", d.subgroup_size}, {"shader_float16", d.shader_float16},
                        {"storage_buffer_16bit", d.storage_buffer_16bit}, {"texel_buffer_rgba16f", d.texel_buffer_rgba16f},
                        {"max_storage_buffer_range", d.max_storage_buffer_range},
                        {"max_compute_shared_memory", d.max_compute_shared_memory},
                        {"unified_memory", d.unified_memory}});
      std::printf("%s\n", list.dump(2).c_str());
      return;
    }
    for (const DeviceInfo& d : list_devices()) {
      std::printf("%u: %s (%s)\n", d.index, d.name.c_str(), d.type.c_str());
      std::printf("   driver %s %s, Vulkan %s\n", d.driver_name.c_str(), d.driver_info.c_str(), d.api_version_string().c_str());
      std::printf("   subgroup size %u, fp16 arithmetic %s, 16-bit storage %s, RGBA16F texel buffers %s, timestamps %s\n",
                  d.subgroup_size, d.shader_float16 ? "yes" : "no", d.storage_buffer_16bit ? "yes" : "no",
                  d.texel_buffer_rgba16f ? "yes" : "no", d.timestamps ? "yes" : "no");
      std::printf("   maxStorageBufferRange %llu MiB, shared memory %u KiB, workgroup %u (%u x %u x %u)\n",
                  static_cast<unsigned long long>(d.max_storage_buffer_range >> 20), d.max_compute_shared_memory >> 10,
                  d.max_workgroup_invocations, d.max_workgroup_size[0], d.max_workgroup_size[1], d.max_workgroup_size[2]);
      std::printf("   device-local memory %llu MiB%s\n", static_cast<unsigned long long>(d.device_local_bytes >> 20),
                  d.unified_memory ? ", host-visible (unified)" : "");
    }
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
    std::printf("Checkpoints: safetensors or PyTorch .pth/.bin, in official, timm or torchvision naming;\n"
                "the family and configuration are read from the tensor names and shapes.\n");
  });
}

}  // namespace vkvision::cli
