// A batch whose activations exceed what one binding can address runs as several submits of a
// smaller plan; each image's logits equal those of running it alone.
#include "exec/frame_recording.h"
#include "exec/plan.h"
#include "ir/passes.h"
#include "ir/sub_batch.h"
#include "random_layers.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

TEST(SubBatchSize, TakesAsManyImagesAsFitThenEvensOutTheSubmits) {
  // 32 images at 5 bytes each against a 128-byte limit: 25 fit, so 2 submits, of 16 each.
  EXPECT_EQ(ir::smaller_sub_batch(32, 32, 160, 128), 16u);
  // 10 images, 4 fit: 3 submits of 4 (the last padded by 2, fewer than one image per submit).
  EXPECT_EQ(ir::smaller_sub_batch(10, 10, 100, 45), 4u);
  EXPECT_EQ(ir::submit_count(10, 4), 3u);
}

TEST(SubBatchSize, AlwaysShrinksAndLeavesOneImageToBeMeasured) {
  // Rounding made `current` look as if it fits: still one fewer, so the search ends.
  EXPECT_EQ(ir::smaller_sub_batch(8, 4, 40, 1000), 3u);
  // Not even one image at the estimated size: 1, for a plan of one image to decide.
  EXPECT_EQ(ir::smaller_sub_batch(8, 8, 800, 50), 1u);
  EXPECT_EQ(ir::smaller_sub_batch(8, 1, 800, 50), 0u);
}

class SubBatchTest : public testing::DeviceTest, public ::testing::WithParamInterface<KernelFamily> {
 protected:
  ir::LayerList network() const { return ir::optimize(testing::small_network(3, 16, 5, 3)); }
  static constexpr uint32_t kSize = 10;
};

TEST_P(SubBatchTest, EveryImageOfASubBatchedRunMatchesItsRunAlone) {
  exec::Plan single(context_ptr(), pipelines(), network(), 1, kSize, kSize, GetParam());
  // Room for two images' largest tensor: 5 images run as 3 submits of 2, the last padded.
  const uint64_t limit = 2 * single.largest_binding_bytes();
  exec::Plan batched(context_ptr(), pipelines(), network(), 5, kSize, kSize, GetParam(), Precision::Fp32,
                     limit);
  EXPECT_EQ(batched.sub_batch(), 2u);
  EXPECT_LE(batched.largest_binding_bytes(), limit);
  EXPECT_EQ(batched.input_count(), 5 * single.input_count());

  const auto input = random_values(batched.input_count(), 7);
  std::vector<float> all(batched.output_count());
  batched.run(input, all);
  for (size_t image = 0; image < 5; ++image) {
    std::vector<float> alone(single.output_count());
    single.run(std::span<const float>(input).subspan(image * single.input_count(), single.input_count()),
               alone);
    // Bit-exact: a row's arithmetic does not depend on how many rows share its submit.
    for (size_t i = 0; i < alone.size(); ++i)
      EXPECT_EQ(all[image * alone.size() + i], alone[i]) << image << " " << i;
  }
}

// Session::record and submit go through the FrameRecorder, which records every sub-batch in turn
// into one command buffer: the same logits as run()'s several submits.
TEST_P(SubBatchTest, RecordingEverySubBatchInOneCommandBufferMatchesRun) {
  exec::Plan single(context_ptr(), pipelines(), network(), 1, kSize, kSize, GetParam());
  exec::Plan batched(context_ptr(), pipelines(), network(), 5, kSize, kSize, GetParam(), Precision::Fp32,
                     2 * single.largest_binding_bytes());
  ASSERT_EQ(batched.sub_batch(), 2u);
  const auto input = random_values(batched.input_count(), 11);
  std::vector<float> expected(batched.output_count()), recorded(batched.output_count());
  batched.run(input, expected);
  exec::FrameRecorder frames(context_ptr(), pipelines(), batched, io::PreprocessConfig{});
  frames.write_input(input);
  vk::CommandBuffer commands(context());
  commands.begin();
  frames.record(commands, {});
  commands.end();
  context().submit_and_wait(commands.handle());
  frames.read_logits(recorded);
  EXPECT_EQ(recorded, expected);
}

TEST_P(SubBatchTest, ProfileCoversEverySubmit) {
  exec::Plan single(context_ptr(), pipelines(), network(), 1, kSize, kSize, GetParam());
  exec::Plan batched(context_ptr(), pipelines(), network(), 4, kSize, kSize, GetParam(), Precision::Fp32,
                     2 * single.largest_binding_bytes());
  ASSERT_EQ(batched.sub_batch(), 2u);
  const auto batched_timings = batched.profile(random_values(batched.input_count(), 1));
  const auto single_timings = single.profile(random_values(single.input_count(), 1));
  ASSERT_EQ(batched_timings.size(), single_timings.size());
  // Two submits of two images: four images' work.
  for (size_t k = 0; k < single_timings.size(); ++k)
    EXPECT_NEAR(batched_timings[k].gflop, 4 * single_timings[k].gflop, 1e-9 * single_timings[k].gflop) << k;
}

TEST_P(SubBatchTest, OneImageOverTheLimitIsADeviceErrorNamingTheTensor) {
  exec::Plan single(context_ptr(), pipelines(), network(), 1, kSize, kSize, GetParam());
  try {
    exec::Plan(context_ptr(), pipelines(), network(), 3, kSize, kSize, GetParam(), Precision::Fp32,
               single.largest_binding_bytes() - 1);
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& error) {
    EXPECT_NE(std::string(error.what()).find("for one image"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("tensor '"), std::string::npos) << error.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Families, SubBatchTest,
                         ::testing::Values(KernelFamily::RegisterBlocked, KernelFamily::SharedTiled),
                         [](const auto& info) {
                           return info.param == KernelFamily::SharedTiled ? "tiled" : "register";
                         });

}  // namespace
}  // namespace vkvision
