// The GPU eval transform (exec::ImagePreprocessor) against the CPU one (io::preprocess), bit for
// bit: the bundled samples with the bundled model's preprocessing and ImageNet's, odd sizes, every
// accepted format, source rectangles, grey models from RGB images, and the refusals of check().
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "api/preprocess_config.h"
#include "exec/image_input.h"
#include "io/image.h"
#include "ops/half_weights.h"
#include "support/device_test.h"
#include "support/paths.h"
#include "support/scoped_profile.h"
#include "support/test_directory.h"
#include "vk/check.h"
#include "vk/timestamps.h"

namespace vkvision::testing {
namespace {

io::PreprocessConfig imagenet(io::Interpolation interpolation = io::Interpolation::Bicubic) {
  io::PreprocessConfig config;  // 224, crop 0.875, ImageNet mean and std
  config.interpolation = interpolation;
  return config;
}

io::PreprocessConfig grey_config() {
  io::PreprocessConfig config;
  config.input_size = 28;
  config.crop_pct = 0.9f;
  config.channels = 1;
  config.mean = {0.2860f};
  config.std = {0.3530f};
  return config;
}

io::Image random_rgb(int width, int height, uint32_t seed) {
  std::mt19937 generator(seed);
  io::Image image{width, height, 3, std::vector<uint8_t>(size_t(width) * height * 3)};
  // Noise over a gradient: every byte value occurs and the bicubic overshoot clips at both ends.
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        const int smooth = (x * 255 / std::max(width - 1, 1) + y * 255 / std::max(height - 1, 1) * c) % 256;
        const int value = generator() % 4 == 0 ? int(generator() % 256) : smooth;
        image.pixels[(size_t(y) * width + x) * 3 + c] = uint8_t(value);
      }
  return image;
}

io::Image crop(const io::Image& image, int x, int y, int width, int height) {
  io::Image out{width, height, image.channels, {}};
  for (int row = 0; row < height; ++row) {
    const uint8_t* begin = &image.pixels[(size_t(y + row) * image.width + x) * image.channels];
    out.pixels.insert(out.pixels.end(), begin, begin + size_t(width) * image.channels);
  }
  return out;
}

// A sampled device image (optimal tiling) holding an io::Image's pixels in one of ImageInput's
// formats, in `layout`.
class DeviceImage {
 public:
  DeviceImage(vk::Context& context, const io::Image& pixels, VkFormat format, VkImageLayout layout)
      : context_(context) {
    VkDevice device = context.device();
    VkImageCreateInfo image_info{.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                                 .imageType = VK_IMAGE_TYPE_2D,
                                 .format = format,
                                 .extent = {uint32_t(pixels.width), uint32_t(pixels.height), 1},
                                 .mipLevels = 1,
                                 .arrayLayers = 1,
                                 .samples = VK_SAMPLE_COUNT_1_BIT,
                                 .tiling = VK_IMAGE_TILING_OPTIMAL,
                                 .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                 .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
                                 .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
    VKV_CHECK(vkCreateImage(device, &image_info, nullptr, &image_));
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(device, image_, &requirements);
    uint32_t type = 0;
    while (!(requirements.memoryTypeBits >> type & 1)) ++type;
    VkMemoryAllocateInfo allocate_info{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                       .allocationSize = requirements.size,
                                       .memoryTypeIndex = type};
    VKV_CHECK(vkAllocateMemory(device, &allocate_info, nullptr, &memory_));
    VKV_CHECK(vkBindImageMemory(device, image_, memory_, 0));
    VkImageViewCreateInfo view_info{.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                    .image = image_,
                                    .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                    .format = format,
                                    .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    VKV_CHECK(vkCreateImageView(device, &view_info, nullptr, &view_));

    const std::vector<std::byte> texels = encode(pixels, format);
    auto shared = std::shared_ptr<vk::Context>(&context, [](vk::Context*) {});
    vk::Arena staging(shared, texels.size(), vk::MemoryUse::Upload, "test image staging");
    const vk::BufferSlice staged = staging.allocate(texels.size(), "test image texels");
    std::memcpy(staged.mapped, texels.data(), texels.size());
    staged.flush();
    vk::CommandBuffer commands(context);
    commands.begin();
    VkImageMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                                 .srcAccessMask = 0,
                                 .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                 .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                 .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                 .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .image = image_,
                                 .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(commands.handle(), VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 0, nullptr, 0, nullptr, 1, &barrier);
    VkBufferImageCopy region{.bufferOffset = staged.offset,
                             .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                             .imageExtent = image_info.extent};
    vkCmdCopyBufferToImage(commands.handle(), staged.buffer, image_, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                           &region);
    barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    barrier.newLayout = layout;
    vkCmdPipelineBarrier(commands.handle(), VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, nullptr, 0, nullptr, 1, &barrier);
    commands.end();
    context.submit_and_wait(commands.handle());
    input_ = ImageInput{.view = view_,
                        .format = format,
                        .width = uint32_t(pixels.width),
                        .height = uint32_t(pixels.height),
                        .layout = layout};
  }
  ~DeviceImage() {
    vkDestroyImageView(context_.device(), view_, nullptr);
    vkDestroyImage(context_.device(), image_, nullptr);
    vkFreeMemory(context_.device(), memory_, nullptr);
  }
  DeviceImage(const DeviceImage&) = delete;
  DeviceImage& operator=(const DeviceImage&) = delete;

  const ImageInput& input() const { return input_; }

 private:
  // The bytes the CPU path decodes, stored so that sampling gives them back: 8-bit formats hold them
  // as they are (sRGB too: its encoding is the bytes), float formats hold v / 255. Alpha is opaque.
  static std::vector<std::byte> encode(const io::Image& pixels, VkFormat format) {
    const size_t count = size_t(pixels.width) * pixels.height;
    std::vector<std::byte> out;
    const auto rgb = [&](size_t i, int c) {
      return pixels.channels == 1 ? pixels.pixels[i] : pixels.pixels[i * 3 + c];
    };
    const auto append = [&](const void* data, size_t bytes) {
      const auto* begin = static_cast<const std::byte*>(data);
      out.insert(out.end(), begin, begin + bytes);
    };
    for (size_t i = 0; i < count; ++i) {
      switch (format) {
        case VK_FORMAT_R8G8B8A8_UNORM:
        case VK_FORMAT_R8G8B8A8_SRGB: {
          const uint8_t texel[4] = {rgb(i, 0), rgb(i, 1), rgb(i, 2), 255};
          append(texel, 4);
          break;
        }
        case VK_FORMAT_B8G8R8A8_UNORM:
        case VK_FORMAT_B8G8R8A8_SRGB: {
          const uint8_t texel[4] = {rgb(i, 2), rgb(i, 1), rgb(i, 0), 255};
          append(texel, 4);
          break;
        }
        case VK_FORMAT_R16G16B16A16_SFLOAT: {
          const uint16_t texel[4] = {ops::float_to_half(rgb(i, 0) / 255.0f),
                                     ops::float_to_half(rgb(i, 1) / 255.0f),
                                     ops::float_to_half(rgb(i, 2) / 255.0f), ops::float_to_half(1.0f)};
          append(texel, 8);
          break;
        }
        default: {
          const float texel[4] = {rgb(i, 0) / 255.0f, rgb(i, 1) / 255.0f, rgb(i, 2) / 255.0f, 1.0f};
          append(texel, 16);
          break;
        }
      }
    }
    return out;
  }

  vk::Context& context_;
  VkImage image_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkImageView view_ = VK_NULL_HANDLE;
  ImageInput input_;
};

class ImageInputTest : public DeviceTest {
 protected:
  // The preprocessor's output for `input`, recorded `records` times into one command buffer (each
  // into its own destination; all must agree).
  std::vector<float> run_gpu(exec::ImagePreprocessor& preprocessor, const io::PreprocessConfig& config,
                             const ImageInput& input, int records = 1,
                             VkQueryPool timestamps = VK_NULL_HANDLE) {
    const size_t count = size_t(config.channels) * config.input_size * config.input_size;
    std::vector<vk::BufferSlice> destinations;
    for (int i = 0; i < records; ++i) destinations.push_back(make_buffer(count));
    vk::CommandBuffer commands(context());
    commands.begin();
    // The entry barrier a Session records: the host's and vkvision's earlier work before this.
    commands.memory_barrier(VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    if (timestamps) {
      commands.reset_queries(timestamps, 0, 2);
      commands.write_timestamp(timestamps, 0);
    }
    for (const vk::BufferSlice& destination : destinations) preprocessor.record(commands, input, destination);
    if (timestamps) commands.write_timestamp(timestamps, 1);
    commands.memory_barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                            VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                            VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT);
    commands.end();
    context().submit_and_wait(commands.handle());
    std::vector<float> first = read(destinations[0], count);
    for (int i = 1; i < records; ++i) EXPECT_TRUE(bitwise_equal(read(destinations[i], count), first)) << i;
    return first;
  }

  static bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  }

  // Fails with the first differing value, where it is and both bit patterns.
  static void expect_bitwise_equal(const std::vector<float>& actual, const std::vector<float>& expected,
                                   int size, const std::string& what) {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    for (size_t i = 0; i < actual.size(); ++i)
      if (std::memcmp(&actual[i], &expected[i], sizeof(float)) != 0) {
        const size_t plane = size_t(size) * size;
        ADD_FAILURE() << what << ": channel " << i / plane << " row " << i % plane / size << " column "
                      << i % size << ": GPU " << actual[i] << ", CPU " << expected[i];
        return;
      }
  }

  // GPU == CPU for `pixels` stored in `format`.
  void expect_matches(const io::Image& pixels, const io::PreprocessConfig& config, const std::string& what,
                      VkFormat format = VK_FORMAT_R8G8B8A8_UNORM,
                      VkImageLayout layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL) {
    exec::ImagePreprocessor preprocessor(context_ptr(), pipelines(), config);
    DeviceImage image(context(), pixels, format, layout);
    expect_bitwise_equal(run_gpu(preprocessor, config, image.input()), io::preprocess(pixels, config),
                         config.input_size, what);
  }

  static std::vector<std::filesystem::path> samples() {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "samples"))
      if (entry.path().extension() == ".png") paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    return paths;
  }
};

