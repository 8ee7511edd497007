// Session::record and Session::submit on a WRAPPED runtime, inside a host application's own frames
// (support/host_device.h: the host's validated instance with synchronisation and thread-safety
// checks, its device from the contract, its queue mutex): image inputs uploaded by the host in the
// same command buffer vkvision records into, frames in flight on timeline semaphores and on the
// fence path, a host render thread beside an inference thread, the host's binary semaphores around
// a submit, and destruction with submissions in flight. Every logit equals Session::run's on the same
// session bit for bit, and every test checks both messengers (the host's and the runtime's) for zero
// messages (VKVISION_VALIDATION=sync). Synchronisation validation checks the hazards inside each
// command buffer (the host's upload beside vkvision's commands); the layer of Debian 12 (1.3.239)
// reports none across submissions, so the order of frames in flight is checked by their logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/host_device.h"
#include "support/paths.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

using testing::HostDevice;
using testing::HostDeviceOptions;
using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

const Model& bundled_model() {
  static const Model model = Model::load(testing::source_dir() / "models" / "convnext_fmnist.safetensors");
  return model;
}

uint32_t classes() { return bundled_model().info().num_classes; }

// The bundled samples, decoded as the CLI decodes them (28x28 grey).
const std::vector<Image>& samples() {
  static const std::vector<Image> images = [] {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(testing::source_dir() / "samples"))
      if (entry.path().extension() == ".png") paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    std::vector<Image> decoded;
    for (const auto& path : paths) decoded.push_back(decode_image(path));
    return decoded;
  }();
  return images;
}

// Register-blocked: Auto could time a trial (slow, and it may pick differently per runtime).
SessionOptions session_options(uint32_t batch = 1) {
  return {.batch = batch, .kernels = KernelFamily::RegisterBlocked};
}

void expect_no_messages(const HostDevice& host) {
  for (const auto& message : host.messages()) ADD_FAILURE() << "host's messenger: " << message;
}

void expect_no_messages(const Runtime& runtime) {
  for (const auto& message : runtime.validation_messages())
    ADD_FAILURE() << "runtime's messenger: " << message;
}

// Bit for bit: the same dispatches on the same values give the same floats.
void expect_same_bits(const std::vector<float>& actual, const std::vector<float>& expected,
                      const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  EXPECT_EQ(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)), 0)
      << what << ": first logits " << actual[0] << " vs " << expected[0];
}

std::vector<float> read(const HostDevice::Buffer& buffer, size_t count) {
  std::vector<float> values(count);
  buffer.invalidate();
  std::memcpy(values.data(), buffer.mapped, count * sizeof(float));
  return values;
}

void write(const HostDevice::Buffer& buffer, const std::vector<float>& values) {
  std::memcpy(buffer.mapped, values.data(), values.size() * sizeof(float));
  buffer.flush();
}

BufferRange range(const HostDevice::Buffer& buffer, VkBufferUsageFlags usage) {
  return {.buffer = buffer.buffer, .offset = 0, .size = buffer.size, .usage = usage};
}

// The pixels of a rectangle of `image`.
Image crop(const Image& image, uint32_t x, uint32_t y, uint32_t width, uint32_t height) {
  Image out{.width = width, .height = height, .channels = image.channels};
  for (uint32_t row = 0; row < height; ++row) {
    const uint8_t* begin = &image.pixels[(size_t(y + row) * image.width + x) * image.channels];
    out.pixels.insert(out.pixels.end(), begin, begin + size_t(width) * image.channels);
  }
  return out;
}

void begin(VkCommandBuffer commands) {
  VkCommandBufferBeginInfo info{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  ASSERT_EQ(vkBeginCommandBuffer(commands, &info), VK_SUCCESS);
}

void end(VkCommandBuffer commands) { ASSERT_EQ(vkEndCommandBuffer(commands), VK_SUCCESS); }

// A host barrier making transfer writes visible to the host's reads after its fence.
void transfer_to_host(VkCommandBuffer commands) {
  VkMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier,
                       0, nullptr, 0, nullptr);
}

