// Writes float32 tensors as a safetensors file (header length, JSON header, data), for tests that
// edit a fixture into a broken checkpoint: a tensor added, removed or resized.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "io/checkpoint.h"
#include "ir/layer_list.h"

namespace vkvision::testing {

using TensorMap = std::map<std::string, ir::HostTensor>;

inline TensorMap read_tensors(const std::filesystem::path& checkpoint_path) {
  const io::Checkpoint checkpoint = io::Checkpoint::load(checkpoint_path);
  TensorMap tensors;
  for (const std::string& name : checkpoint.names())
    tensors[name] = ir::HostTensor::from(checkpoint.at(name).shape, checkpoint.to_float(name));
  return tensors;
}

inline void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    const size_t begin = data.size(), bytes = size_t(tensor.numel()) * sizeof(float);
    data.append(reinterpret_cast<const char*>(tensor.values()), bytes);
    header[name] = {{"dtype", "F32"}, {"shape", tensor.shape}, {"data_offsets", {begin, begin + bytes}}};
  }
  const std::string json = header.dump();
  uint64_t length = json.size();
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(char((length >> (8 * i)) & 0xff));
  out << json << data;
}

}  // namespace vkvision::testing
