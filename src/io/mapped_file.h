// A read-only memory mapping of a whole file (tensors are read in place from it), or bytes already
// in memory presented the same way (fuzz targets and tests parse those without touching the disk).
#pragma once
#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

namespace vkvision::io {

class MappedFile {
 public:
  // Throws InputError("<file>: ...") when the file cannot be opened or mapped, or is a directory.
  explicit MappedFile(const std::filesystem::path& path);
  // `bytes` under the name `path` (used only in messages).
  MappedFile(const std::filesystem::path& path, std::vector<std::byte> bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::vector<std::byte> owned_;
};

}  // namespace vkvision::io