// A host's sampled image (device-local, optimal tiling, SAMPLED | TRANSFER_DST) holding decoded
// pixels in one of ImageInput's formats, and the host's staging buffer for its upload.
class HostImage {
 public:
  HostImage(HostDevice& host, const Image& pixels, VkFormat format)
      : device_(host.device()), format_(format), width_(pixels.width), height_(pixels.height) {
    VkImageCreateInfo image_info{.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                                 .imageType = VK_IMAGE_TYPE_2D,
                                 .format = format,
                                 .extent = {width_, height_, 1},
                                 .mipLevels = 1,
                                 .arrayLayers = 1,
                                 .samples = VK_SAMPLE_COUNT_1_BIT,
                                 .tiling = VK_IMAGE_TILING_OPTIMAL,
                                 .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                 .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
                                 .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
    check(vkCreateImage(device_, &image_info, nullptr, &image_), "vkCreateImage");
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(device_, image_, &requirements);
    VkPhysicalDeviceMemoryProperties memory;
    vkGetPhysicalDeviceMemoryProperties(host.physical_device(), &memory);
    uint32_t type = 0;
    while (type < memory.memoryTypeCount &&
           !((requirements.memoryTypeBits >> type & 1) &&
             (memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)))
      ++type;
    if (type == memory.memoryTypeCount) throw std::runtime_error("no device-local memory for an image");
    VkMemoryAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = requirements.size,
                                  .memoryTypeIndex = type};
    check(vkAllocateMemory(device_, &allocate, nullptr, &memory_), "vkAllocateMemory");
    check(vkBindImageMemory(device_, image_, memory_, 0), "vkBindImageMemory");
    VkImageViewCreateInfo view_info{.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                    .image = image_,
                                    .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                    .format = format,
                                    .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    check(vkCreateImageView(device_, &view_info, nullptr, &view_), "vkCreateImageView");
    const std::vector<std::byte> texels = encode(pixels, format);
    staging_ = host.create_buffer(texels.size(), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true);
    std::memcpy(staging_.mapped, texels.data(), texels.size());
    staging_.flush();
  }
  ~HostImage() {
    vkDestroyImageView(device_, view_, nullptr);
    vkDestroyImage(device_, image_, nullptr);
    vkFreeMemory(device_, memory_, nullptr);
  }
  HostImage(const HostImage&) = delete;
  HostImage& operator=(const HostImage&) = delete;

  // The host's upload, its own barriers: UNDEFINED -> TRANSFER_DST, the copy from staging, then
  // -> `layout` for compute-shader reads (the stage Bindings::input_stages then names).
  void record_upload(VkCommandBuffer commands, VkImageLayout layout) const {
    VkImageMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                                 .srcAccessMask = 0,
                                 .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                 .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                 .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                 .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .image = image_,
                                 .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                         nullptr, 0, nullptr, 1, &barrier);
    VkBufferImageCopy region{.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                             .imageExtent = {width_, height_, 1}};
    vkCmdCopyBufferToImage(commands, staging_.buffer, image_, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                           &region);
    barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    barrier.newLayout = layout;
    vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0,
                         nullptr, 0, nullptr, 1, &barrier);
  }

  ImageInput input(VkImageLayout layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL) const {
    return {.view = view_, .format = format_, .width = width_, .height = height_, .layout = layout};
  }

 private:
  static void check(VkResult result, const char* call) {
    if (result != VK_SUCCESS)
      throw std::runtime_error(std::string(call) + " returned " + std::to_string(result));
  }

  // The decoded bytes stored so that sampling gives them back: 8-bit formats hold them as they are
  // (sRGB too: its encoding is the bytes), in the format's channel order; the float format holds
  // v / 255. Grey pixels go in all three colour channels; alpha is opaque.
  static std::vector<std::byte> encode(const Image& pixels, VkFormat format) {
    std::vector<std::byte> out;
    const auto append = [&](const void* data, size_t bytes) {
      const auto* first = static_cast<const std::byte*>(data);
      out.insert(out.end(), first, first + bytes);
    };
    for (size_t i = 0; i < size_t(pixels.width) * pixels.height; ++i) {
      const auto value = [&](int c) {
        return pixels.pixels[i * pixels.channels + (pixels.channels == 1 ? 0 : c)];
      };
      if (format == VK_FORMAT_R32G32B32A32_SFLOAT) {
        const float texel[4] = {value(0) / 255.0f, value(1) / 255.0f, value(2) / 255.0f, 1.0f};
        append(texel, sizeof(texel));
      } else if (format == VK_FORMAT_B8G8R8A8_UNORM || format == VK_FORMAT_B8G8R8A8_SRGB) {
        const uint8_t texel[4] = {value(2), value(1), value(0), 255};
        append(texel, sizeof(texel));
      } else {
        const uint8_t texel[4] = {value(0), value(1), value(2), 255};
        append(texel, sizeof(texel));
      }
    }
    return out;
  }

  VkDevice device_;
  VkFormat format_;
  uint32_t width_, height_;
  VkImage image_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkImageView view_ = VK_NULL_HANDLE;
  HostDevice::Buffer staging_;
};

