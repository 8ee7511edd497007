// The format readers behind Checkpoint::load (private to src/io).
#pragma once
#include <cstddef>
#include <span>

namespace vkvision::io {

class Checkpoint;

bool looks_like_safetensors(std::span<const std::byte> bytes);

class SafetensorsReader {
 public:
  static void read(Checkpoint& checkpoint);
};

class TorchZipReader {
 public:
  static void read(Checkpoint& checkpoint);
};

}  // namespace vkvision::io
