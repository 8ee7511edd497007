// Session::record and Session::submit with the host's buffers, command buffers and semaphores: every
// path's logits equal Session::run's bit for bit (the same dispatches on the same values; only where
// the input comes from and the logits go differ), under the validation layer's synchronisation
// checks with zero messages.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "api/api_test.h"
#include "io/image.h"
#include "support/paths.h"

namespace vkvision::testing {
namespace {

std::filesystem::path bundled_model() { return source_dir() / "models" / "convnext_fmnist.safetensors"; }

std::vector<std::filesystem::path> samples() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "samples"))
    if (entry.path().extension() == ".png") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The bundled samples preprocessed as the CLI does, `count` of them (repeating), one batch.
std::vector<float> sample_batch(const Session& session, uint32_t count) {
  std::vector<float> batch;
  const auto paths = samples();
  for (uint32_t i = 0; i < count; ++i) {
    const std::vector<float> image = session.preprocess(decode_image(paths[i % paths.size()]));
    batch.insert(batch.end(), image.begin(), image.end());
  }
  return batch;
}

// A host application's buffer on the runtime's device: host-visible, coherent, mapped.
class HostBuffer {
 public:
  HostBuffer(const vk::Context& context, VkDeviceSize size, VkBufferUsageFlags usage)
      : device_(context.device()), size_(size), usage_(usage) {
    VkBufferCreateInfo info{.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage};
    EXPECT_EQ(vkCreateBuffer(device_, &info, nullptr, &buffer_), VK_SUCCESS);
    VkMemoryRequirements requirements;
    vkGetBufferMemoryRequirements(device_, buffer_, &requirements);
    // Coherent where the device has it; a device profile with only non-coherent host memory gets
    // flushes and invalidations.
    const auto& memory = context.memory_properties();
    const auto find = [&](VkMemoryPropertyFlags wanted) {
      uint32_t type = 0;
      while (type < memory.memoryTypeCount && !((requirements.memoryTypeBits >> type & 1) &&
                                                (memory.memoryTypes[type].propertyFlags & wanted) == wanted))
        ++type;
      return type;
    };
    uint32_t type = find(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    if (type == memory.memoryTypeCount) {
      type = find(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
      coherent_ = false;
    }
    EXPECT_LT(type, memory.memoryTypeCount);
    VkMemoryAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = requirements.size,
                                  .memoryTypeIndex = type};
    EXPECT_EQ(vkAllocateMemory(device_, &allocate, nullptr, &memory_), VK_SUCCESS);
    EXPECT_EQ(vkBindBufferMemory(device_, buffer_, memory_, 0), VK_SUCCESS);
    EXPECT_EQ(vkMapMemory(device_, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), VK_SUCCESS);
  }
  ~HostBuffer() {
    vkDestroyBuffer(device_, buffer_, nullptr);
    vkFreeMemory(device_, memory_, nullptr);
  }
  BufferRange range(VkDeviceSize offset = 0) const { return {buffer_, offset, size_ - offset, usage_}; }
  void write(const std::vector<float>& values, VkDeviceSize offset = 0) {
    std::memcpy(static_cast<std::byte*>(mapped_) + offset, values.data(), values.size() * sizeof(float));
    if (coherent_) return;
    VkMappedMemoryRange range{
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory_, .size = VK_WHOLE_SIZE};
    EXPECT_EQ(vkFlushMappedMemoryRanges(device_, 1, &range), VK_SUCCESS);
  }
  std::vector<float> read(size_t count, VkDeviceSize offset = 0) const {
    std::vector<float> values(count);
    if (!coherent_) {
      VkMappedMemoryRange range{
          .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = memory_, .size = VK_WHOLE_SIZE};
      EXPECT_EQ(vkInvalidateMappedMemoryRanges(device_, 1, &range), VK_SUCCESS);
    }
    std::memcpy(values.data(), static_cast<const std::byte*>(mapped_) + offset, count * sizeof(float));
    return values;
  }

 private:
  VkDevice device_;
  VkDeviceSize size_;
  VkBufferUsageFlags usage_;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  void* mapped_ = nullptr;
  bool coherent_ = true;
};

// The host's command pool, command buffers and a submit it waits for itself.
class HostCommands {
 public:
  explicit HostCommands(const vk::Context& context) : context_(context) {
    VkCommandPoolCreateInfo info{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .queueFamilyIndex = context.queue_family()};
    EXPECT_EQ(vkCreateCommandPool(context.device(), &info, nullptr, &pool_), VK_SUCCESS);
    VkFenceCreateInfo fence_info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    EXPECT_EQ(vkCreateFence(context.device(), &fence_info, nullptr, &fence_), VK_SUCCESS);
  }
  ~HostCommands() {
    vkDestroyFence(context_.device(), fence_, nullptr);
    vkDestroyCommandPool(context_.device(), pool_, nullptr);
  }
  VkCommandBuffer begin() {
    VkCommandBufferAllocateInfo info{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = pool_,
                                     .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = 1};
    VkCommandBuffer buffer;
    EXPECT_EQ(vkAllocateCommandBuffers(context_.device(), &info, &buffer), VK_SUCCESS);
    VkCommandBufferBeginInfo begin{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    EXPECT_EQ(vkBeginCommandBuffer(buffer, &begin), VK_SUCCESS);
    return buffer;
  }
  // One submit of all of them, in order, then the host waits its own fence.
  void submit_and_wait(const std::vector<VkCommandBuffer>& buffers, VkSemaphore wait = VK_NULL_HANDLE,
                       VkSemaphore signal = VK_NULL_HANDLE) {
    const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkSubmitInfo submit{.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                        .waitSemaphoreCount = wait ? 1u : 0u,
                        .pWaitSemaphores = &wait,
                        .pWaitDstStageMask = &stage,
                        .commandBufferCount = static_cast<uint32_t>(buffers.size()),
                        .pCommandBuffers = buffers.data(),
                        .signalSemaphoreCount = signal ? 1u : 0u,
                        .pSignalSemaphores = &signal};
    EXPECT_EQ(vkResetFences(context_.device(), 1, &fence_), VK_SUCCESS);
    EXPECT_EQ(vkQueueSubmit(context_.queue(), 1, &submit, fence_), VK_SUCCESS);
    EXPECT_EQ(vkWaitForFences(context_.device(), 1, &fence_, VK_TRUE, UINT64_MAX), VK_SUCCESS);
  }

 private:
  const vk::Context& context_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
};

class EmbeddingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime_ = validated_runtime();
    model_ = std::make_unique<Model>(Model::load(bundled_model()));
  }
  void TearDown() override { expect_no_validation_messages(*runtime_); }
  const vk::Context& context() const { return *detail::Access::state(*runtime_).context; }
  Session session(uint32_t batch) {
    return Session(runtime_, *model_, {.batch = batch, .kernels = KernelFamily::RegisterBlocked});
  }