const char* format_name(VkFormat format) {
  switch (format) {
    case VK_FORMAT_R8G8B8A8_UNORM: return "R8G8B8A8_UNORM";
    case VK_FORMAT_B8G8R8A8_SRGB: return "B8G8R8A8_SRGB";
    case VK_FORMAT_R32G32B32A32_SFLOAT: return "R32G32B32A32_SFLOAT";
    default: return "another format";
  }
}

// A host device with a runtime wrapped on it; TearDown checks both messengers. A test's own
// sessions and images are locals, gone before TearDown destroys the runtime, then the host.
class EmbeddingHostTest : public ::testing::Test {
 protected:
  void wrap(const HostDeviceOptions& options = {}, bool queue_mutex = false) {
    host_.emplace(options);
    ExternalDevice external = host_->external();
    if (queue_mutex) host_->use_queue_mutex(external);
    runtime_ = Runtime::wrap(external);
  }
  void TearDown() override {
    if (runtime_) expect_no_messages(*runtime_);
    runtime_.reset();
    if (host_) expect_no_messages(*host_);
    host_.reset();
  }
  HostDevice& host() { return *host_; }

  // One host frame: the host's upload of `images` and the session's inference recorded into one
  // command buffer, one submit, the host's own wait; returns the logits from the host's buffer.
  std::vector<float> image_frame(Session& session, VkCommandBuffer commands,
                                 const std::vector<const HostImage*>& images, std::vector<ImageInput> inputs,
                                 VkImageLayout layout) {
    const HostDevice::Buffer logits = host().create_buffer(session.batch() * classes() * sizeof(float),
                                                           VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);
    begin(commands);
    for (const HostImage* image : images) image->record_upload(commands, layout);
    session.record(commands, {.input_images = std::move(inputs),
                              .output_buffer = range(logits, VK_BUFFER_USAGE_TRANSFER_DST_BIT),
                              .input_stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,  // the transition's scope
                              .input_access = 0,
                              .output_stages = VK_PIPELINE_STAGE_HOST_BIT,
                              .output_access = VK_ACCESS_HOST_READ_BIT});
    end(commands);
    host().submit_and_wait(commands);
    return read(logits, session.batch() * classes());
  }

  std::optional<HostDevice> host_;
  std::shared_ptr<Runtime> runtime_;
};

// 1. Image inputs recorded into the host's command buffer, after the host's own upload and layout
// transition in that same command buffer.

TEST_F(EmbeddingHostTest, ImageInputsInTheHostsUploadCommandBufferEqualRun) {
  wrap();
  std::vector<std::unique_ptr<HostImage>> images;  // outlive the session (its caches are per view)
  Session session(runtime_, bundled_model(), session_options());
  VkCommandBuffer commands = host().allocate_command_buffer(host().create_command_pool());
  for (const VkFormat format :
       {VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_R32G32B32A32_SFLOAT}) {
    for (size_t i = 0; i < samples().size(); ++i) {
      const std::vector<float> expected = session.run(session.preprocess(samples()[i]));
      images.push_back(std::make_unique<HostImage>(host(), samples()[i], format));
      const HostImage& image = *images.back();
      expect_same_bits(
          image_frame(session, commands, {&image}, {image.input()}, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL),
          expected, std::string(format_name(format)) + " sample " + std::to_string(i));
    }
  }
  // The same images again (each re-uploaded in its frame): the cached tables, the same logits.
  for (size_t i = 0; i < samples().size(); ++i) {
    const HostImage& image = *images[i];
    expect_same_bits(
        image_frame(session, commands, {&image}, {image.input()}, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL),
        session.run(session.preprocess(samples()[i])), "again: sample " + std::to_string(i));
  }
}

