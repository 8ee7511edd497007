#include <cmath>
#include <filesystem>
#include <fstream>

#include "exec/plan.h"
#include "ir/passes.h"
#include "random_layers.h"
#include "support/device_test.h"
#include "support/scoped_profile.h"
#include "support/test_directory.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

class PlanTest : public testing::DeviceTest {};

TEST_F(PlanTest, ReplaysTheRecordedCommandBufferWithNewInputs) {
  const auto list = ir::optimize(testing::small_network(3, 16, 5, 3));
  exec::Plan plan(context_ptr(), pipelines(), list, 1, 10, 10, KernelFamily::RegisterBlocked);
  // One dispatch per layer, except that the depthwise conv and its LayerNorm share one where the
  // device has the fused kernel (register family). The GPU-class family folds both LayerNorms into
  // the GEMMs after them instead.
  EXPECT_EQ(plan.dispatch_count(), list.layers.size() - (device().texel_buffer_rgba32f ? 1 : 0));
  if (tiled_family_unsupported().empty()) {
    EXPECT_EQ(
        exec::Plan(context_ptr(), pipelines(), list, 1, 10, 10, KernelFamily::SharedTiled).dispatch_count(),
        list.layers.size() - 2);
  }
  std::vector<float> first(plan.output_count()), second(plan.output_count()), again(plan.output_count());
  const auto a = random_values(plan.input_count(), 1), b = random_values(plan.input_count(), 2);
  plan.run(a, first);
  plan.run(b, second);
  plan.run(a, again);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, second);
}

TEST_F(PlanTest, BatchRowsAreIndependent) {
  const auto list = ir::optimize(testing::small_network(3, 16, 5, 3));
  exec::Plan single(context_ptr(), pipelines(), list, 1, 10, 10);
  exec::Plan batched(context_ptr(), pipelines(), list, 3, 10, 10);
  const auto input = random_values(batched.input_count(), 5);
  std::vector<float> all(batched.output_count());
  batched.run(input, all);
  for (int row = 0; row < 3; ++row) {
    std::vector<float> one(single.output_count());
    single.run(std::span<const float>(input).subspan(row * single.input_count(), single.input_count()), one);
    for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(all[row * one.size() + i], one[i], 1e-5);
  }
}

TEST_F(PlanTest, LetsGoOfTheHostWeightsOnceUploaded) {
  auto list = ir::optimize(testing::small_network(3, 16, 5, 3));
  std::vector<std::weak_ptr<const float>> host_values;
  for (const auto& layer : list.layers)
    for (const auto& [role, tensor] : layer.params) host_values.push_back(tensor.data);
  exec::Plan plan(context_ptr(), pipelines(), std::move(list), 1, 10, 10);
  for (const auto& values : host_values) EXPECT_TRUE(values.expired());
}

TEST_F(PlanTest, StreamsWeightsThroughStagingWhereMemoryIsNotMapped) {
  DeviceOptions options;
  options.validation = true;
  options.force_staging = true;
  auto staged_context = vk::Context::create(options);
  vk::PipelineCache staged_pipelines(staged_context);
  const auto list = ir::optimize(testing::small_network(3, 16, 5, 3));
  exec::Plan mapped(context_ptr(), pipelines(), list, 2, 10, 10);
  exec::Plan staged(staged_context, staged_pipelines, list, 2, 10, 10, mapped.kernel_choice().family);
  const auto input = random_values(mapped.input_count(), 3);
  std::vector<float> expected(mapped.output_count()), actual(staged.output_count());
  mapped.run(input, expected);
  staged.run(input, actual);
  EXPECT_EQ(actual, expected);  // the same bytes reach the device either way
  EXPECT_TRUE(staged_context->validation_messages().empty());
}