TEST_F(ImageInputTest, SamplesWithTheBundledModelsPreprocessing) {
  const Model model = Model::load(source_dir() / "models" / "convnext_fmnist.safetensors");
  const io::PreprocessConfig config = detail::preprocess_config(model.info().preprocessing);
  ASSERT_EQ(config.channels, 1);
  ASSERT_FALSE(samples().empty());
  for (const auto& path : samples()) expect_matches(io::decode_image(path), config, path.filename().string());
}

TEST_F(ImageInputTest, SamplesWithImageNetPreprocessing) {
  for (const auto interpolation : {io::Interpolation::Bicubic, io::Interpolation::Bilinear}) {
    const io::PreprocessConfig config = imagenet(interpolation);
    for (const auto& path : samples())
      expect_matches(io::decode_image(path), config,
                     path.filename().string() +
                         (interpolation == io::Interpolation::Bicubic ? " bicubic" : " bilinear"));
  }
}

TEST_F(ImageInputTest, OddSizes) {
  // 256 x 320: the shorter side is already the resize's, so that pass is PIL's identity.
  const int sizes[][2] = {{517, 383}, {97, 301}, {224, 224}, {1000, 40}, {256, 320}, {1, 1}};
  uint32_t seed = 1;
  for (const auto& size : sizes)
    for (const auto interpolation : {io::Interpolation::Bicubic, io::Interpolation::Bilinear})
      expect_matches(random_rgb(size[0], size[1], seed++), imagenet(interpolation),
                     std::to_string(size[0]) + "x" + std::to_string(size[1]));
}