TEST_F(EmbeddingHostTest, BatchOfThreeDifferentImagesEqualsRun) {
  wrap();
  const HostImage first(host(), samples()[0], VK_FORMAT_R8G8B8A8_UNORM);
  const HostImage second(host(), samples()[1], VK_FORMAT_B8G8R8A8_SRGB);
  const HostImage third(host(), samples()[2], VK_FORMAT_R32G32B32A32_SFLOAT);
  Session session(runtime_, bundled_model(), session_options(3));
  std::vector<float> input;
  for (size_t i = 0; i < 3; ++i) {
    const std::vector<float> image = session.preprocess(samples()[i]);
    input.insert(input.end(), image.begin(), image.end());
  }
  const std::vector<float> expected = session.run(input);
  VkCommandBuffer commands = host().allocate_command_buffer(host().create_command_pool());
  expect_same_bits(
      image_frame(session, commands, {&first, &second, &third},
                  {first.input(), second.input(), third.input()}, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL),
      expected, "batch of 3");
  // The images in another order: each image's logits move with it.
  std::vector<float> reordered;
  for (const size_t i : {2, 0, 1}) {
    const std::vector<float> image = session.preprocess(samples()[i]);
    reordered.insert(reordered.end(), image.begin(), image.end());
  }
  expect_same_bits(
      image_frame(session, commands, {&first, &second, &third},
                  {third.input(), first.input(), second.input()}, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL),
      session.run(reordered), "batch of 3, reordered");
}

TEST_F(EmbeddingHostTest, SourceRectangleEqualsRunOfTheCroppedPixels) {
  wrap();
  const HostImage image(host(), samples()[3], VK_FORMAT_R8G8B8A8_UNORM);
  Session session(runtime_, bundled_model(), session_options());
  VkCommandBuffer commands = host().allocate_command_buffer(host().create_command_pool());
  struct Rectangle {
    uint32_t x, y, width, height;
  };
  for (const Rectangle& r : {Rectangle{3, 2, 22, 24}, Rectangle{0, 5, 28, 23}, Rectangle{6, 0, 19, 28}}) {
    ImageInput input = image.input();
    input.x = r.x, input.y = r.y, input.rect_width = r.width, input.rect_height = r.height;
    const std::vector<float> expected =
        session.run(session.preprocess(crop(samples()[3], r.x, r.y, r.width, r.height)));
    expect_same_bits(
        image_frame(session, commands, {&image}, {input}, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL), expected,
        "rectangle " + std::to_string(r.x) + "," + std::to_string(r.y) + " " + std::to_string(r.width) + "x" +
            std::to_string(r.height));
  }
}

TEST_F(EmbeddingHostTest, ImageInGeneralLayoutEqualsRun) {
  wrap();
  const HostImage image(host(), samples()[4], VK_FORMAT_R8G8B8A8_UNORM);
  Session session(runtime_, bundled_model(), session_options());
  VkCommandBuffer commands = host().allocate_command_buffer(host().create_command_pool());
  expect_same_bits(image_frame(session, commands, {&image}, {image.input(VK_IMAGE_LAYOUT_GENERAL)},
                               VK_IMAGE_LAYOUT_GENERAL),
                   session.run(session.preprocess(samples()[4])), "GENERAL layout");
}

// 2 and 4: Session::submit on the wrapped runtime, with timeline semaphores (the default) and
// without (the fence path of exec::Submissions).

struct SyncPath {
  const char* name;
  bool timeline_semaphore;
};

void PrintTo(const SyncPath& path, std::ostream* out) { *out << path.name; }

class EmbeddingHostSubmitTest : public EmbeddingHostTest, public ::testing::WithParamInterface<SyncPath> {
 protected:
  void SetUp() override {
    wrap({.timeline_semaphore = GetParam().timeline_semaphore});
    // On the fence path the runtime must not use the feature the host left off.
    if (GetParam().timeline_semaphore)
      EXPECT_EQ(runtime_->device().timeline_semaphore, bool(host().enabled().vulkan12.timelineSemaphore));
    else
      EXPECT_FALSE(runtime_->device().timeline_semaphore);
  }
};

