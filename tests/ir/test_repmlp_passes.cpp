// The RepMLP passes keep the network's result: a training-time RepMLPNet unit with random weights
// and random BatchNorm statistics (every fold matters) runs before and after each pass, on a map of
// several patches with more than one channel per shareset.
#include <algorithm>

#include "exec/plan.h"
#include "ir/passes.h"
#include "random_layers.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using ir::Layer;
using ir::LayerList;
using ir::OpKind;

constexpr int64_t kChannels = 12, kSharesets = 4, kPatch = 3;  // 3 channel groups of 4 sharesets
constexpr uint32_t kSize = 12;                                 // input 12x12 -> 6x6 map, 2x2 patches of 3x3

// stem conv 2x2/s2 from the NCHW input -> one training-time RepMLPNet unit (as src/models/repmlpnet.cpp
// builds it: prebn1, global perceptron, fc3 + fc3_bn, repconv1 and repconv3 + BN, gate, residual;
// prebn2, FFN 1x1 conv + BN, GELU, 1x1 conv + BN, residual) -> head_norm -> pool -> head.
LayerList repmlp_unit(uint32_t seed) {
  std::mt19937 g(seed);
  using testing::random_tensor;
  LayerList list;
  list.input_channels = 3;
  auto push = [&](Layer layer) {
    list.layers.push_back(std::move(layer));
    return list.layers.back().output;
  };
  // A BatchNorm over `channels` tiled to `tiled` channels as c % channels (fc3_bn, repconv BNs).
  auto batch_norm = [&](const std::string& name, const std::string& input, int64_t channels,
                        int64_t tiled = 0) {
    Layer bn{.op = OpKind::BatchNorm, .name = name, .inputs = {input}, .output = name};
    for (const char* role : {"weight", "bias", "running_mean", "running_var"}) {
      const float low = role == std::string("running_var") ? 0.5f
                        : role == std::string("weight")    ? 0.5f
                                                           : -0.5f;
      ir::HostTensor t = random_tensor({channels}, g, low, low + 1.5f);
      if (tiled) {
        std::vector<float> values(tiled);
        for (int64_t c = 0; c < tiled; ++c) values[c] = t.values()[c % channels];
        t = ir::HostTensor::from({tiled}, std::move(values));
      }
      bn.params[role] = t;
    }
    return push(bn);
  };
  auto linear = [&](const std::string& name, const std::string& input, int64_t in, int64_t out, bool bias,
                    ops::Activation activation = ops::Activation::None) {
    Layer layer{.op = OpKind::Linear, .name = name, .inputs = {input}, .output = name};
    layer.params["weight"] = random_tensor({out, in, 1, 1}, g);
    if (bias) layer.params["bias"] = random_tensor({out}, g);
    layer.activation = activation;
    return push(layer);
  };
  Layer stem{.op = OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "stem"};
  stem.params = {{"weight", random_tensor({kChannels, 3, 2, 2}, g)}, {"bias", random_tensor({kChannels}, g)}};
  stem.kernel_h = stem.kernel_w = stem.stride_h = stem.stride_w = 2;
  stem.input_nchw = true;
  const std::string x = push(stem);
  const std::string normed = batch_norm("prebn1", x, kChannels);
  const std::string pooled =
      push(Layer{.op = OpKind::MeanPool, .name = "gp.pool", .inputs = {normed}, .output = "gp.pool"});
  const std::string hidden = linear("gp.fc1", pooled, kChannels, kChannels / 4, true, ops::Activation::Relu);
  const std::string gate = linear("gp.fc2", hidden, kChannels / 4, kChannels, true, ops::Activation::Sigmoid);
  const int64_t hw = kPatch * kPatch;
  Layer fc{.op = OpKind::PartitionLinear, .name = "fc3", .inputs = {normed}, .output = "fc3"};
  fc.params["weight"] = random_tensor({kSharesets * hw, hw}, g);
  fc.partition_h = fc.partition_w = kPatch;
  fc.groups = kSharesets;
  std::string mixed = batch_norm("fc3_bn", push(fc), kSharesets, kChannels);
  for (uint32_t k : {1u, 3u}) {
    const std::string name = "repconv" + std::to_string(k);
    Layer conv{.op = OpKind::PartitionConv, .name = name, .inputs = {normed}, .output = name};
    conv.params["weight"] = random_tensor({kSharesets, 1, k, k}, g);
    conv.kernel_h = conv.kernel_w = k;
    conv.pad_h = conv.pad_w = k / 2;
    conv.partition_h = conv.partition_w = kPatch;
    conv.groups = kSharesets;
    const std::string branch = batch_norm(name + ".bn", push(conv), kSharesets, kChannels);
    mixed = push(
        Layer{.op = OpKind::Add, .name = name + ".sum", .inputs = {mixed, branch}, .output = name + ".sum"});
  }
  const std::string gated =
      push(Layer{.op = OpKind::ChannelGate, .name = "gate", .inputs = {mixed, gate}, .output = "gate"});
  const std::string y =
      push(Layer{.op = OpKind::Add, .name = "residual1", .inputs = {x, gated}, .output = "y"});
  const std::string up = batch_norm(
      "ffn_fc1.bn", linear("ffn_fc1", batch_norm("prebn2", y, kChannels), kChannels, 4 * kChannels, false),
      4 * kChannels);
  const std::string act = push(Layer{.op = OpKind::Gelu, .name = "act", .inputs = {up}, .output = "act"});
  const std::string down =
      batch_norm("ffn_fc2.bn", linear("ffn_fc2", act, 4 * kChannels, kChannels, false), kChannels);
  const std::string z =
      push(Layer{.op = OpKind::Add, .name = "residual2", .inputs = {y, down}, .output = "z"});
  const std::string head_pool = push(Layer{.op = OpKind::MeanPool,
                                           .name = "pool",
                                           .inputs = {batch_norm("head_norm", z, kChannels)},
                                           .output = "pool"});
  Layer head{.op = OpKind::Linear, .name = "head", .inputs = {head_pool}, .output = "logits"};
  head.params = {{"weight", random_tensor({5, kChannels}, g)}, {"bias", random_tensor({5}, g)}};
  push(head);
  list.output = "logits";
  return list;
}