TEST_F(ImageInputTest, LargeDownscale) {
  // 2048 -> 16: 128 source pixels per output, windows of 513 bicubic taps.
  const io::Image pixels = random_rgb(2048, 2048, 37);
  for (const auto interpolation : {io::Interpolation::Bicubic, io::Interpolation::Bilinear}) {
    io::PreprocessConfig config = imagenet(interpolation);
    config.input_size = 16;
    config.crop_pct = 1.0f;
    expect_matches(pixels, config, "2048 to 16");
    config.channels = 1;
    config.mean = {0.5f};
    config.std = {0.25f};
    expect_matches(pixels, config, "2048 to 16, grey");
  }
}

TEST_F(ImageInputTest, EveryFormat) {
  const io::Image pixels = random_rgb(517, 383, 7);
  for (const VkFormat format :
       {VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_B8G8R8A8_SRGB,
        VK_FORMAT_R16G16B16A16_SFLOAT, VK_FORMAT_R32G32B32A32_SFLOAT}) {
    expect_matches(pixels, imagenet(), "format " + std::to_string(format), format);
    expect_matches(pixels, grey_config(), "grey, format " + std::to_string(format), format);
  }
  // Every byte value through each format, one image of 256 x 256 gradients.
  io::Image ramp{256, 256, 3, {}};
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x)
      for (const int value : {x, y, (x + y) % 256}) ramp.pixels.push_back(uint8_t(value));
  io::PreprocessConfig identity = imagenet();
  identity.input_size = 256;
  identity.crop_pct = 1.0f;  // no resize at all: each output is one texel's byte
  for (const VkFormat format :
       {VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_R16G16B16A16_SFLOAT})
    expect_matches(ramp, identity, "every byte, format " + std::to_string(format), format);
}