constexpr VkBufferUsageFlags kInputUsage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
constexpr VkBufferUsageFlags kOutputUsage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;

TEST_P(EmbeddingHostSubmitTest, FramesInFlightWithHostBuffersEqualRun) {
  Session session(runtime_, bundled_model(), session_options());
  constexpr size_t kFrames = 4;
  std::vector<HostDevice::Buffer> inputs, outputs;
  std::vector<std::vector<float>> expected;
  for (size_t i = 0; i < kFrames; ++i) {
    const std::vector<float> input = session.preprocess(samples()[i]);
    expected.push_back(session.run(input));
    inputs.push_back(host().create_buffer(input.size() * sizeof(float), kInputUsage, true));
    outputs.push_back(host().create_buffer(classes() * sizeof(float), kOutputUsage, true));
    write(inputs[i], input);
  }
  const auto bindings = [&](size_t i) {
    return Bindings{.input_buffer = range(inputs[i], kInputUsage),
                    .output_buffer = range(outputs[i], kOutputUsage)};
  };
  // Two rounds: the second submits the same bindings (the kept recordings; on the fence path, the
  // first round's fences recycled) into zeroed outputs.
  for (int round = 0; round < 2; ++round) {
    for (const auto& output : outputs) write(output, std::vector<float>(classes(), 0.0f));
    std::vector<Ticket> tickets;
    for (size_t i = 0; i < kFrames; ++i) tickets.push_back(session.submit(bindings(i)));
    for (size_t i = 0; i < kFrames; ++i) {
      EXPECT_TRUE(tickets[i].wait(std::chrono::seconds(60)));
      EXPECT_TRUE(tickets[i].ready());
    }
    for (size_t i = 0; i < kFrames; ++i)
      expect_same_bits(read(outputs[i], classes()), expected[i],
                       "round " + std::to_string(round) + " frame " + std::to_string(i));
  }
  // The session's own input and logits beside the host's buffers.
  session.write_input(session.preprocess(samples()[5]));
  const Ticket own = session.submit();
  const Ticket beside = session.submit(bindings(0));
  expect_same_bits(session.logits(), session.run(session.preprocess(samples()[5])), "own input and logits");
  EXPECT_TRUE(own.ready());
  EXPECT_TRUE(beside.wait());
  expect_same_bits(read(outputs[0], classes()), expected[0], "beside the own input");
}

// The host's own recorded frames and Session::submit's on one queue, all pending at once: a host
// frame, a submit, another host frame, before anyone waits. The entry barriers order them on the
// session's activations (synchronisation validation checks it across the submissions).
TEST_P(EmbeddingHostSubmitTest, HostRecordedFramesAndSubmitsPendingTogether) {
  Session session(runtime_, bundled_model(), session_options());
  constexpr size_t kFrames = 3;
  std::vector<HostDevice::Buffer> inputs, outputs;
  std::vector<std::vector<float>> expected;
  for (size_t i = 0; i < kFrames; ++i) {
    const std::vector<float> input = session.preprocess(samples()[i + 2]);
    expected.push_back(session.run(input));
    inputs.push_back(host().create_buffer(input.size() * sizeof(float), kInputUsage, true));
    outputs.push_back(host().create_buffer(classes() * sizeof(float), kOutputUsage, true));
    write(inputs[i], input);
  }
  const auto bindings = [&](size_t i) {
    return Bindings{.input_buffer = range(inputs[i], kInputUsage),
                    .output_buffer = range(outputs[i], kOutputUsage)};
  };
  const VkCommandPool pool = host().create_command_pool();
  const VkCommandBuffer first = host().allocate_command_buffer(pool);
  const VkCommandBuffer last = host().allocate_command_buffer(pool);
  const VkFence first_fence = host().create_fence(), last_fence = host().create_fence();
  const auto host_frame = [&](VkCommandBuffer commands, VkFence fence, size_t i) {
    begin(commands);
    session.record(commands, bindings(i));
    end(commands);
    host().submit(
        {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &commands},
        fence);
  };
  host_frame(first, first_fence, 0);
  const Ticket ticket = session.submit(bindings(1));
  host_frame(last, last_fence, 2);
  host().wait(first_fence);
  EXPECT_TRUE(ticket.wait(std::chrono::seconds(60)));
  host().wait(last_fence);
  for (size_t i = 0; i < kFrames; ++i)
    expect_same_bits(read(outputs[i], classes()), expected[i], "frame " + std::to_string(i));
}

