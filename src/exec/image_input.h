// GPU preprocessing of a host image into the network's input: the model's eval transform (PIL's
// antialiased resize of the shorter side to input_size / crop_pct, centre crop, [0, 1], mean/std) in
// two compute passes that reproduce io::preprocess bit for bit: the same fixed-point coefficients
// (computed on the host, as the CPU path computes them), the same integer sums, rounding and
// clipping to 8 bits after each pass, and a per-channel lookup table for the normalisation.
#pragma once
#include <array>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

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
  // Throws InputError for a config io::preprocess refuses. Submits once and waits (the sRGB
  // calibration, see image_input.cpp). Not thread-safe: one thread records at a time.
  ImagePreprocessor(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines,
                    io::PreprocessConfig config);
  ~ImagePreprocessor();
  ImagePreprocessor(const ImagePreprocessor&) = delete;
  ImagePreprocessor& operator=(const ImagePreprocessor&) = delete;

  // Throws InputError for an image this preprocessor cannot take (null view, a format outside
  // ImageInput's list, zero extent, a layout outside the list, a source rectangle outside the image
  // or with an origin but no size, one whose resize would be smaller than the crop), DeviceError
  // when the device cannot sample the format with optimal tiling or its sRGB decode cannot be
  // inverted exactly.
  void check(const ImageInput& image) const;
  // Records the transform of `image` into `destination` (float32 CHW, channels * size * size
  // values). The image must be in image.layout; the caller orders earlier writes to it and to
  // `destination` before, and vkvision's earlier work in other command buffers (the Session's entry
  // barrier), and makes `destination` visible to its readers after (compute-shader writes). The
  // first use of a distinct image (view, format, extent, rectangle, layout) allocates its
  // descriptor set, coefficient tables and intermediate band, and the first use of a destination
  // slice its descriptor set; later uses allocate nothing and write no descriptors. Cached entries
  // are keyed by handle: a view or buffer destroyed and re-created under the same handle value
  // needs a new preprocessor. Throws as check() on first use.
  void record(vk::CommandBuffer& commands, const ImageInput& image, const vk::BufferSlice& destination);

  // The device memory held for cached images (coefficients and bands), for docs and bench.
  uint64_t cached_bytes() const;

 private:
  struct Prepared;
  using Key = std::tuple<VkImageView, VkFormat, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
                         VkImageLayout>;
  Prepared& prepare(const ImageInput& image);
  VkDescriptorSet allocate_set(VkDescriptorSetLayout layout);
  // The set binding `destination` from the largest aligned offset below it; `skipped_floats` is
  // what lies between that offset and the slice.
  VkDescriptorSet destination_set(const vk::BufferSlice& destination, uint32_t& skipped_floats);
  void create();  // the constructor's Vulkan objects and tables
  void destroy();
  // Fills srgb_decode_ with the device's decode of every byte, for each sRGB format it can sample.
  void calibrate_srgb();

  std::shared_ptr<vk::Context> context_;
  vk::PipelineCache& pipelines_;
  io::PreprocessConfig config_;
  VkSampler sampler_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout image_set_layout_ = VK_NULL_HANDLE, destination_set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline horizontal_ = VK_NULL_HANDLE, vertical_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorPool> pools_;
  // The normalisation table and the calibrated sRGB decode, shared by every image.
  std::unique_ptr<vk::Arena> constants_;
  vk::BufferSlice normalisation_, srgb_decode_;
  // Per sRGB format (R8G8B8A8, B8G8R8A8): why it cannot be taken exactly, empty when it can.
  std::array<std::string, 2> srgb_unusable_;
  std::map<Key, std::unique_ptr<Prepared>> prepared_;
  std::map<std::pair<VkBuffer, VkDeviceSize>, VkDescriptorSet> destination_sets_;
};

}  // namespace vkvision::exec
