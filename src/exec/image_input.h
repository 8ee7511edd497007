// GPU preprocessing of a host image into the network's input: the model's eval transform (PIL's
// antialiased resize of the shorter side to input_size / crop_pct, centre crop, [0, 1], mean/std) in
// two compute passes that reproduce io::preprocess bit for bit: the same fixed-point coefficients
// (computed on the host, as the CPU path computes them), the same integer sums, rounding and
// clipping to 8 bits after each pass, and a per-channel lookup table for the normalisation.
#pragma once
#include <map>
#include <memory>
#include <tuple>

#include "io/image.h"
#include "vk/command.h"
#include "vk/context.h"
#include "vk/memory.h"
#include "vk/pipeline.h"
#include "vkvision/embedding.h"

namespace vkvision::exec {

class ImagePreprocessor {
 public:
  // config: the session's eval transform (input size, crop, interpolation, channels, mean, std).
  ImagePreprocessor(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines,
                    io::PreprocessConfig config);
  ~ImagePreprocessor();
  ImagePreprocessor(const ImagePreprocessor&) = delete;
  ImagePreprocessor& operator=(const ImagePreprocessor&) = delete;

  // Throws InputError for an image this preprocessor cannot take (null view, a format outside
  // ImageInput's list, zero extent, a source rectangle outside the image, a layout outside the
  // list), DeviceError when the device cannot sample the format with optimal tiling.
  void check(const ImageInput& image) const;
  // Records the transform of `image` into `destination` (float32 CHW, channels * size * size
  // values). The image must be in image.layout; the caller orders earlier writes to it and to
  // `destination` before, and makes `destination` visible to its readers after (compute-shader
  // writes). The first use of a distinct image (view, format, extent, rectangle, layout) allocates
  // its descriptor set, coefficient tables and intermediate band; later uses allocate nothing and
  // write no descriptors.
  void record(vk::CommandBuffer& commands, const ImageInput& image, const vk::BufferSlice& destination);

  // The device memory held for cached images (coefficients and bands), for docs and bench.
  uint64_t cached_bytes() const;

 private:
  struct Prepared;
  using Key = std::tuple<VkImageView, VkFormat, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
                         VkImageLayout>;
  Prepared& prepare(const ImageInput& image);

  std::shared_ptr<vk::Context> context_;
  vk::PipelineCache& pipelines_;
  io::PreprocessConfig config_;
  std::map<Key, std::unique_ptr<Prepared>> prepared_;
};

}  // namespace vkvision::exec