TEST_P(EmbeddingHostSubmitTest, ImageInputSubmitsReuseTheirRecording) {
  const HostImage first(host(), samples()[6], VK_FORMAT_R8G8B8A8_UNORM);
  const HostImage second(host(), samples()[7], VK_FORMAT_B8G8R8A8_SRGB);
  {  // The host uploads both in its own submit and waits for it.
    VkCommandBuffer commands = host().allocate_command_buffer(host().create_command_pool());
    begin(commands);
    first.record_upload(commands, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    second.record_upload(commands, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    end(commands);
    host().submit_and_wait(commands);
  }
  Session session(runtime_, bundled_model(), session_options());
  const std::vector<float> expected_first = session.run(session.preprocess(samples()[6]));
  const std::vector<float> expected_second = session.run(session.preprocess(samples()[7]));
  std::vector<HostDevice::Buffer> outputs;
  for (int i = 0; i < 2; ++i)
    outputs.push_back(host().create_buffer(classes() * sizeof(float), kOutputUsage, true));
  const Bindings to_first{.input_images = {first.input()}, .output_buffer = range(outputs[0], kOutputUsage)};
  const Bindings to_second{.input_images = {second.input()},
                           .output_buffer = range(outputs[1], kOutputUsage)};
  // The first bindings submitted twice while both are in flight: one recording, pending twice.
  const Ticket a = session.submit(to_first);
  const Ticket b = session.submit(to_second);
  const Ticket c = session.submit(to_first);
  EXPECT_TRUE(a.wait(std::chrono::seconds(60)));
  EXPECT_TRUE(b.wait(std::chrono::seconds(60)));
  EXPECT_TRUE(c.wait(std::chrono::seconds(60)));
  expect_same_bits(read(outputs[0], classes()), expected_first, "first image");
  expect_same_bits(read(outputs[1], classes()), expected_second, "second image");
  // Once more after the outputs are cleared: the kept recording samples the image again.
  write(outputs[0], std::vector<float>(classes(), 0.0f));
  EXPECT_TRUE(session.submit(to_first).wait(std::chrono::seconds(60)));
  expect_same_bits(read(outputs[0], classes()), expected_first, "first image, resubmitted");
}

// The host's own submit signals `before` (its upload into a device-local input); vkvision waits for
// it and signals `after`; the host's next submit waits for `after` (its copy of the device-local
// logits into a readback buffer) and signals its fence, which the host waits for.
TEST_P(EmbeddingHostSubmitTest, SubmitBetweenTheHostsBinarySemaphores) {
  Session session(runtime_, bundled_model(), session_options());
  const VkDeviceSize input_bytes = session.preprocess(samples()[0]).size() * sizeof(float);
  const VkDeviceSize logit_bytes = classes() * sizeof(float);
  const VkBufferUsageFlags both = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  const HostDevice::Buffer staging =
      host().create_buffer(input_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true);
  const HostDevice::Buffer device_input = host().create_buffer(input_bytes, both, false);
  const HostDevice::Buffer device_logits = host().create_buffer(logit_bytes, both, false);
  const HostDevice::Buffer readback =
      host().create_buffer(logit_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);
  VkSemaphoreCreateInfo semaphore_info{.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  VkSemaphore before = VK_NULL_HANDLE, after = VK_NULL_HANDLE;
  ASSERT_EQ(vkCreateSemaphore(host().device(), &semaphore_info, nullptr, &before), VK_SUCCESS);
  ASSERT_EQ(vkCreateSemaphore(host().device(), &semaphore_info, nullptr, &after), VK_SUCCESS);
  const VkFence fence = host().create_fence();
  const VkCommandPool pool = host().create_command_pool();
  const VkCommandBuffer upload = host().allocate_command_buffer(pool);
  const VkCommandBuffer download = host().allocate_command_buffer(pool);
  // Two frames: the second reuses the semaphores and the session's recording.
  for (const size_t sample : {0, 1}) {
    const std::vector<float> input = session.preprocess(samples()[sample]);
    const std::vector<float> expected = session.run(input);
    write(staging, input);
    write(readback, std::vector<float>(classes(), 0.0f));
    begin(upload);
    const VkBufferCopy whole_input{0, 0, input_bytes}, whole_logits{0, 0, logit_bytes};
    vkCmdCopyBuffer(upload, staging.buffer, device_input.buffer, 1, &whole_input);
    end(upload);
    host().submit({.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                   .commandBufferCount = 1,
                   .pCommandBuffers = &upload,
                   .signalSemaphoreCount = 1,
                   .pSignalSemaphores = &before},
                  VK_NULL_HANDLE);
    const Ticket ticket = session.submit({.input_buffer = range(device_input, both),
                                          .output_buffer = range(device_logits, both),
                                          .input_stages = VK_PIPELINE_STAGE_TRANSFER_BIT,
                                          .input_access = VK_ACCESS_TRANSFER_WRITE_BIT,
                                          .output_stages = VK_PIPELINE_STAGE_TRANSFER_BIT,
                                          .output_access = VK_ACCESS_TRANSFER_READ_BIT},
                                         {.wait_semaphores = {before},
                                          .wait_stages = {VK_PIPELINE_STAGE_TRANSFER_BIT},
                                          .signal_semaphore = after});
    begin(download);
    vkCmdCopyBuffer(download, device_logits.buffer, readback.buffer, 1, &whole_logits);
    transfer_to_host(download);
    end(download);
    const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    host().submit({.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                   .waitSemaphoreCount = 1,
                   .pWaitSemaphores = &after,
                   .pWaitDstStageMask = &wait_stage,
                   .commandBufferCount = 1,
                   .pCommandBuffers = &download},
                  fence);
    host().wait(fence);
    EXPECT_TRUE(ticket.ready());
    expect_same_bits(read(readback, classes()), expected, "frame of sample " + std::to_string(sample));
  }
  vkDestroySemaphore(host().device(), before, nullptr);
  vkDestroySemaphore(host().device(), after, nullptr);
}

INSTANTIATE_TEST_SUITE_P(SyncPaths, EmbeddingHostSubmitTest,
                         ::testing::Values(SyncPath{"TimelineSemaphore", true}, SyncPath{"Fences", false}),
                         [](const auto& info) { return std::string(info.param.name); });

// 3. A host render thread records and submits its own small work in a loop under its queue mutex
// while an inference thread submits and waits (and runs) on the same queue through lock_queue.
TEST_F(EmbeddingHostTest, RenderThreadBesideAnInferenceThread) {
  wrap({}, /*queue_mutex=*/true);
  Session session(runtime_, bundled_model(), session_options());
  constexpr size_t kInputs = 2;
  std::vector<std::vector<float>> inputs, expected;
  std::vector<HostDevice::Buffer> input_buffers, output_buffers;
  for (size_t i = 0; i < kInputs; ++i) {
    inputs.push_back(session.preprocess(samples()[i]));
    expected.push_back(session.run(inputs[i]));
    input_buffers.push_back(host().create_buffer(inputs[i].size() * sizeof(float), kInputUsage, true));
    output_buffers.push_back(host().create_buffer(classes() * sizeof(float), kOutputUsage, true));
    write(input_buffers[i], inputs[i]);
  }
  // The render thread's own pool, command buffer and buffers, made here (the fixture's creation
  // calls are not thread-safe) and used only on that thread.
  const VkCommandPool render_pool = host().create_command_pool();
  const VkCommandBuffer render_commands = host().allocate_command_buffer(render_pool);
  const HostDevice::Buffer target = host().create_buffer(
      1 << 16, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, false);
  const HostDevice::Buffer shown = host().create_buffer(1 << 16, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);

  std::atomic<bool> stop{false};
  std::atomic<int> host_frames{0}, wrong_host_frames{0};
  std::thread render([&] {
    for (uint32_t frame = 1; !stop; ++frame) {
      begin(render_commands);
      vkCmdFillBuffer(render_commands, target.buffer, 0, VK_WHOLE_SIZE, frame);
      VkMemoryBarrier barrier{.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                              .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT};
      vkCmdPipelineBarrier(render_commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                           1, &barrier, 0, nullptr, 0, nullptr);
      const VkBufferCopy whole{0, 0, target.size};
      vkCmdCopyBuffer(render_commands, target.buffer, shown.buffer, 1, &whole);
      transfer_to_host(render_commands);
      end(render_commands);
      host().submit_and_wait(render_commands);  // under the queue mutex; waits outside it
      shown.invalidate();
      const auto* words = static_cast<const uint32_t*>(shown.mapped);
      if (words[0] != frame || words[target.size / 4 - 1] != frame) ++wrong_host_frames;
      ++host_frames;
    }
  });
  constexpr int kIterations = 12;
  std::thread inference([&] {
    for (int i = 0; i < kIterations; ++i) {
      const size_t k = size_t(i) % kInputs;
      write(output_buffers[k], std::vector<float>(classes(), 0.0f));
      const Ticket ticket = session.submit({.input_buffer = range(input_buffers[k], kInputUsage),
                                            .output_buffer = range(output_buffers[k], kOutputUsage)});
      EXPECT_TRUE(ticket.wait(std::chrono::seconds(60)));
      expect_same_bits(read(output_buffers[k], classes()), expected[k], "submit " + std::to_string(i));
      if (i % 3 == 2) expect_same_bits(session.run(inputs[k]), expected[k], "run " + std::to_string(i));
    }
  });
  inference.join();
  stop = true;
  render.join();
  EXPECT_GT(host_frames.load(), 0);
  EXPECT_EQ(wrong_host_frames.load(), 0);
  std::printf("[ QUEUE    ] %d host frames beside %d submits and %d runs\n", host_frames.load(), kIterations,
              kIterations / 3);
}

// 5. Destroying a session with submit() work in flight (its tickets dropped) waits for that work
// only; destroying the runtime afterwards while the host's long job runs waits for none of it.
TEST_F(EmbeddingHostTest, DestructionWithSubmissionsInFlight) {
  wrap({}, /*queue_mutex=*/true);
  auto session = std::make_unique<Session>(runtime_, bundled_model(), session_options());
  constexpr size_t kFrames = 3;
  std::vector<std::vector<float>> expected;
  std::vector<HostDevice::Buffer> outputs;
  std::vector<HostDevice::Buffer> inputs;
  for (size_t i = 0; i < kFrames; ++i) {
    const std::vector<float> input = session->preprocess(samples()[i]);
    expected.push_back(session->run(input));
    inputs.push_back(host().create_buffer(input.size() * sizeof(float), kInputUsage, true));
    outputs.push_back(host().create_buffer(classes() * sizeof(float), kOutputUsage, true));
    write(inputs[i], input);
    write(outputs[i], std::vector<float>(classes(), 0.0f));
  }
  host().wait(host().submit_long_job(std::chrono::milliseconds(1)));  // calibrates the job's length

  for (size_t i = 0; i < kFrames; ++i)
    session->submit(
        {.input_buffer = range(inputs[i], kInputUsage), .output_buffer = range(outputs[i], kOutputUsage)});
  const auto session_start = Clock::now();
  session.reset();
  const double session_ms = milliseconds_since(session_start);
  for (size_t i = 0; i < kFrames; ++i)  // finished: the session waited for them
    expect_same_bits(read(outputs[i], classes()), expected[i], "frame " + std::to_string(i));
  expect_no_messages(*runtime_);

  const auto job_start = Clock::now();
  const VkFence job = host().submit_long_job(std::chrono::milliseconds(1500));
  const auto runtime_start = Clock::now();
  runtime_.reset();
  const double runtime_ms = milliseconds_since(runtime_start);
  host().wait(job);
  const double job_ms = milliseconds_since(job_start);
  std::printf(
      "[ DESTROY  ] session with %zu submissions in flight destroyed in %.1f ms; runtime destroyed in "
      "%.1f ms while the host's job ran %.1f ms\n",
      kFrames, session_ms, runtime_ms, job_ms);
  EXPECT_GT(job_ms, 400) << "the host's job is too short to tell a wait from none";
  EXPECT_LT(runtime_ms, job_ms / 4);
}

}  // namespace
}  // namespace vkvision
