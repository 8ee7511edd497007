#include "graph/passes.h"
#include "graph/plan.h"
#include "random_layers.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

class PlanTest : public testing::DeviceTest {};

TEST_F(PlanTest, ReplaysTheRecordedCommandBufferWithNewInputs) {
  const auto list = graph::optimize(testing::small_network(3, 16, 5, 3));
  graph::Plan plan(context_ptr(), pipelines(), list, 1, 10, 10, KernelFamily::RegisterBlocked);
  // One dispatch per layer, except that the depthwise conv and its LayerNorm share one where the
  // device has the fused kernel (register family). The GPU-class family folds both LayerNorms into
  // the GEMMs after them instead.
  EXPECT_EQ(plan.dispatch_count(), list.layers.size() - (device().texel_buffer_rgba32f ? 1 : 0));
  if (tiled_family_unsupported().empty()) {
    EXPECT_EQ(graph::Plan(context_ptr(), pipelines(), list, 1, 10, 10, KernelFamily::SharedTiled).dispatch_count(),
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
  const auto list = graph::optimize(testing::small_network(3, 16, 5, 3));
  graph::Plan single(context_ptr(), pipelines(), list, 1, 10, 10);
  graph::Plan batched(context_ptr(), pipelines(), list, 3, 10, 10);
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
  auto list = graph::optimize(testing::small_network(3, 16, 5, 3));
  std::vector<std::weak_ptr<const float>> host_values;
  for (const auto& layer : list.layers)
    for (const auto& [role, tensor] : layer.params) host_values.push_back(tensor.data);
  graph::Plan plan(context_ptr(), pipelines(), std::move(list), 1, 10, 10);
  for (const auto& values : host_values) EXPECT_TRUE(values.expired());
}

TEST_F(PlanTest, StreamsWeightsThroughStagingWhereMemoryIsNotMapped) {
  DeviceOptions options;
  options.validation = true;
  options.force_staging = true;
  auto staged_context = vk::Context::create(options);
  vk::PipelineCache staged_pipelines(staged_context);
  const auto list = graph::optimize(testing::small_network(3, 16, 5, 3));
  graph::Plan mapped(context_ptr(), pipelines(), list, 2, 10, 10);
  graph::Plan staged(staged_context, staged_pipelines, list, 2, 10, 10, mapped.kernel_choice().family);
  const auto input = random_values(mapped.input_count(), 3);
  std::vector<float> expected(mapped.output_count()), actual(staged.output_count());
  mapped.run(input, expected);
  staged.run(input, actual);
  EXPECT_EQ(actual, expected);  // the same bytes reach the device either way
  EXPECT_TRUE(staged_context->validation_messages().empty());
}

TEST_F(PlanTest, PlansOfOneWeightLayoutShareOneUpload) {
  const auto list = graph::optimize(testing::small_network(3, 16, 5, 3));
  graph::WeightCache cache;
  graph::Plan first(context_ptr(), pipelines(), list, 2, 10, 10, KernelFamily::RegisterBlocked, Precision::Fp32, 0, &cache);
  graph::Plan second(context_ptr(), pipelines(), list, 2, 10, 10, KernelFamily::RegisterBlocked, Precision::Fp32, 0, &cache);
  graph::Plan tiled(context_ptr(), pipelines(), list, 2, 10, 10, KernelFamily::SharedTiled, Precision::Fp32, 0, &cache);
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
  const auto list = graph::optimize(testing::small_network(3, 16, 5, 3));
  graph::Plan plan(context_ptr(), pipelines(), list, 1, 10, 10);
  const auto timings = plan.profile(random_values(plan.input_count(), 1));
  ASSERT_EQ(timings.size(), plan.dispatch_count());
  for (const auto& t : timings) EXPECT_GE(t.milliseconds, 0.0) << t.name;
}

TEST_F(PlanTest, MismatchedInputSizeIsAnInputError) {
  const auto list = graph::optimize(testing::small_network(3, 16, 5, 3));
  graph::Plan plan(context_ptr(), pipelines(), list, 1, 10, 10);
  std::vector<float> wrong(plan.input_count() + 1), output(plan.output_count());
  EXPECT_THROW(plan.run(wrong, output), InputError);
}

}  // namespace
}  // namespace vkvision