// A device whose allocations and buffers hold at most 512 KiB (the spec allows 1 GiB; real drivers
// report 1-4 GiB): weights spread over several arenas, activations run in sub-batches that fit one,
// and the logits are the bytes one arena gives.
TEST_F(PlanTest, WeightsAndActivationsOverTheAllocationLimitAreSplitWithSameResult) {
  const auto list = ir::optimize(testing::small_network(3, 128, 5, 3));  // fc1, fc2: 256 KiB each
  testing::TestDirectory directory("plan");
  std::filesystem::create_directories(directory.path());
  const std::filesystem::path path = directory.path() / "small_allocations.json";
  std::ofstream(path) << R"({"description": "512 KiB allocations and buffers", "modelled_on": "test only",
                             "properties": {"maxMemoryAllocationSize": "512 KiB",
                                            "maxBufferSize": "512 KiB"}})";
  DeviceOptions options;
  options.validation = true;
  // Both plans on the real device, whatever profile the suite runs under: only the limit differs.
  std::shared_ptr<vk::Context> real_context, limited_context;
  {
    testing::ScopedProfile no_profile("");
    real_context = vk::Context::create(options);
  }
  {
    testing::ScopedProfile profile(path.string());
    limited_context = vk::Context::create(options);
  }
  vk::PipelineCache real_pipelines(real_context), limited_pipelines(limited_context);
  ASSERT_EQ(vk::max_arena_bytes(limited_context->info()), 512u << 10);
  // One image: only the weights are split, and the logits are the same bytes.
  {
    exec::Plan whole(real_context, real_pipelines, list, 1, 14, 14, KernelFamily::RegisterBlocked);
    exec::Plan split(limited_context, limited_pipelines, list, 1, 14, 14, KernelFamily::RegisterBlocked);
    EXPECT_EQ(whole.weights().arenas.size(), 1u);
    EXPECT_GE(split.weights().arenas.size(), 2u);
    for (const auto& arena : split.weights().arenas) EXPECT_LE(arena->size(), 512u << 10);
    EXPECT_EQ(split.sub_batch(), 1u);
    const auto input = random_values(whole.input_count(), 5);
    std::vector<float> expected(whole.output_count()), actual(split.output_count());
    whole.run(input, expected);
    split.run(input, actual);
    EXPECT_EQ(actual, expected);
  }
  // Eight images: the activations need sub-batches. The depthwise + LayerNorm kernel splits its
  // channel sums by how many tiles the dispatch has (ops::depthwise_layer_norm_tiling), which the
  // sub-batch changes, so the statistics are summed in another order: each such reordered sum of
  // 128 terms moves by at most 127 * 2^-24 of its magnitude (7.6e-6), and LayerNorm and the two
  // GEMMs carry that relative change to the logits; 2e-5 relative (plus 2e-5 absolute for logits
  // near zero) is 2.6x that change (the largest difference measured was 1.9e-6 on logits of about 3)
  // and far below any real error (a lost or doubled image).
  constexpr uint32_t kBatch = 8;
  exec::Plan whole(real_context, real_pipelines, list, kBatch, 14, 14, KernelFamily::RegisterBlocked);
  exec::Plan split(limited_context, limited_pipelines, list, kBatch, 14, 14, KernelFamily::RegisterBlocked);
  EXPECT_EQ(whole.sub_batch(), kBatch);
  EXPECT_LT(split.sub_batch(), kBatch);
  EXPECT_LE(split.activation_bytes(), 512u << 10);
  const auto input = random_values(whole.input_count(), 6);
  std::vector<float> expected(whole.output_count()), actual(split.output_count());
  whole.run(input, expected);
  split.run(input, actual);
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i], 2e-5 + 2e-5 * std::abs(expected[i])) << "logit " << i;
  for (const auto& context : {real_context, limited_context})
    for (const std::string& message : context->validation_messages())
      ADD_FAILURE() << "validation: " << message;
}

TEST_F(PlanTest, PlansOfOneWeightLayoutShareOneUpload) {
  const auto list = ir::optimize(testing::small_network(3, 16, 5, 3));
  exec::WeightCache cache;
  exec::Plan first(context_ptr(), pipelines(), list, 2, 10, 10, KernelFamily::RegisterBlocked,
                   Precision::Fp32, 0, &cache);
  exec::Plan second(context_ptr(), pipelines(), list, 2, 10, 10, KernelFamily::RegisterBlocked,
                    Precision::Fp32, 0, &cache);
  exec::Plan tiled(context_ptr(), pipelines(), list, 2, 10, 10, KernelFamily::SharedTiled, Precision::Fp32, 0,
                   &cache);
  EXPECT_EQ(&first.weights(), &second.weights());
  if (tiled_family_unsupported().empty()) {
    EXPECT_NE(&first.weights(), &tiled.weights());  // other fusions, other packed weights
  } else {
    EXPECT_EQ(&first.weights(), &tiled.weights());  // tiled fell back to the register family
  }
  const auto input = random_values(first.input_count(), 4);
  std::vector<float> expected(first.output_count()), actual(second.output_count());
  first.run(input, expected);
  second.run(input, actual);
  EXPECT_EQ(actual, expected);
}

TEST_F(PlanTest, ProfileReportsEveryLayer) {
  const auto list = ir::optimize(testing::small_network(3, 16, 5, 3));
  exec::Plan plan(context_ptr(), pipelines(), list, 1, 10, 10);
  const auto timings = plan.profile(random_values(plan.input_count(), 1));
  ASSERT_EQ(timings.size(), plan.dispatch_count());
  for (const auto& t : timings) EXPECT_GE(t.milliseconds, 0.0) << t.name;
}

TEST_F(PlanTest, MismatchedInputSizeIsAnInputError) {
  const auto list = ir::optimize(testing::small_network(3, 16, 5, 3));
  exec::Plan plan(context_ptr(), pipelines(), list, 1, 10, 10);
  std::vector<float> wrong(plan.input_count() + 1), output(plan.output_count());
  EXPECT_THROW(plan.run(wrong, output), InputError);
}

}  // namespace
}  // namespace vkvision
