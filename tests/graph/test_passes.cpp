// Each pass must keep the network's result: the list before and after it run on the device give
// the same logits, and the pass removed what it claims to.
#include <algorithm>

#include "graph/passes.h"
#include "graph/plan.h"
#include "random_layers.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using graph::LayerList;
using graph::OpKind;

class PassTestBase : public testing::DeviceTest {
 protected:
  std::vector<float> run_list(const LayerList& list, uint32_t batch, uint32_t size, const std::vector<float>& input) {
    graph::Plan plan(context_ptr(), pipelines(), list, batch, size, size);
    std::vector<float> output(plan.output_count());
    plan.run(input, output);
    return output;
  }

  static size_t count(const LayerList& list, OpKind op) {
    return std::count_if(list.layers.begin(), list.layers.end(), [op](const auto& l) { return l.op == op; });
  }

  void expect_same_result(const LayerList& before, const LayerList& after, uint32_t batch = 2, uint32_t size = 14) {
    const auto input = random_values(batch * before.input_channels * size * size, 7);
    const auto reference = run_list(before, batch, size, input);
    const auto rewritten = run_list(after, batch, size, input);
    // Folding changes only the order of fp32 roundings (a scale applied to the weights instead of to
    // the sum): relative differences of a few ulps per layer, amplified by LayerNorm's 1/std.
    EXPECT_LE(testing::worst_tolerance_ratio(rewritten, reference, 1e-4, 1e-4), 1.0);
  }
};

class PassTest : public PassTestBase {
 protected:
  LayerList network = testing::small_network(3, 24, 10, 42);
};

TEST_F(PassTest, BatchNormBecomesChannelAffineWithSameResult) {
  const LayerList after = graph::batchnorm_to_affine(network);
  EXPECT_EQ(count(after, OpKind::BatchNorm), 0u);
  EXPECT_EQ(count(after, OpKind::ChannelAffine), 2u);
  expect_same_result(network, after);
}

TEST_F(PassTest, AffineFoldsIntoConvAndLinearWithSameResult) {
  const LayerList converted = graph::batchnorm_to_affine(network);
  const LayerList after = graph::fold_affine_into_producer(converted);
  EXPECT_EQ(count(after, OpKind::ChannelAffine), 0u);
  EXPECT_EQ(after.layers.size(), converted.layers.size() - 2);
  expect_same_result(network, after);
}

TEST_F(PassTest, ActivationFusesIntoProducerWithSameResult) {
  const LayerList after = graph::fuse_activation(graph::batchnorm_to_affine(network));
  // The ReLU follows the BatchNorm (not a conv) until that is folded, so only the GELU fuses here.
  EXPECT_EQ(count(after, OpKind::Gelu), 0u);
  EXPECT_EQ(count(after, OpKind::Relu), 1u);
  expect_same_result(network, after);
}

TEST_F(PassTest, ResidualAddFusesIntoLinearWithSameResult) {
  const LayerList folded = graph::fold_affine_into_producer(graph::batchnorm_to_affine(network));
  const LayerList after = graph::fuse_residual_add(folded);
  EXPECT_EQ(count(after, OpKind::Add), 0u);
  auto fc2 = std::find_if(after.layers.begin(), after.layers.end(), [](const auto& l) { return l.name == "fc2"; });
  ASSERT_NE(fc2, after.layers.end());
  EXPECT_TRUE(fc2->residual);
  expect_same_result(network, after);
}

TEST_F(PassTest, OptimizeLeavesOnlyEssentialLayers) {
  const LayerList after = graph::optimize(network);
  // conv+bn+relu, dw, LN, fc1+gelu, fc2+gamma+residual, pool, LN, head.
  EXPECT_EQ(after.layers.size(), 8u);
  EXPECT_EQ(count(after, OpKind::BatchNorm) + count(after, OpKind::ChannelAffine) + count(after, OpKind::Gelu) +
                count(after, OpKind::Relu) + count(after, OpKind::Add),
            0u);
  expect_same_result(network, after);
}

TEST_F(PassTest, ResidualIsNotFusedWhenTheLinearOutputHasOtherReaders) {
  LayerList list = graph::fold_affine_into_producer(graph::batchnorm_to_affine(network));
  // A second reader of fc2's output: fusing the add would hide the pre-add value from it.
  auto fc2 = std::find_if(list.layers.begin(), list.layers.end(), [](const auto& l) { return l.name == "fc2"; });
  list.layers.push_back(graph::Layer{.op = OpKind::Add, .name = "extra", .inputs = {fc2->output, fc2->output}, .output = "extra"});
  const LayerList after = graph::fuse_residual_add(list);
  EXPECT_EQ(count(after, OpKind::Add), 2u);
}

}  // namespace
}  // namespace vkvision

namespace vkvision {
namespace {

class RepvggPassTest : public PassTestBase {};

TEST_F(RepvggPassTest, BranchesMergeIntoOneConvolutionPerBlockWithSameResult) {
  const graph::LayerList training = testing::small_repvgg(11);
  const graph::LayerList deployed = graph::optimize(training);
  // stem, then one 3x3 conv (+ReLU) per block, pool, head: no BatchNorm, Add or branch left.
  ASSERT_EQ(deployed.layers.size(), 6u);
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(deployed.layers[i].op, graph::OpKind::Conv2d);
    EXPECT_EQ(deployed.layers[i].kernel_h, 3u);
    EXPECT_EQ(deployed.layers[i].activation, ops::Activation::Relu);
  }
  EXPECT_EQ(deployed.layers[3].groups, 2u);
  expect_same_result(training, deployed, 2, 11);
}

}  // namespace
}  // namespace vkvision