class RepmlpPassTest : public testing::DeviceTest {
 protected:
  LayerList unit = repmlp_unit(77);

  std::vector<float> run_list(const LayerList& list, const std::vector<float>& input) {
    exec::Plan plan(context_ptr(), pipelines(), list, 2, kSize, kSize);
    std::vector<float> output(plan.output_count());
    plan.run(input, output);
    return output;
  }

  static size_t count(const LayerList& list, OpKind op) {
    return std::count_if(list.layers.begin(), list.layers.end(), [op](const auto& l) { return l.op == op; });
  }

  static const Layer& find(const LayerList& list, OpKind op) {
    auto it =
        std::find_if(list.layers.begin(), list.layers.end(), [op](const auto& l) { return l.op == op; });
    EXPECT_NE(it, list.layers.end());
    return *it;
  }

  void expect_same_result(const LayerList& before, const LayerList& after) {
    const auto input = random_values(2 * 3 * kSize * kSize, 8);
    // Folding reorders fp32 roundings only (weights scaled instead of sums, a conv's taps summed
    // into the FC's): a few ulps per layer over about ten layers of O(10) terms.
    EXPECT_LE(testing::worst_tolerance_ratio(run_list(after, input), run_list(before, input), 1e-4, 1e-4),
              1.0);
  }
};

TEST_F(RepmlpPassTest, PerSharesetBatchNormsFoldIntoThePartitionLayersWithSameResult) {
  const LayerList converted = ir::batchnorm_to_affine(unit);
  const LayerList after = ir::fold_affine_into_producer(converted);
  // fc3_bn, both repconv BNs and the two FFN BNs fold; prebn1, prebn2 and head_norm stay.
  EXPECT_EQ(count(after, OpKind::ChannelAffine), 3u);
  EXPECT_TRUE(find(after, OpKind::PartitionLinear).has_param("bias"));
  expect_same_result(unit, after);
}

TEST_F(RepmlpPassTest, AffineThatDiffersWithinAsharesetDoesNotFoldIntoThePartitionFc) {
  LayerList list = ir::batchnorm_to_affine(unit);
  auto bn =
      std::find_if(list.layers.begin(), list.layers.end(), [](const auto& l) { return l.name == "fc3_bn"; });
  ASSERT_NE(bn, list.layers.end());
  std::vector<float> scale(bn->param("scale").values(), bn->param("scale").values() + kChannels);
  scale[kSharesets + 1] += 0.25f;  // channel 5 no longer matches channel 1 of its shareset
  bn->params["scale"] = ir::HostTensor::from({kChannels}, std::move(scale));
  const LayerList after = ir::fold_affine_into_producer(list);
  EXPECT_EQ(count(after, OpKind::ChannelAffine), 4u);
  expect_same_result(list, after);
}

TEST_F(RepmlpPassTest, LocalityInjectionLeavesOnePartitionFcWithSameResult) {
  const LayerList folded = ir::fold_affine_into_producer(ir::batchnorm_to_affine(unit));
  const LayerList after = ir::inject_locality(folded);
  EXPECT_EQ(count(after, OpKind::PartitionConv), 0u);
  EXPECT_EQ(count(after, OpKind::PartitionLinear), 1u);
  EXPECT_EQ(count(after, OpKind::Add), count(folded, OpKind::Add) - 2);
  expect_same_result(unit, after);
}

TEST_F(RepmlpPassTest, PreBatchNormMovesIntoTheGlobalPerceptronAndThePartitionFcWithSameResult) {
  const LayerList injected =
      ir::inject_locality(ir::fold_affine_into_producer(ir::batchnorm_to_affine(unit)));
  const LayerList sunk = ir::sink_affine_below_mean_pool(injected);
  const LayerList after = ir::fold_affine_into_partition_linear(sunk);
  EXPECT_TRUE(find(after, OpKind::PartitionLinear).has_param("input_scale"));
  // prebn1 and head_norm now act on pooled vectors, where fold_affine_into_consumer takes them.
  const LayerList folded = ir::fold_affine_into_consumer(after);
  EXPECT_EQ(count(folded, OpKind::ChannelAffine), 0u);
  expect_same_result(unit, sunk);
  expect_same_result(unit, after);
  expect_same_result(unit, folded);
}

TEST_F(RepmlpPassTest, OptimizeLeavesOneFcWithGateAndResidualPerBlockAndSameResult) {
  const LayerList after = ir::optimize(unit);
  for (OpKind op : {OpKind::BatchNorm, OpKind::ChannelAffine, OpKind::PartitionConv, OpKind::ChannelGate,
                    OpKind::Add, OpKind::Gelu, OpKind::Relu})
    EXPECT_EQ(count(after, op), 0u) << ir::op_name(op);
  const Layer& fc = find(after, OpKind::PartitionLinear);
  EXPECT_TRUE(fc.gate);
  EXPECT_TRUE(fc.residual);
  // stem, gp pool + fc1 + fc2, fc3, ffn_fc1 + ffn_fc2, pool, head.
  EXPECT_EQ(after.layers.size(), 9u);
  expect_same_result(unit, after);
}

}  // namespace
}  // namespace vkvision