TEST_F(ImageInputTest, GeneralLayout) {
  expect_matches(random_rgb(300, 200, 3), imagenet(), "GENERAL", VK_FORMAT_R8G8B8A8_UNORM,
                 VK_IMAGE_LAYOUT_GENERAL);
}

TEST_F(ImageInputTest, SourceRectangleIsTheImageTheTransformSees) {
  const io::Image pixels = random_rgb(517, 383, 11);
  for (const io::PreprocessConfig& config : {imagenet(), grey_config()}) {
    exec::ImagePreprocessor preprocessor(context_ptr(), pipelines(), config);
    DeviceImage image(context(), pixels, VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    for (const auto& rect :
         std::vector<std::array<int, 4>>{{31, 17, 300, 250}, {0, 0, 517, 383}, {500, 0, 17, 383}}) {
      ImageInput input = image.input();
      input.x = rect[0], input.y = rect[1], input.rect_width = rect[2], input.rect_height = rect[3];
      expect_bitwise_equal(run_gpu(preprocessor, config, input),
                           io::preprocess(crop(pixels, rect[0], rect[1], rect[2], rect[3]), config),
                           config.input_size,
                           "rectangle at " + std::to_string(rect[0]) + "," + std::to_string(rect[1]));
    }
  }
}

TEST_F(ImageInputTest, ManyRectanglesOfOneImageGrowTheDescriptorPools) {
  // 20 rectangles are 20 distinct images (and destinations): more sets than one pool holds.
  const io::PreprocessConfig config = grey_config();
  const io::Image pixels = random_rgb(120, 90, 41);
  exec::ImagePreprocessor preprocessor(context_ptr(), pipelines(), config);
  DeviceImage image(context(), pixels, VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  for (int i = 0; i < 20; ++i) {
    ImageInput input = image.input();
    input.x = uint32_t(i), input.y = uint32_t(i / 2), input.rect_width = uint32_t(60 + i),
    input.rect_height = uint32_t(50 + i);
    expect_bitwise_equal(run_gpu(preprocessor, config, input),
                         io::preprocess(crop(pixels, i, i / 2, 60 + i, 50 + i), config), config.input_size,
                         "rectangle " + std::to_string(i));
  }
}

TEST_F(ImageInputTest, GreyModelFromAnRgbImage) {
  for (const auto& size : {std::array<int, 2>{517, 383}, {28, 28}, {40, 1000}})
    expect_matches(random_rgb(size[0], size[1], 5), grey_config(), "grey " + std::to_string(size[0]));
}

TEST_F(ImageInputTest, LaterRecordsAllocateNothing) {
  const io::PreprocessConfig config = imagenet();
  const io::Image pixels = random_rgb(640, 480, 13);
  exec::ImagePreprocessor preprocessor(context_ptr(), pipelines(), config);
  DeviceImage image(context(), pixels, VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  EXPECT_EQ(preprocessor.cached_bytes(), 0u);
  const std::vector<float> expected = io::preprocess(pixels, config);
  expect_bitwise_equal(run_gpu(preprocessor, config, image.input()), expected, 224, "first record");
  const uint64_t cached = preprocessor.cached_bytes();
  EXPECT_GT(cached, 0u);
  // Three records of one image into one command buffer share its band: they must not race.
  expect_bitwise_equal(run_gpu(preprocessor, config, image.input(), 3), expected, 224, "later records");
  EXPECT_EQ(preprocessor.cached_bytes(), cached);
}

TEST_F(ImageInputTest, BatchSlicesOfOneBufferAtUnalignedOffsets) {
  // A batch's images at 4 + n * image bytes: below any storage-buffer offset alignment.
  const io::PreprocessConfig config = grey_config();
  const size_t count = size_t(config.input_size) * config.input_size;
  const io::Image first = random_rgb(517, 383, 23), second = random_rgb(97, 301, 29);
  exec::ImagePreprocessor preprocessor(context_ptr(), pipelines(), config);
  DeviceImage first_image(context(), first, VK_FORMAT_R8G8B8A8_UNORM,
                          VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  DeviceImage second_image(context(), second, VK_FORMAT_B8G8R8A8_SRGB,
                           VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  const vk::BufferSlice buffer = make_buffer(1 + 2 * count + 1);
  const auto slice = [&](size_t first_float) {
    return vk::BufferSlice{buffer.buffer, buffer.offset + first_float * 4, count * 4,
                           buffer.mapped ? buffer.mapped + first_float * 4 : nullptr, buffer.arena};
  };
  for (int run = 0; run < 2; ++run) {  // the second run reuses every cached set
    vk::CommandBuffer commands(context());
    commands.begin();
    commands.memory_barrier(VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    preprocessor.record(commands, first_image.input(), slice(1));
    preprocessor.record(commands, second_image.input(), slice(1 + count));
    commands.memory_barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                            VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                            VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT);
    commands.end();
    context().submit_and_wait(commands.handle());
    const std::vector<float> values = read(buffer, 1 + 2 * count + 1);
    EXPECT_EQ(values.front(), 0.0f);
    EXPECT_EQ(values.back(), 0.0f);
    expect_bitwise_equal({values.begin() + 1, values.begin() + 1 + count}, io::preprocess(first, config),
                         config.input_size, "first slice");
    expect_bitwise_equal({values.begin() + 1 + count, values.end() - 1}, io::preprocess(second, config),
                         config.input_size, "second slice");
  }
}

TEST_F(ImageInputTest, CheckRefusesWhatItCannotTake) {
  exec::ImagePreprocessor preprocessor(context_ptr(), pipelines(), imagenet());
  DeviceImage image(context(), random_rgb(64, 48, 17), VK_FORMAT_R8G8B8A8_UNORM,
                    VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  EXPECT_NO_THROW(preprocessor.check(image.input()));
  const auto message = [&](auto change) {
    ImageInput input = image.input();
    change(input);
    try {
      preprocessor.check(input);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("no InputError");
  };
  EXPECT_NE(message([](ImageInput& i) { i.view = VK_NULL_HANDLE; }).find("VK_NULL_HANDLE"),
            std::string::npos);
  const std::string format = message([](ImageInput& i) { i.format = VK_FORMAT_R8_UNORM; });
  EXPECT_NE(format.find("format 9 is not one of R8G8B8A8_UNORM (37), R8G8B8A8_SRGB (43)"), std::string::npos)
      << format;
  EXPECT_NE(format.find("R32G32B32A32_SFLOAT (109)"), std::string::npos) << format;
  EXPECT_NE(message([](ImageInput& i) { i.width = 0; }).find("extent 0x48"), std::string::npos);
  EXPECT_NE(
      message([](ImageInput& i) { i.layout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL; }).find("layout 7 is not"),
      std::string::npos);
  EXPECT_NE(message([](ImageInput& i) {
              i.x = 1, i.rect_width = 64, i.rect_height = 48;
            }).find("source rectangle 64x48 at (1, 0) is outside the 64x48 image"),
            std::string::npos);
  EXPECT_NE(
      message([](ImageInput& i) { i.y = 0xffffffffu, i.rect_width = 1, i.rect_height = 2; }).find("outside"),
      std::string::npos);
  EXPECT_NE(message([](ImageInput& i) { i.x = 3; }).find("needs a width and a height"), std::string::npos);
  // record() checks a new image before it allocates anything.
  ImageInput null_view = image.input();
  null_view.view = VK_NULL_HANDLE;
  vk::CommandBuffer commands(context());
  commands.begin();
  EXPECT_THROW(preprocessor.record(commands, null_view, make_buffer(3 * 224 * 224)), InputError);
  commands.end();
  EXPECT_EQ(preprocessor.cached_bytes(), 0u);
}

// A device that cannot sample a format: check() says so as a DeviceError, and an sRGB format's
// calibration skips it. The profile only edits the reported features (tests/support/device_profiles).
TEST_F(ImageInputTest, FormatTheDeviceCannotSampleIsADeviceError) {
  TestDirectory directory("image_input");
  std::filesystem::create_directories(directory.path());
  const std::filesystem::path path = directory.path() / "no_bgra_srgb.json";
  std::ofstream(path) << R"({"description": "B8G8R8A8_SRGB not sampled", "modelled_on": "test only",
                             "formats": {"B8G8R8A8_SRGB":
                                           {"remove_optimal_tiling_features": ["SAMPLED_IMAGE"]}}})";
  DeviceOptions options;
  options.validation = true;
  std::shared_ptr<vk::Context> limited;
  {
    ScopedProfile profile(path.string());
    limited = vk::Context::create(options);
  }
  {
    vk::PipelineCache limited_pipelines(limited);
    exec::ImagePreprocessor preprocessor(limited, limited_pipelines, imagenet());
    DeviceImage image(*limited, random_rgb(64, 48, 31), VK_FORMAT_R8G8B8A8_SRGB,
                      VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    ImageInput input = image.input();
    input.format = VK_FORMAT_B8G8R8A8_SRGB;  // check() reads the format it is told
    try {
      preprocessor.check(input);
      ADD_FAILURE() << "no DeviceError";
    } catch (const DeviceError& error) {
      EXPECT_NE(std::string(error.what()).find("cannot sample B8G8R8A8_SRGB images with optimal tiling"),
                std::string::npos)
          << error.what();
    }
    input.format = VK_FORMAT_R8G8B8A8_SRGB;
    EXPECT_NO_THROW(preprocessor.check(input));
  }
  for (const auto& message : limited->validation_messages()) ADD_FAILURE() << "validation: " << message;
}

// A photo-sized source (ImageNet's 224 transform from 1024 x 768): bit-identical to the CPU path.
// Its cost is measured by `vkvision bench --embedding`, not here.
TEST_F(ImageInputTest, ImageNet224From1024x768MatchesTheCpuPath) {
  const io::PreprocessConfig config = imagenet();
  const io::Image pixels = random_rgb(1024, 768, 19);
  exec::ImagePreprocessor preprocessor(context_ptr(), pipelines(), config);
  DeviceImage image(context(), pixels, VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  expect_bitwise_equal(run_gpu(preprocessor, config, image.input(), 1, VK_NULL_HANDLE),
                       io::preprocess(pixels, config), 224, "1024x768");
}

}  // namespace
}  // namespace vkvision::testing
