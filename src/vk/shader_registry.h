// The SPIR-V of every shaders/*.comp, compiled and validated at build time.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

namespace vkvision::vk {

// Empty span when no shader has that name.
std::span<const uint32_t> find_shader(std::string_view name);

}  // namespace vkvision::vk
