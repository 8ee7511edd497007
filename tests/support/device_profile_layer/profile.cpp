#include "profile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

namespace device_profile {
namespace {

using nlohmann::json;
using Kind = LimitField::Kind;
using Direction = LimitField::Direction;

#define LIMIT(name, kind, direction, count) \
  LimitField { #name, Kind::kind, Direction::direction, offsetof(VkPhysicalDeviceLimits, name), count }

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// Every object is read through this: a key the layer does not know is an error, so a typo in a
// profile cannot silently leave the real value in place.
void require_known_keys(const json& object, const std::set<std::string>& known, const std::string& where) {
  if (!object.is_object()) fail(where + " must be an object");
  for (const auto& [key, value] : object.items())
    if (!known.count(key)) fail("unknown key '" + key + "' in " + where);
}

uint64_t to_u64(const json& value, const std::string& where) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0)
    return static_cast<uint64_t>(value.get<int64_t>());
  if (value.is_string()) {  // "0x10DE", "256 MiB"
    const std::string text = value.get<std::string>();
    size_t used = 0;
    uint64_t number = 0;
    try {
      number = std::stoull(text, &used, 0);
    } catch (const std::exception&) {
      fail(where + ": '" + text + "' is not a number");
    }
    std::string unit = text.substr(used);
    while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    const std::map<std::string, uint64_t> units{
        {"", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
    auto found = units.find(unit);
    if (found == units.end()) fail(where + ": unknown unit '" + unit + "' (KiB, MiB or GiB)");
    return number * found->second;
  }
  fail(where + " must be a non-negative integer or a string such as \"0x10DE\" or \"256 MiB\"");
}

uint32_t to_u32(const json& value, const std::string& where) {
  const uint64_t number = to_u64(value, where);
  if (number > UINT32_MAX) fail(where + " does not fit in 32 bits");
  return static_cast<uint32_t>(number);
}

uint32_t parse_version(const json& value, const std::string& where) {
  if (!value.is_string()) fail(where + " must be a string such as \"1.1.0\"");
  unsigned major = 0, minor = 0, patch = 0;
  if (std::sscanf(value.get<std::string>().c_str(), "%u.%u.%u", &major, &minor, &patch) < 2)
    fail(where + ": '" + value.get<std::string>() + "' is not a version such as \"1.1.0\"");
  return VK_MAKE_API_VERSION(0, major, minor, patch);
}

template <typename Flags>
Flags parse_flags(const json& value, const std::map<std::string, Flags>& names, const std::string& where) {
  if (!value.is_array()) fail(where + " must be an array of flag names");
  Flags flags = 0;
  for (const auto& item : value) {
    auto found = item.is_string() ? names.find(item.get<std::string>()) : names.end();
    if (found == names.end()) fail(where + ": unknown flag " + item.dump());
    flags |= found->second;
  }
  return flags;
}

const std::map<std::string, VkMemoryPropertyFlags> kMemoryPropertyNames{
    {"DEVICE_LOCAL", VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT},
    {"HOST_VISIBLE", VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT},
    {"HOST_COHERENT", VK_MEMORY_PROPERTY_HOST_COHERENT_BIT},
    {"HOST_CACHED", VK_MEMORY_PROPERTY_HOST_CACHED_BIT}};
const std::map<std::string, VkMemoryHeapFlags> kMemoryHeapNames{
    {"DEVICE_LOCAL", VK_MEMORY_HEAP_DEVICE_LOCAL_BIT}};
const std::map<std::string, VkFormatFeatureFlags> kBufferFeatureNames{
    {"UNIFORM_TEXEL_BUFFER", VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT},
    {"STORAGE_TEXEL_BUFFER", VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT},
    {"STORAGE_TEXEL_BUFFER_ATOMIC", VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_ATOMIC_BIT},
    {"VERTEX_BUFFER", VK_FORMAT_FEATURE_VERTEX_BUFFER_BIT}};
const std::map<std::string, VkFormatFeatureFlags> kOptimalTilingFeatureNames{
    {"SAMPLED_IMAGE", VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT}};
// The formats vkvision's texel buffers and image inputs use, plus their neighbours.
const std::map<std::string, VkFormat> kFormatNames{{"R32_SFLOAT", VK_FORMAT_R32_SFLOAT},
                                                   {"R32G32_SFLOAT", VK_FORMAT_R32G32_SFLOAT},
                                                   {"R32G32B32A32_SFLOAT", VK_FORMAT_R32G32B32A32_SFLOAT},
                                                   {"R16_SFLOAT", VK_FORMAT_R16_SFLOAT},
                                                   {"R16G16_SFLOAT", VK_FORMAT_R16G16_SFLOAT},
                                                   {"R16G16B16A16_SFLOAT", VK_FORMAT_R16G16B16A16_SFLOAT},
                                                   {"R32_UINT", VK_FORMAT_R32_UINT},
                                                   {"R32G32B32A32_UINT", VK_FORMAT_R32G32B32A32_UINT},
                                                   {"R8G8B8A8_UNORM", VK_FORMAT_R8G8B8A8_UNORM},
                                                   {"R8G8B8A8_SRGB", VK_FORMAT_R8G8B8A8_SRGB},
                                                   {"B8G8R8A8_UNORM", VK_FORMAT_B8G8R8A8_UNORM},
                                                   {"B8G8R8A8_SRGB", VK_FORMAT_B8G8R8A8_SRGB}};
const std::map<std::string, VkPhysicalDeviceType> kDeviceTypeNames{
    {"OTHER", VK_PHYSICAL_DEVICE_TYPE_OTHER},
    {"INTEGRATED_GPU", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU},
    {"DISCRETE_GPU", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU},
    {"VIRTUAL_GPU", VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU},
    {"CPU", VK_PHYSICAL_DEVICE_TYPE_CPU}};

#define PORTABILITY(name) \
  { #name, offsetof(VkPhysicalDevicePortabilitySubsetFeaturesKHR, name) }
const std::map<std::string, size_t> kPortabilityFeatures{PORTABILITY(constantAlphaColorBlendFactors),
                                                         PORTABILITY(events),
                                                         PORTABILITY(imageViewFormatReinterpretation),
                                                         PORTABILITY(imageViewFormatSwizzle),
                                                         PORTABILITY(imageView2DOn3DImage),
                                                         PORTABILITY(multisampleArrayImage),
                                                         PORTABILITY(mutableComparisonSamplers),
                                                         PORTABILITY(pointPolygons),
                                                         PORTABILITY(samplerMipLodBias),
                                                         PORTABILITY(separateStencilMaskRef),
                                                         PORTABILITY(shaderSampleRateInterpolationFunctions),
                                                         PORTABILITY(tessellationIsolines),
                                                         PORTABILITY(tessellationPointMode),
                                                         PORTABILITY(triangleFans),
                                                         PORTABILITY(vertexAttributeAccessBeyondStride)};

void read_device(const json& device, Profile& profile) {
  require_known_keys(device, {"deviceType", "vendorID", "deviceID", "deviceName", "apiVersion"}, "device");
  if (device.contains("deviceType")) {
    const json& type = device["deviceType"];
    auto found = type.is_string() ? kDeviceTypeNames.find(type.get<std::string>()) : kDeviceTypeNames.end();
    if (found == kDeviceTypeNames.end()) fail("device.deviceType: unknown type " + type.dump());
    profile.device_type = found->second;
  }
  if (device.contains("vendorID")) profile.vendor_id = to_u32(device["vendorID"], "device.vendorID");
  if (device.contains("deviceID")) profile.device_id = to_u32(device["deviceID"], "device.deviceID");
  if (device.contains("deviceName")) {
    if (!device["deviceName"].is_string()) fail("device.deviceName must be a string");
    profile.device_name = device["deviceName"].get<std::string>();
    if (profile.device_name->size() >= VK_MAX_PHYSICAL_DEVICE_NAME_SIZE)
      fail("device.deviceName is too long");
  }
  if (device.contains("apiVersion"))
    profile.api_version = parse_version(device["apiVersion"], "device.apiVersion");
}

void read_limits(const json& limits, Profile& profile) {
  if (!limits.is_object()) fail("limits must be an object");
  const auto& fields = limit_fields();
  for (const auto& [key, value] : limits.items()) {
    size_t index = 0;
    while (index < fields.size() && key != fields[index].name) ++index;
    if (index == fields.size()) fail("unknown key '" + key + "' in limits");
    const LimitField& field = fields[index];
    const std::string where = "limits." + key;
    std::vector<double> values;
    if (field.count > 1) {
      if (!value.is_array() || value.size() != field.count)
        fail(where + " must be an array of " + std::to_string(field.count));
      for (const auto& item : value) values.push_back(static_cast<double>(to_u32(item, where)));
    } else if (field.kind == Kind::Float) {
      if (!value.is_number() || value.get<double>() <= 0) fail(where + " must be a positive number");
      values.push_back(value.get<double>());
    } else {
      values.push_back(
          static_cast<double>(field.kind == Kind::U32 ? to_u32(value, where) : to_u64(value, where)));
    }
    if (field.direction == Direction::AtLeastReal)
      for (double v : values)
        if (v < 1 || (static_cast<uint64_t>(v) & (static_cast<uint64_t>(v) - 1)))
          fail(where + " must be a power of two");
    profile.limits[index] = values;
  }
}

void read_properties(const json& properties, Profile& profile) {
  require_known_keys(properties,
                     {"subgroupSize", "minSubgroupSize", "maxSubgroupSize", "maxMemoryAllocationSize",
                      "maxBufferSize", "minVertexInputBindingStrideAlignment"},
                     "properties");
  auto u32 = [&](const char* key, std::optional<uint32_t>& out) {
    if (properties.contains(key)) out = to_u32(properties[key], std::string("properties.") + key);
  };
  u32("subgroupSize", profile.subgroup_size);
  u32("minSubgroupSize", profile.min_subgroup_size);
  u32("maxSubgroupSize", profile.max_subgroup_size);
  u32("minVertexInputBindingStrideAlignment", profile.min_vertex_input_binding_stride_alignment);
  if (properties.contains("maxMemoryAllocationSize"))
    profile.max_memory_allocation_size =
        to_u64(properties["maxMemoryAllocationSize"], "properties.maxMemoryAllocationSize");
  if (properties.contains("maxBufferSize"))
    profile.max_buffer_size = to_u64(properties["maxBufferSize"], "properties.maxBufferSize");
  // One subgroup size unless a range is given: the profile names a device with a fixed width.
  if (profile.subgroup_size) {
    if (!profile.min_subgroup_size) profile.min_subgroup_size = profile.subgroup_size;
    if (!profile.max_subgroup_size) profile.max_subgroup_size = profile.subgroup_size;
  }
}

void read_features(const json& features, Profile& profile) {
  require_known_keys(features, {"shaderFloat16", "storageBuffer16BitAccess"}, "features");
  // A profile can only take features away; true keeps the real value.
  auto off = [&](const char* key) {
    if (!features.contains(key)) return false;
    if (!features[key].is_boolean()) fail(std::string("features.") + key + " must be true or false");
    return !features[key].get<bool>();
  };
  profile.disable_shader_float16 = off("shaderFloat16");
  profile.disable_storage_buffer_16bit = off("storageBuffer16BitAccess");
}

void read_formats(const json& formats, Profile& profile) {
  if (!formats.is_object()) fail("formats must be an object");
  for (const auto& [name, entry] : formats.items()) {
    auto format = kFormatNames.find(name);
    if (format == kFormatNames.end()) fail("formats: unknown format '" + name + "'");
    require_known_keys(entry, {"remove_buffer_features", "remove_optimal_tiling_features"},
                       "formats." + name);
    if (!entry.contains("remove_buffer_features") && !entry.contains("remove_optimal_tiling_features"))
      fail("formats." + name + " needs remove_buffer_features or remove_optimal_tiling_features");
    if (entry.contains("remove_buffer_features"))
      profile.removed_buffer_features[format->second] =
          parse_flags(entry["remove_buffer_features"], kBufferFeatureNames,
                      "formats." + name + ".remove_buffer_features");
    if (entry.contains("remove_optimal_tiling_features"))
      profile.removed_optimal_tiling_features[format->second] =
          parse_flags(entry["remove_optimal_tiling_features"], kOptimalTilingFeatureNames,
                      "formats." + name + ".remove_optimal_tiling_features");
  }
}

void read_memory(const json& memory, Profile& profile) {
  require_known_keys(memory, {"heaps", "types"}, "memory");
  if (!memory.contains("heaps") || !memory["heaps"].is_array() || memory["heaps"].empty())
    fail("memory.heaps must be a non-empty array");
  if (!memory.contains("types") || !memory["types"].is_array() || memory["types"].empty())
    fail("memory.types must be a non-empty array");
  if (memory["heaps"].size() > VK_MAX_MEMORY_HEAPS)
    fail("memory.heaps has more than VK_MAX_MEMORY_HEAPS entries");
  if (memory["types"].size() > VK_MAX_MEMORY_TYPES)
    fail("memory.types has more than VK_MAX_MEMORY_TYPES entries");
  for (size_t i = 0; i < memory["heaps"].size(); ++i) {
    const json& heap = memory["heaps"][i];
    const std::string where = "memory.heaps[" + std::to_string(i) + "]";
    require_known_keys(heap, {"size", "flags", "budget_fraction"}, where);
    if (!heap.contains("size")) fail(where + " needs a size");
    MemoryHeap out;
    out.size = to_u64(heap["size"], where + ".size");
    if (out.size == 0) fail(where + ".size must not be 0");
    if (heap.contains("flags")) out.flags = parse_flags(heap["flags"], kMemoryHeapNames, where + ".flags");
    if (heap.contains("budget_fraction")) {
      const json& fraction = heap["budget_fraction"];
      if (!fraction.is_number() || fraction.get<double>() <= 0 || fraction.get<double>() > 1)
        fail(where + ".budget_fraction must be in (0, 1]");
      out.budget_fraction = fraction.get<double>();
    }
    profile.heaps.push_back(out);
  }
  for (size_t i = 0; i < memory["types"].size(); ++i) {
    const json& type = memory["types"][i];
    const std::string where = "memory.types[" + std::to_string(i) + "]";
    require_known_keys(type, {"heap", "flags"}, where);
    if (!type.contains("heap")) fail(where + " needs a heap");
    MemoryType out;
    out.heap = to_u32(type["heap"], where + ".heap");
    if (out.heap >= profile.heaps.size())
      fail(where + ".heap " + std::to_string(out.heap) + " does not exist");
    if (type.contains("flags"))
      out.flags = parse_flags(type["flags"], kMemoryPropertyNames, where + ".flags");
    // The spec requires HOST_CACHED or HOST_COHERENT memory to be HOST_VISIBLE.
    if ((out.flags & (VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT)) &&
        !(out.flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
      fail(where + ": HOST_COHERENT/HOST_CACHED without HOST_VISIBLE");
    profile.types.push_back(out);
  }
}

void read_portability(const json& portability, Profile& profile) {
  if (!portability.is_object()) fail("portability_subset must be an object");
  VkPhysicalDevicePortabilitySubsetFeaturesKHR features{};
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR;
  // Every feature unlisted is supported, so a profile lists what its device lacks.
  for (const auto& [name, offset] : kPortabilityFeatures)
    *reinterpret_cast<VkBool32*>(reinterpret_cast<char*>(&features) + offset) = VK_TRUE;
  for (const auto& [name, value] : portability.items()) {
    auto found = kPortabilityFeatures.find(name);
    if (found == kPortabilityFeatures.end()) fail("unknown key '" + name + "' in portability_subset");
    if (!value.is_boolean()) fail("portability_subset." + name + " must be true or false");
    *reinterpret_cast<VkBool32*>(reinterpret_cast<char*>(&features) + found->second) = value.get<bool>();
  }
  profile.portability_subset = features;
}

std::string stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

const std::vector<LimitField>& limit_fields() {
  static const std::vector<LimitField> fields{
      LIMIT(maxStorageBufferRange, U32, AtMostReal, 1),
      LIMIT(maxUniformBufferRange, U32, AtMostReal, 1),
      LIMIT(maxTexelBufferElements, U32, AtMostReal, 1),
      LIMIT(maxPushConstantsSize, U32, AtMostReal, 1),
      LIMIT(maxMemoryAllocationCount, U32, AtMostReal, 1),
      LIMIT(maxBoundDescriptorSets, U32, AtMostReal, 1),
      LIMIT(maxPerStageDescriptorStorageBuffers, U32, AtMostReal, 1),
      LIMIT(maxPerStageDescriptorUniformBuffers, U32, AtMostReal, 1),
      LIMIT(maxPerStageDescriptorSampledImages, U32, AtMostReal, 1),
      LIMIT(maxPerStageResources, U32, AtMostReal, 1),
      LIMIT(maxDescriptorSetStorageBuffers, U32, AtMostReal, 1),
      LIMIT(maxDescriptorSetUniformBuffers, U32, AtMostReal, 1),
      LIMIT(maxComputeSharedMemorySize, U32, AtMostReal, 1),
      LIMIT(maxComputeWorkGroupCount, U32, AtMostReal, 3),
      LIMIT(maxComputeWorkGroupInvocations, U32, AtMostReal, 1),
      LIMIT(maxComputeWorkGroupSize, U32, AtMostReal, 3),
      LIMIT(minStorageBufferOffsetAlignment, U64, AtLeastReal, 1),
      LIMIT(minTexelBufferOffsetAlignment, U64, AtLeastReal, 1),
      LIMIT(minUniformBufferOffsetAlignment, U64, AtLeastReal, 1),
      LIMIT(nonCoherentAtomSize, U64, AtLeastReal, 1),
      LIMIT(optimalBufferCopyOffsetAlignment, U64, AtLeastReal, 1),
      LIMIT(bufferImageGranularity, U64, AtLeastReal, 1),
      // The layer converts query results to the profile's period, so any period is honest.
      LIMIT(timestampPeriod, Float, Any, 1),
  };
  return fields;
}

std::string resolve_profile_path(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos) return name_or_path;
  return std::string(VKVISION_DEVICE_PROFILES_DIR) + "/" + name_or_path + ".json";
}

Profile load_profile(const std::string& name_or_path) {
  Profile profile;
  profile.path = resolve_profile_path(name_or_path);
  profile.name = stem(profile.path);
  try {
    std::ifstream file(profile.path);
    if (!file) fail("cannot open the file (unknown profile?)");
    json root;
    try {
      root = json::parse(file);
    } catch (const json::parse_error& error) {
      fail(std::string("bad JSON: ") + error.what());
    }
    require_known_keys(root,
                       {"description", "modelled_on", "device", "limits", "properties", "queue_families",
                        "features", "formats", "memory", "memory_budget", "portability_subset"},
                       "the profile");
    for (const char* key : {"description", "modelled_on"})
      if (!root.contains(key) || !root[key].is_string() || root[key].get<std::string>().empty())
        fail(std::string("needs a non-empty string '") + key + "'");
    profile.description = root["description"].get<std::string>();
    profile.modelled_on = root["modelled_on"].get<std::string>();
    if (root.contains("device")) read_device(root["device"], profile);
    if (root.contains("limits")) read_limits(root["limits"], profile);
    if (root.contains("properties")) read_properties(root["properties"], profile);
    if (root.contains("queue_families")) {
      require_known_keys(root["queue_families"], {"timestampValidBits"}, "queue_families");
      if (root["queue_families"].contains("timestampValidBits")) {
        const uint32_t bits =
            to_u32(root["queue_families"]["timestampValidBits"], "queue_families.timestampValidBits");
        if (bits != 0 && (bits < 36 || bits > 64))
          fail("queue_families.timestampValidBits must be 0 or 36..64");
        profile.timestamp_valid_bits = bits;
      }
    }
    if (root.contains("features")) read_features(root["features"], profile);
    if (root.contains("formats")) read_formats(root["formats"], profile);
    if (root.contains("memory")) read_memory(root["memory"], profile);
    if (root.contains("memory_budget")) {
      if (!root["memory_budget"].is_boolean()) fail("memory_budget must be true or false");
      profile.memory_budget = root["memory_budget"].get<bool>();
    }
    if (root.contains("portability_subset")) read_portability(root["portability_subset"], profile);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("device profile " + profile.path + ": " + error.what());
  }
  return profile;
}

void check_against_real_device(const Profile& profile, const VkPhysicalDeviceProperties& real,
                               const RealExtras& extras) {
  const auto& fields = limit_fields();
  const char* limits = reinterpret_cast<const char*>(&real.limits);
  for (const auto& [index, values] : profile.limits) {
    const LimitField& field = fields[index];
    for (uint32_t i = 0; i < field.count; ++i) {
      double actual = 0;
      if (field.kind == Kind::U32) actual = reinterpret_cast<const uint32_t*>(limits + field.offset)[i];
      if (field.kind == Kind::U64)
        actual = static_cast<double>(reinterpret_cast<const uint64_t*>(limits + field.offset)[i]);
      if (field.kind == Kind::Float) actual = reinterpret_cast<const float*>(limits + field.offset)[i];
      const bool bad = (field.direction == Direction::AtMostReal && values[i] > actual) ||
                       (field.direction == Direction::AtLeastReal && values[i] < actual);
      if (bad)
        fail("device profile " + profile.path + ": limits." + field.name + " " +
             std::to_string(uint64_t(values[i])) +
             (field.direction == Direction::AtMostReal ? " is above " : " is below ") + "the real device's " +
             std::to_string(uint64_t(actual)) + " (" + real.deviceName + ")");
    }
  }
  if (profile.api_version && *profile.api_version > real.apiVersion)
    fail("device profile " + profile.path + ": device.apiVersion is above the real device's");
  auto at_most = [&](const std::optional<uint64_t>& value, uint64_t actual, const char* what) {
    if (value && *value > actual)
      fail("device profile " + profile.path + ": " + what + " " + std::to_string(*value) +
           " is above the real device's " + std::to_string(actual) + " (" + real.deviceName + ")");
  };
  at_most(profile.max_memory_allocation_size, extras.max_memory_allocation_size,
          "properties.maxMemoryAllocationSize");
  at_most(profile.max_buffer_size, extras.max_buffer_size, "properties.maxBufferSize");
  if (profile.timestamp_valid_bits)
    at_most(uint64_t{*profile.timestamp_valid_bits}, extras.timestamp_valid_bits,
            "queue_families.timestampValidBits");
}

}  // namespace device_profile
