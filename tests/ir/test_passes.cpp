// Each pass must keep the network's result: the list before and after it run on the device give
// the same logits, and the pass removed what it claims to.
#include <algorithm>
#include <random>
#include <stdexcept>

#include "exec/plan.h"
#include "ir/passes.h"
#include "random_layers.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using ir::LayerList;
using ir::OpKind;

class PassTestBase : public testing::DeviceTest {
 protected:
  std::vector<float> run_list(const LayerList& list, uint32_t batch, uint32_t size,
                              const std::vector<float>& input, KernelFamily kernels = KernelFamily::Auto) {
    exec::Plan plan(context_ptr(), pipelines(), list, batch, size, size, kernels);
    std::vector<float> output(plan.output_count());
    plan.run(input, output);
    return output;
  }

  static size_t count(const LayerList& list, OpKind op) {
    return std::count_if(list.layers.begin(), list.layers.end(), [op](const auto& l) { return l.op == op; });
  }

  void expect_same_result(const LayerList& before, const LayerList& after, uint32_t batch = 2,
                          uint32_t size = 14, KernelFamily after_kernels = KernelFamily::Auto) {
    const auto input = random_values(batch * before.input_channels * size * size, 7);
    const auto reference = run_list(before, batch, size, input);
    const auto rewritten = run_list(after, batch, size, input, after_kernels);
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
  const LayerList after = ir::batchnorm_to_affine(network);
  EXPECT_EQ(count(after, OpKind::BatchNorm), 0u);
  EXPECT_EQ(count(after, OpKind::ChannelAffine), 2u);
  expect_same_result(network, after);
}

TEST_F(PassTest, AffineFoldsIntoConvAndLinearWithSameResult) {
  const LayerList converted = ir::batchnorm_to_affine(network);
  const LayerList after = ir::fold_affine_into_producer(converted);
  EXPECT_EQ(count(after, OpKind::ChannelAffine), 0u);
  EXPECT_EQ(after.layers.size(), converted.layers.size() - 2);
  expect_same_result(network, after);
}

TEST_F(PassTest, ActivationFusesIntoProducerWithSameResult) {
  const LayerList after = ir::fuse_activation(ir::batchnorm_to_affine(network));
  // The ReLU follows the BatchNorm (not a conv) until that is folded, so only the GELU fuses here.
  EXPECT_EQ(count(after, OpKind::Gelu), 0u);
  EXPECT_EQ(count(after, OpKind::Relu), 1u);
  expect_same_result(network, after);
}

TEST_F(PassTest, ResidualAddFusesIntoLinearWithSameResult) {
  const LayerList folded = ir::fold_affine_into_producer(ir::batchnorm_to_affine(network));
  const LayerList after = ir::fuse_residual_add(folded);
  EXPECT_EQ(count(after, OpKind::Add), 0u);
  auto fc2 =
      std::find_if(after.layers.begin(), after.layers.end(), [](const auto& l) { return l.name == "fc2"; });
  ASSERT_NE(fc2, after.layers.end());
  EXPECT_TRUE(fc2->residual);
  expect_same_result(network, after);
}

TEST_F(PassTest, OptimizeLeavesOnlyEssentialLayers) {
  const LayerList after = ir::optimize(network);
  // conv+bn+relu, dw, LN, fc1+gelu, fc2+gamma+residual, pool, LN, head.
  EXPECT_EQ(after.layers.size(), 8u);
  EXPECT_EQ(count(after, OpKind::BatchNorm) + count(after, OpKind::ChannelAffine) +
                count(after, OpKind::Gelu) + count(after, OpKind::Relu) + count(after, OpKind::Add),
            0u);
  expect_same_result(network, after);
}

// Run with the tiled family, whose GEMM normalises rows (the register family refuses, and its plans
// never apply this pass); the reference keeps both LayerNorms.
TEST_F(PassTest, LayerNormFoldsIntoTheLinearAfterItWithSameResult) {
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  const LayerList optimized = ir::optimize(network);
  const LayerList after = ir::fold_layer_norm_into_linear(optimized);
  EXPECT_EQ(count(after, OpKind::LayerNorm), 0u);  // norm -> fc1 and head.norm -> head.fc
  EXPECT_EQ(std::count_if(after.layers.begin(), after.layers.end(),
                          [](const auto& l) { return l.normalize_input; }),
            2);
  expect_same_result(optimized, after, 2, 14, KernelFamily::SharedTiled);
}

TEST_F(PassTest, DepthwiseLeavesItsLayerNormToTheLinearThatReadsIt) {
  const LayerList fused =
      ir::fuse_depthwise_layer_norm(ir::optimize(network), [](const ir::Layer&) { return true; });
  const LayerList after = ir::defer_layer_norm_to_linear(fused);
  // Returns a reference into `after`: a copy would leave `gamma` below pointing into a destroyed temporary.
  auto find = [&](const std::string& name) -> const ir::Layer& {
    auto it =
        std::find_if(after.layers.begin(), after.layers.end(), [&](const auto& l) { return l.name == name; });
    if (it == after.layers.end()) throw std::runtime_error("no layer named " + name);
    return *it;
  };
  EXPECT_TRUE(find("dw+norm").emits_statistics);
  EXPECT_TRUE(find("fc1").normalize_input && find("fc1").input_statistics);
  // The norm's affine moved into fc1: weight columns scaled by gamma.
  const auto& gamma = find("dw+norm").param("norm_weight");
  const auto& original = fused.layers[std::distance(
      fused.layers.begin(),
      std::find_if(fused.layers.begin(), fused.layers.end(), [](const auto& l) { return l.name == "fc1"; }))];
  EXPECT_FLOAT_EQ(find("fc1").param("weight").values()[5],
                  original.param("weight").values()[5] * gamma.values()[5]);
  // The register-family plan does this itself: the same list through it gives the same logits as
  // the reference list run with the GPU-class family (which keeps the norm in the GEMM's own pass).
  expect_same_result(ir::optimize(network), ir::optimize(network), 2, 14, KernelFamily::SharedTiled);
}

TEST_F(PassTest, LayerNormWithASecondReaderStays) {
  LayerList list = ir::optimize(network);
  auto norm =
      std::find_if(list.layers.begin(), list.layers.end(), [](const auto& l) { return l.name == "norm"; });
  ASSERT_NE(norm, list.layers.end());
  list.layers.push_back(ir::Layer{
      .op = OpKind::Add, .name = "extra", .inputs = {norm->output, norm->output}, .output = "extra"});
  const LayerList after = ir::fold_layer_norm_into_linear(list);
  EXPECT_EQ(count(after, OpKind::LayerNorm), 1u);  // only the head's
}

// stem conv 1x1 -> Swin PatchMerging (2x2 gather, LayerNorm over 4C, reduction) -> pool -> head.
LayerList patch_merging_network(int64_t dim, uint32_t seed) {
  std::mt19937 g(seed);
  using ir::Layer;
  LayerList list;
  Layer stem{.op = OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "a"};
  stem.params = {{"weight", testing::random_tensor({dim, 3, 1, 1}, g)},
                 {"bias", testing::random_tensor({dim}, g)}};
  stem.input_nchw = true;
  Layer gather{.op = OpKind::PatchMergeGather, .name = "merge.gather", .inputs = {"a"}, .output = "b"};
  Layer norm{.op = OpKind::LayerNorm, .name = "merge.norm", .inputs = {"b"}, .output = "c"};
  norm.params = {{"weight", testing::random_tensor({4 * dim}, g, 0.5f, 1.5f)},
                 {"bias", testing::random_tensor({4 * dim}, g)}};
  Layer reduction{.op = OpKind::Linear, .name = "merge.reduction", .inputs = {"c"}, .output = "d"};
  reduction.params = {{"weight", testing::random_tensor({2 * dim, 4 * dim}, g)}};
  Layer pool{.op = OpKind::MeanPool, .name = "pool", .inputs = {"d"}, .output = "e"};
  Layer head{.op = OpKind::Linear, .name = "head", .inputs = {"e"}, .output = "logits"};
  head.params = {{"weight", testing::random_tensor({10, 2 * dim}, g)},
                 {"bias", testing::random_tensor({10}, g)}};
  list.layers = {stem, gather, norm, reduction, pool, head};
  list.output = "logits";
  return list;
}

TEST_F(PassTest, PatchGatherMovesIntoItsLayerNormWithSameResult) {
  const LayerList network = patch_merging_network(12, 44);
  const LayerList after = ir::absorb_patch_gather_into_layer_norm(network);
  EXPECT_EQ(count(after, OpKind::PatchMergeGather), 0u);
  ASSERT_EQ(after.layers.size(), network.layers.size() - 1);
  EXPECT_TRUE(after.layers[1].gather_patches);
  EXPECT_EQ(after.layers[1].inputs[0], "a");
  // optimize() applies it; 13x13 is odd, so the norm reads padding zeros. Both families run the
  // gathering norm (the tiled one must not fold it into its GEMM).
  EXPECT_EQ(count(ir::optimize(network), OpKind::PatchMergeGather), 0u);
  expect_same_result(network, after, 2, 13);
  expect_same_result(network, after, 2, 13, KernelFamily::SharedTiled);
}

TEST_F(PassTest, PatchGatherAndTheLinearReadingItBecomeOneConvolutionWithSameResult) {
  // Swin v2's order: the reduction reads the gather directly (its norm comes after).
  LayerList network = patch_merging_network(12, 46);
  network.layers.erase(network.layers.begin() + 2);  // the norm
  network.layers[2].inputs[0] = "b";
  const LayerList after = ir::fold_patch_gather_into_linear(network);
  EXPECT_EQ(count(after, OpKind::PatchMergeGather), 0u);
  ASSERT_EQ(after.layers.size(), network.layers.size() - 1);
  EXPECT_EQ(after.layers[1].op, OpKind::Conv2d);
  EXPECT_TRUE(after.layers[1].ceil_mode);
  EXPECT_EQ(count(ir::optimize(network), OpKind::PatchMergeGather), 0u);
  // 13x13: the last row and column of 2x2 windows read padding zeros.
  expect_same_result(network, after, 2, 13);
  expect_same_result(network, after, 2, 13, KernelFamily::SharedTiled);
}

TEST_F(PassTest, PatchGatherWithASecondReaderStays) {
  LayerList network = patch_merging_network(8, 45);
  network.layers.push_back(
      ir::Layer{.op = OpKind::Add, .name = "extra", .inputs = {"b", "b"}, .output = "extra"});
  EXPECT_EQ(count(ir::absorb_patch_gather_into_layer_norm(network), OpKind::PatchMergeGather), 1u);
  EXPECT_EQ(count(ir::optimize(network), OpKind::PatchMergeGather), 1u);
}

TEST_F(PassTest, ResidualIsNotFusedWhenTheLinearOutputHasOtherReaders) {
  LayerList list = ir::fold_affine_into_producer(ir::batchnorm_to_affine(network));
  // A second reader of fc2's output: fusing the add would hide the pre-add value from it.
  auto fc2 =
      std::find_if(list.layers.begin(), list.layers.end(), [](const auto& l) { return l.name == "fc2"; });
  list.layers.push_back(
      ir::Layer{.op = OpKind::Add, .name = "extra", .inputs = {fc2->output, fc2->output}, .output = "extra"});
  const LayerList after = ir::fuse_residual_add(list);
  EXPECT_EQ(count(after, OpKind::Add), 2u);
}

}  // namespace
}  // namespace vkvision