  std::shared_ptr<Runtime> runtime_;
  std::unique_ptr<Model> model_;
};

constexpr VkBufferUsageFlags kInputUsage =
    VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
constexpr VkBufferUsageFlags kOutputUsage =
    VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;

TEST_F(EmbeddingTest, RecordIntoHostCommandBufferEqualsRun) {
  Session inference = session(2);
  const std::vector<float> input = sample_batch(inference, 2);
  const std::vector<float> expected = inference.run(input);
  // Offsets the host chose, not multiples of anything vkvision aligns to.
  HostBuffer in(context(), input.size() * sizeof(float) + 12, kInputUsage);
  HostBuffer out(context(), expected.size() * sizeof(float) + 20, kOutputUsage);
  in.write(input, 12);
  HostCommands host(context());
  VkCommandBuffer commands = host.begin();
  inference.record(commands, {.input_buffer = in.range(12), .output_buffer = out.range(20)});
  ASSERT_EQ(vkEndCommandBuffer(commands), VK_SUCCESS);
  host.submit_and_wait({commands});
  EXPECT_EQ(out.read(expected.size(), 20), expected);
}

// The contract at entry and exit, checked by synchronisation validation: the host writes the input
// with a transfer in the same command buffer, states that in input_stages/input_access, and copies
// the logits out with a transfer that only vkvision's exit barrier orders after their write.
TEST_F(EmbeddingTest, EntryAndExitBarriersOrderTheHostsOwnCommands) {
  Session inference = session(1);
  const std::vector<float> input = sample_batch(inference, 1);
  const std::vector<float> expected = inference.run(input);
  const VkDeviceSize input_bytes = input.size() * sizeof(float),
                     logit_bytes = expected.size() * sizeof(float);
  const VkBufferUsageFlags both = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  HostBuffer upload(context(), input_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
  HostBuffer in(context(), input_bytes, both), out(context(), logit_bytes, both);
  HostBuffer readback(context(), logit_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
  upload.write(input);
  HostCommands host(context());
  VkCommandBuffer commands = host.begin();
  const VkBufferCopy whole_input{0, 0, input_bytes}, whole_logits{0, 0, logit_bytes};
  vkCmdCopyBuffer(commands, upload.range().buffer, in.range().buffer, 1, &whole_input);
  inference.record(commands, {.input_buffer = in.range(),
                              .output_buffer = out.range(),
                              .input_stages = VK_PIPELINE_STAGE_TRANSFER_BIT,
                              .input_access = VK_ACCESS_TRANSFER_WRITE_BIT,
                              .output_stages = VK_PIPELINE_STAGE_TRANSFER_BIT,
                              .output_access = VK_ACCESS_TRANSFER_READ_BIT});
  vkCmdCopyBuffer(commands, out.range().buffer, readback.range().buffer, 1, &whole_logits);
  ASSERT_EQ(vkEndCommandBuffer(commands), VK_SUCCESS);
  host.submit_and_wait({commands});
  EXPECT_EQ(readback.read(expected.size()), expected);
}

// A secondary command buffer, executed from the host's primary one.
TEST_F(EmbeddingTest, RecordIntoASecondaryCommandBuffer) {
  Session inference = session(1);
  const std::vector<float> input = sample_batch(inference, 1);
  const std::vector<float> expected = inference.run(input);
  HostBuffer in(context(), input.size() * sizeof(float), kInputUsage);
  HostBuffer out(context(), expected.size() * sizeof(float), kOutputUsage);
  in.write(input);
  VkCommandPoolCreateInfo pool_info{.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .queueFamilyIndex = context().queue_family()};
  VkCommandPool pool;
  ASSERT_EQ(vkCreateCommandPool(context().device(), &pool_info, nullptr, &pool), VK_SUCCESS);
  VkCommandBufferAllocateInfo allocate{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_SECONDARY,
                                       .commandBufferCount = 1};
  VkCommandBuffer secondary;
  ASSERT_EQ(vkAllocateCommandBuffers(context().device(), &allocate, &secondary), VK_SUCCESS);
  VkCommandBufferInheritanceInfo inheritance{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO};
  VkCommandBufferBeginInfo begin{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .pInheritanceInfo = &inheritance};
  ASSERT_EQ(vkBeginCommandBuffer(secondary, &begin), VK_SUCCESS);
  inference.record(secondary, {.input_buffer = in.range(), .output_buffer = out.range()});
  ASSERT_EQ(vkEndCommandBuffer(secondary), VK_SUCCESS);
  HostCommands host(context());
  VkCommandBuffer primary = host.begin();
  vkCmdExecuteCommands(primary, 1, &secondary);
  ASSERT_EQ(vkEndCommandBuffer(primary), VK_SUCCESS);
  host.submit_and_wait({primary});
  EXPECT_EQ(out.read(expected.size()), expected);
  vkDestroyCommandPool(context().device(), pool, nullptr);
}

// Three frames recorded from one session into three command buffers and submitted together: the
// session's entry barrier orders each frame after the previous one's use of its activations.
TEST_F(EmbeddingTest, SeveralFramesOfOneSessionInOneSubmit) {
  Session inference = session(1);
  const std::vector<float> all = sample_batch(inference, 3);
  const size_t image = all.size() / 3;
  std::vector<std::unique_ptr<HostBuffer>> inputs, outputs;
  std::vector<VkCommandBuffer> frames;
  HostCommands host(context());
  for (size_t i = 0; i < 3; ++i) {
    inputs.push_back(std::make_unique<HostBuffer>(context(), image * sizeof(float), kInputUsage));
    outputs.push_back(std::make_unique<HostBuffer>(context(), 10 * sizeof(float), kOutputUsage));
    inputs[i]->write({all.begin() + i * image, all.begin() + (i + 1) * image});
    frames.push_back(host.begin());
    inference.record(frames[i], {.input_buffer = inputs[i]->range(), .output_buffer = outputs[i]->range()});
    ASSERT_EQ(vkEndCommandBuffer(frames[i]), VK_SUCCESS);
  }
  host.submit_and_wait(frames);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(outputs[i]->read(10), inference.run({all.begin() + i * image, all.begin() + (i + 1) * image}))
        << "frame " << i;
}

TEST_F(EmbeddingTest, SubmitSeveralInFlightThenWait) {
  Session inference = session(1);
  const std::vector<float> all = sample_batch(inference, 4);
  const size_t image = all.size() / 4;
  std::vector<std::unique_ptr<HostBuffer>> inputs, outputs;
  std::vector<Ticket> tickets;
  for (size_t i = 0; i < 4; ++i) {
    inputs.push_back(std::make_unique<HostBuffer>(context(), image * sizeof(float), kInputUsage));
    outputs.push_back(std::make_unique<HostBuffer>(context(), 10 * sizeof(float), kOutputUsage));
    inputs[i]->write({all.begin() + i * image, all.begin() + (i + 1) * image});
    tickets.push_back(
        inference.submit({.input_buffer = inputs[i]->range(), .output_buffer = outputs[i]->range()}));
  }
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(tickets[i].wait(std::chrono::seconds(60)));
    EXPECT_TRUE(tickets[i].ready());
  }
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(outputs[i]->read(10), inference.run({all.begin() + i * image, all.begin() + (i + 1) * image}))
        << "frame " << i;
  // Submitting the same bindings again reuses the recording, even while it is pending.
  tickets[0] = inference.submit({.input_buffer = inputs[0]->range(), .output_buffer = outputs[0]->range()});
  tickets[1] = inference.submit({.input_buffer = inputs[0]->range(), .output_buffer = outputs[0]->range()});
  tickets[2] = inference.submit({.input_buffer = inputs[0]->range(), .output_buffer = outputs[1]->range()});
  tickets[2].wait();
  EXPECT_TRUE(tickets[0].ready() && tickets[1].ready());  // the queue runs them in order
  EXPECT_EQ(outputs[1]->read(10), outputs[0]->read(10));
}

TEST_F(EmbeddingTest, SubmitWithTheSessionsOwnInputAndLogits) {
  Session inference = session(3);
  const std::vector<float> input = sample_batch(inference, 3);
  const std::vector<float> expected = inference.run(input);
  inference.write_input(input);
  Ticket ticket = inference.submit();
  EXPECT_EQ(inference.logits(), expected);  // waits for the ticket's work
  EXPECT_TRUE(ticket.ready());
  EXPECT_THROW(inference.write_input(std::vector<float>(3)), InputError);
}

TEST_F(EmbeddingTest, SubmitWaitsForAndSignalsHostSemaphores) {
  Session inference = session(1);
  const std::vector<float> input = sample_batch(inference, 1);
  const std::vector<float> expected = inference.run(input);
  VkSemaphoreCreateInfo info{.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  VkSemaphore before, after;
  ASSERT_EQ(vkCreateSemaphore(context().device(), &info, nullptr, &before), VK_SUCCESS);
  ASSERT_EQ(vkCreateSemaphore(context().device(), &info, nullptr, &after), VK_SUCCESS);
  HostBuffer in(context(), input.size() * sizeof(float), kInputUsage);
  HostBuffer out(context(), expected.size() * sizeof(float), kOutputUsage);
  in.write(input);
  HostCommands host(context());
  // The host's work signals `before`; vkvision waits for it and signals `after`, which the host's
  // next submit waits for.
  VkCommandBuffer first = host.begin();
  ASSERT_EQ(vkEndCommandBuffer(first), VK_SUCCESS);
  host.submit_and_wait({first}, VK_NULL_HANDLE, before);
  Ticket ticket = inference.submit({.input_buffer = in.range(), .output_buffer = out.range()},
                                   {.wait_semaphores = {before},
                                    .wait_stages = {VK_PIPELINE_STAGE_TRANSFER_BIT},
                                    .signal_semaphore = after});
  VkCommandBuffer last = host.begin();
  ASSERT_EQ(vkEndCommandBuffer(last), VK_SUCCESS);
  host.submit_and_wait({last}, after);
  EXPECT_TRUE(ticket.ready());
  EXPECT_EQ(out.read(expected.size()), expected);
  vkDestroySemaphore(context().device(), before, nullptr);
  vkDestroySemaphore(context().device(), after, nullptr);
}

TEST_F(EmbeddingTest, TicketOutlivesItsSession) {
  Ticket ticket;
  EXPECT_TRUE(ticket.ready());
  {
    Session inference = session(1);
    inference.write_input(sample_batch(inference, 1));
    ticket = inference.submit();
  }  // the session waits for its submission before it goes
  EXPECT_TRUE(ticket.ready());
  EXPECT_TRUE(ticket.wait(std::chrono::nanoseconds(0)));
}

TEST_F(EmbeddingTest, BindingsThatDoNotFitAreRefusedInOneLine) {
  Session inference = session(2);
  const VkDeviceSize input_bytes =
      inference.input_channels() * inference.input_size() * inference.input_size() * 2 * 4;
  HostBuffer in(context(), input_bytes, kInputUsage);
  HostBuffer out(context(), 20 * sizeof(float), kOutputUsage);
  HostBuffer wrong_usage(context(), input_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
  HostCommands host(context());
  VkCommandBuffer commands = host.begin();
  const auto message = [&](const Bindings& bindings) {
    try {
      inference.record(commands, bindings);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message({.input_buffer = in.range(4), .output_buffer = out.range()}),
            "Bindings::input_buffer: " + std::to_string(input_bytes - 4) + " bytes, the session needs " +
                std::to_string(input_bytes));
  EXPECT_EQ(message({.input_buffer = in.range(), .output_buffer = out.range(8)}),
            "Bindings::output_buffer: 72 bytes, the session needs 80");
  EXPECT_NE(message({.input_buffer = wrong_usage.range(), .output_buffer = out.range()})
                .find("lacks VK_BUFFER_USAGE_TRANSFER_SRC_BIT"),
            std::string::npos);
  EXPECT_NE(message({.input_buffer = in.range(), .output_buffer = in.range()})
                .find("lacks VK_BUFFER_USAGE_TRANSFER_DST_BIT"),
            std::string::npos);
  EXPECT_NE(message({.output_buffer = out.range()}).find("needs an input"), std::string::npos);
  EXPECT_NE(message({.input_buffer = in.range()}).find("Bindings::output_buffer"), std::string::npos);
  EXPECT_EQ(message({.input_images = {ImageInput{}}, .output_buffer = out.range()}),
            "Bindings::input_images: 1 images for a session of batch 2");
  ASSERT_EQ(vkEndCommandBuffer(commands), VK_SUCCESS);
}

}  // namespace
}  // namespace vkvision::testing
