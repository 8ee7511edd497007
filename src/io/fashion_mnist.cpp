// IDX files: big-endian magic (0x00000803 images, 0x00000801 labels), dimension sizes, raw bytes;
// Debian ships them gzip-compressed.
#include "io/fashion_mnist.h"

#include <zlib.h>

#include "vkvision/error.h"

namespace vkvision::io {
namespace {

std::vector<uint8_t> read_gzip(const std::filesystem::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw InputError(path.string() + ": cannot open (install the dataset-fashion-mnist package)");
  std::vector<uint8_t> data;
  uint8_t buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) data.insert(data.end(), buffer, buffer + n);
  const bool failed = n < 0;
  gzclose(file);
  if (failed) throw InputError(path.string() + ": corrupt gzip data");
  return data;
}

uint32_t big_endian(const std::vector<uint8_t>& data, size_t at) {
  return uint32_t(data[at]) << 24 | uint32_t(data[at + 1]) << 16 | uint32_t(data[at + 2]) << 8 | data[at + 3];
}

}  // namespace

LabeledImages read_fashion_mnist(const std::filesystem::path& dir, const std::string& split) {
  const auto images_path = dir / (split + "-images-idx3-ubyte.gz"),
             labels_path = dir / (split + "-labels-idx1-ubyte.gz");
  const auto images = read_gzip(images_path), labels = read_gzip(labels_path);
  if (images.size() < 16 || big_endian(images, 0) != 0x803)
    throw InputError(images_path.string() + ": not an IDX image file");
  if (labels.size() < 8 || big_endian(labels, 0) != 0x801)
    throw InputError(labels_path.string() + ": not an IDX label file");
  LabeledImages set;
  set.count = int(big_endian(images, 4));
  set.rows = int(big_endian(images, 8));
  set.cols = int(big_endian(images, 12));
  if (images.size() - 16 != size_t(set.count) * set.rows * set.cols)
    throw InputError(images_path.string() + ": truncated: expected " + std::to_string(set.count) + " images");
  if (big_endian(labels, 4) != uint32_t(set.count) || labels.size() - 8 != size_t(set.count))
    throw InputError(labels_path.string() + ": label count does not match the images");
  set.pixels.assign(images.begin() + 16, images.end());
  set.labels.assign(labels.begin() + 8, labels.end());
  return set;
}

}  // namespace vkvision::io