namespace vkvision {
namespace {

class RepvggPassTest : public PassTestBase {};

TEST_F(RepvggPassTest, BranchesMergeIntoOneConvolutionPerBlockWithSameResult) {
  const ir::LayerList training = testing::small_repvgg(11);
  const ir::LayerList deployed = ir::optimize(training);
  // stem, then one 3x3 conv (+ReLU) per block, pool, head: no BatchNorm, Add or branch left.
  ASSERT_EQ(deployed.layers.size(), 6u);
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(deployed.layers[i].op, ir::OpKind::Conv2d);
    EXPECT_EQ(deployed.layers[i].kernel_h, 3u);
    EXPECT_EQ(deployed.layers[i].activation, ops::Activation::Relu);
  }
  EXPECT_EQ(deployed.layers[3].groups, 2u);
  expect_same_result(training, deployed, 2, 11);
}

}  // namespace
}  // namespace vkvision

namespace vkvision {
namespace {

// BatchNorms whose producer has no weights (after a ReLU), each before a different kind of reader:
// a Linear, an unpadded 2x2/s2 conv, a grouped 1x1 conv (all foldable), and a padded 3x3 conv
// (not: its padded taps read 0, which the BatchNorm would have mapped to its shift).
ir::LayerList batchnorms_before_readers(uint32_t seed) {
  using ir::Layer;
  std::mt19937 g(seed);
  ir::LayerList list;
  list.input_channels = 3;
  auto conv = [&](const std::string& name, const std::string& input, int64_t in, int64_t out, uint32_t kernel,
                  uint32_t stride, uint32_t pad, uint32_t groups) {
    Layer layer{.op = OpKind::Conv2d, .name = name, .inputs = {input}, .output = name};
    layer.params = {{"weight", testing::random_tensor({out, in / groups, kernel, kernel}, g)},
                    {"bias", testing::random_tensor({out}, g)}};
    layer.kernel_h = layer.kernel_w = kernel;
    layer.stride_h = layer.stride_w = stride;
    layer.pad_h = layer.pad_w = pad;
    layer.groups = groups;
    layer.input_nchw = input == list.input;
    list.layers.push_back(layer);
  };
  auto relu_then_bn = [&](const std::string& name, const std::string& input, int64_t channels) {
    list.layers.push_back(
        Layer{.op = OpKind::Relu, .name = name + ".relu", .inputs = {input}, .output = name + ".relu"});
    Layer bn{.op = OpKind::BatchNorm, .name = name, .inputs = {name + ".relu"}, .output = name};
    bn.params = {{"weight", testing::random_tensor({channels}, g, 0.5f, 1.5f)},
                 {"bias", testing::random_tensor({channels}, g)},
                 {"running_mean", testing::random_tensor({channels}, g)},
                 {"running_var", testing::random_tensor({channels}, g, 0.5f, 2.0f)}};
    list.layers.push_back(bn);
  };
  conv("stem", list.input, 3, 12, 2, 2, 0, 1);
  relu_then_bn("bn_linear", "stem", 12);
  Layer fc{.op = OpKind::Linear, .name = "fc", .inputs = {"bn_linear"}, .output = "fc"};
  fc.params = {{"weight", testing::random_tensor({16, 12}, g)}, {"bias", testing::random_tensor({16}, g)}};
  list.layers.push_back(fc);
  relu_then_bn("bn_down", "fc", 16);
  conv("down", "bn_down", 16, 24, 2, 2, 0, 1);
  relu_then_bn("bn_padded", "down", 24);
  conv("padded", "bn_padded", 24, 24, 3, 1, 1, 1);
  relu_then_bn("bn_grouped", "padded", 24);
  conv("grouped", "bn_grouped", 24, 16, 1, 1, 0, 2);
  list.layers.push_back(
      Layer{.op = OpKind::MeanPool, .name = "pool", .inputs = {"grouped"}, .output = "pool"});
  Layer head{.op = OpKind::Linear, .name = "head", .inputs = {"pool"}, .output = "logits"};
  head.params = {{"weight", testing::random_tensor({5, 16}, g)}, {"bias", testing::random_tensor({5}, g)}};
  list.layers.push_back(head);
  list.output = "logits";
  return list;
}

class FoldIntoConsumerTest : public PassTestBase {};

TEST_F(FoldIntoConsumerTest, BatchNormFoldsIntoTheUnpaddedLayerAfterItWithSameResult) {
  const LayerList network = batchnorms_before_readers(5);
  const LayerList converted = ir::batchnorm_to_affine(network);
  // A ReLU has no weights to take the BatchNorm: the producer fold leaves all four.
  ASSERT_EQ(count(ir::fold_affine_into_producer(converted), OpKind::ChannelAffine), 4u);
  const LayerList after = ir::fold_affine_into_consumer(converted);
  ASSERT_EQ(count(after, OpKind::ChannelAffine), 1u);
  auto padded = std::find_if(after.layers.begin(), after.layers.end(),
                             [](const auto& l) { return l.name == "padded"; });
  ASSERT_NE(padded, after.layers.end());
  EXPECT_EQ(padded->inputs[0], "bn_padded");
  expect_same_result(network, after, 2, 14);
}

TEST_F(FoldIntoConsumerTest, AffineWithASecondReaderStays) {
  LayerList list = ir::batchnorm_to_affine(batchnorms_before_readers(6));
  // bn_down's output also read by an Add: folding it into `down` would change what the Add sees.
  list.layers.push_back(
      ir::Layer{.op = OpKind::Add, .name = "extra", .inputs = {"bn_down", "bn_down"}, .output = "extra"});
  const LayerList after = ir::fold_affine_into_consumer(list);
  EXPECT_EQ(count(after, OpKind::ChannelAffine), 2u);
}

}  // namespace
}  // namespace vkvision
