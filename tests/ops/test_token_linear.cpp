// TokenLinear (ops/token_linear.h): the token-mixing GEMM of MLP-Mixer, ResMLP, gMLP and gMixer,
// against a double-precision reference of
//   y[b, t', c] = act(alpha[c] sum_t W[t', t] x[b, t, c] + beta[c] rowsum(W)[t'] + bias[t'])
//                 * out_scale[c] * gate[b, t', c] + residual[b, t', c]
// (the reference evaluates W (alpha x + beta) + bias directly, so the folding of the affine through
// the product is checked too). Through the conformance harness (ops/conformance.h): storage operands
// for every case, texel operands where C % 4 == 0. Token counts of real models (7x7, 14x14, 14x14 + 1,
// 5x5), token counts that change (49 -> 11, 11 -> 49, 196 -> 13), channels not a multiple of 4,
// batches 1 to 3, each epilogue term alone and together. Also the shape checks and the fusion passes.
#include <array>
#include <cmath>

#include "exec/plan.h"
#include "ir/passes.h"
#include "ops/conformance.h"
#include "ops/error_bounds.h"
#include "ops/op_traits.h"
#include "ops/token_linear.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Path;

class TokenLinearTest : public testing::DeviceTest {};

// Shape inference: a checkpoint whose token MLP does not fit the map is refused in one line naming
// the layer and the tensor.
ir::Layer token_layer(int64_t t_out, int64_t t_in) {
  ir::Layer layer{
      .op = ir::OpKind::TokenLinear, .name = "blocks.0.mlp_tokens.fc1", .inputs = {"x"}, .output = "y"};
  layer.params["weight"] = ir::HostTensor::from({t_out, t_in}, std::vector<float>(size_t(t_out * t_in)));
  return layer;
}

std::string shape_error_of(const ir::Layer& layer, const std::vector<ir::Shape>& inputs) {
  try {
    const ir::Shape out = ops::op_traits(layer).infer_shape(layer, inputs);
    return "no error, output " + ir::shape_string(out);
  } catch (const InputError& error) {
    return error.what();
  }
}

// Through the executor: passes, packing, upload and lowering of a small token-MLP network (a 1x1
// stem, a ResMLP-style Affine, 15 tokens -> 6 hidden with GELU -> 15, a layer scale and a residual,
// then a gated 15 -> 15), on each kernel family with fp32 and fp16 weights, against a double
// reference of the unoptimised list.
// The passes fold the Affine into fc1's input affine, the GELU into fc1, the layer scale into fc2's
// output scale and the Add into fc2's residual. 12 channels: the texel operands where the device has
// them (the storage path runs in TokenLinearTest).
class TokenLinearPlanTest : public testing::DeviceTest {};

TEST_F(TokenLinearTest, TexelPathRejectsChannelsNotMultipleOfFour) {
  auto buffer = make_buffer(64);
  const ops::TokenLinearShape shape{.batch = 1, .t_in = 4, .t_out = 4, .c = 3};
  EXPECT_FALSE(ops::token_linear_texel_supported(device(), shape));
  EXPECT_THROW(ops::token_linear(device(), shape, {}, {buffer, buffer, buffer, buffer, buffer},
                                 ops::TokenLinearOperands::Texel),
               Error);
}

TEST(TokenLinearShapeTest, OutputShapeFollowsTheWeightAndTheOutputGrid) {
  const std::vector<ir::Shape> x{{2, 7, 7, 18}}, hidden_x{{2, 1, 98, 18}};
  const ops::OpTraits& traits = ops::op_traits(ir::OpKind::TokenLinear);
  EXPECT_EQ(traits.infer_shape(token_layer(49, 49), x), x[0]);
  ir::Layer hidden = token_layer(98, 49);
  hidden.output_h = 1;
  hidden.output_w = 98;
  EXPECT_EQ(traits.infer_shape(hidden, x), hidden_x[0]);
  ir::Layer back = token_layer(49, 98);
  back.output_h = back.output_w = 7;
  EXPECT_EQ(traits.infer_shape(back, hidden_x), x[0]);
  EXPECT_DOUBLE_EQ(traits.gflop(hidden, x[0], hidden_x[0]), 2.0 * 2 * 98 * 18 * 49 * 1e-9);
}

TEST(TokenLinearShapeTest, WrongShapesAreRefusedNamingTheLayerAndTensor) {
  const ir::Shape x{1, 7, 7, 18};
  EXPECT_EQ(shape_error_of(token_layer(48, 48), std::vector<ir::Shape>{x}),
            "layer 'blocks.0.mlp_tokens.fc1' (token_linear): weight mixes 48 tokens, the input has 49 (7x7)");
  ir::Layer layer = token_layer(49, 49);
  layer.params["bias"] = ir::HostTensor::from({48}, std::vector<float>(48));
  EXPECT_EQ(shape_error_of(layer, std::vector<ir::Shape>{x}),
            "layer 'blocks.0.mlp_tokens.fc1' (token_linear): bias has 48 values, expected 49");
  for (const char* role : {"input_scale", "input_shift", "output_scale"}) {
    layer = token_layer(49, 49);
    layer.params[role] = ir::HostTensor::from({17}, std::vector<float>(17));
    EXPECT_EQ(shape_error_of(layer, std::vector<ir::Shape>{x}),
              std::string("layer 'blocks.0.mlp_tokens.fc1' (token_linear): ") + role +
                  " has 17 values, expected 18");
  }
  layer = token_layer(11, 49);
  EXPECT_EQ(shape_error_of(layer, std::vector<ir::Shape>{x}),
            "layer 'blocks.0.mlp_tokens.fc1' (token_linear): weight gives 11 "
            "output tokens from 49 and no output grid is set");
  layer.output_h = 2;
  layer.output_w = 6;
  EXPECT_EQ(shape_error_of(layer, std::vector<ir::Shape>{x}),
            "layer 'blocks.0.mlp_tokens.fc1' (token_linear): output grid 2x6 "
            "does not hold the weight's 11 output tokens");
  layer = token_layer(49, 49);
  layer.params["weight"] = ir::HostTensor::from({49, 7, 7}, std::vector<float>(49 * 49));
  EXPECT_EQ(
      shape_error_of(layer, std::vector<ir::Shape>{x}),
      "layer 'blocks.0.mlp_tokens.fc1' (token_linear): weight has shape [49,7,7], expected [T_out, T_in]");
  layer = token_layer(49, 49);
  layer.gate = true;
  layer.inputs.push_back("g");
  EXPECT_EQ(shape_error_of(layer, {x, ir::Shape{1, 7, 7, 17}}),
            "layer 'blocks.0.mlp_tokens.fc1' (token_linear): gate input has shape [1,7,7,17], expected "
            "[1,7,7,18]");
  EXPECT_EQ(shape_error_of(layer, std::vector<ir::Shape>{x}),
            "layer 'blocks.0.mlp_tokens.fc1' (token_linear): has 1 inputs, expected 2 (x, gate)");
}

// The fusion passes: a following GELU becomes the epilogue only where no output scale or gate
// follows the activation; a following Add becomes the residual, appended after the gate.
TEST(TokenLinearPassTest, ActivationAndResidualFuseAroundTheGate) {
  auto list_with = [](bool gate, bool output_scale) {
    ir::LayerList list;
    list.input_channels = 8;
    list.layers.push_back(
        {.op = ir::OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "x", .input_nchw = true});
    list.layers[0].params["weight"] = ir::HostTensor::from({8, 8, 1, 1}, std::vector<float>(64, 0.1f));
    ir::Layer token = token_layer(4, 4);
    token.inputs = {"x"};
    token.output = "t";
    if (gate) {
      token.gate = true;
      token.inputs.push_back("x");
    }
    if (output_scale) token.params["output_scale"] = ir::HostTensor::from({8}, std::vector<float>(8, 1.0f));
    list.layers.push_back(token);
    list.layers.push_back({.op = ir::OpKind::Gelu, .name = "act", .inputs = {"t"}, .output = "a"});
    list.layers.push_back({.op = ir::OpKind::Add, .name = "add", .inputs = {"a", "x"}, .output = "out"});
    list.output = "out";
    return list;
  };
  ir::LayerList fused = ir::fuse_residual_add(ir::fuse_activation(list_with(false, false)));
  ASSERT_EQ(fused.layers.size(), 2u);
  EXPECT_EQ(fused.layers[1].activation, ops::Activation::Gelu);
  EXPECT_TRUE(fused.layers[1].residual);
  EXPECT_EQ(fused.layers[1].inputs, (std::vector<std::string>{"x", "x"}));
  EXPECT_NO_THROW(ir::infer_shapes(fused, 1, 2, 2));
  for (const auto& [gate, scale] : {std::pair{true, false}, std::pair{false, true}}) {
    ir::LayerList kept = ir::fuse_activation(list_with(gate, scale));
    ASSERT_EQ(kept.layers.size(), 4u);
    EXPECT_EQ(kept.layers[1].activation, ops::Activation::None);
  }
  // Without the activation between them, the Add fuses into the gated layer as its last input.
  ir::LayerList gated = list_with(true, false);
  gated.layers.erase(gated.layers.begin() + 2);
  gated.layers[2].inputs = {"t", "input2"};
  gated.layers.insert(gated.layers.begin() + 1,
                      {.op = ir::OpKind::Relu, .name = "skip", .inputs = {"x"}, .output = "input2"});
  ir::LayerList residual = ir::fuse_residual_add(gated);
  ASSERT_EQ(residual.layers.size(), 3u);
  EXPECT_TRUE(residual.layers[2].residual);
  EXPECT_EQ(residual.layers[2].inputs, (std::vector<std::string>{"x", "x", "input2"}));
  EXPECT_NO_THROW(ir::infer_shapes(residual, 1, 2, 2));
}

// ChannelAffines around a TokenLinear: one before it becomes its input affine; one after it, without
// a shift, its output scale; one with a shift, or after a gated TokenLinear, stays.
TEST(TokenLinearPassTest, ChannelAffinesFoldIntoInputAffineAndOutputScale) {
  auto list_with = [](bool shift_after, bool gate) {
    ir::LayerList list;
    list.input_channels = 8;
    list.layers.push_back(
        {.op = ir::OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "x", .input_nchw = true});
    list.layers[0].params["weight"] = ir::HostTensor::from({8, 8, 1, 1}, std::vector<float>(64, 0.1f));
    // The ReLU epilogue keeps the norm out of the stem (fold_affine_into_producer).
    list.layers[0].activation = ops::Activation::Relu;
    ir::Layer before{.op = ir::OpKind::ChannelAffine, .name = "norm", .inputs = {"x"}, .output = "n"};
    before.params = {{"scale", ir::HostTensor::from({8}, std::vector<float>(8, 2.0f))},
                     {"shift", ir::HostTensor::from({8}, std::vector<float>(8, 0.5f))}};
    ir::Layer token = token_layer(4, 4);
    token.inputs = {"n"};
    token.output = "t";
    if (gate) {
      token.gate = true;
      token.inputs.push_back("x");
    }
    ir::Layer after{.op = ir::OpKind::ChannelAffine, .name = "ls", .inputs = {"t"}, .output = "out"};
    after.params = {{"scale", ir::HostTensor::from({8}, std::vector<float>(8, 3.0f))}};
    if (shift_after) after.params["shift"] = ir::HostTensor::from({8}, std::vector<float>(8, 1.0f));
    list.layers.insert(list.layers.end(), {before, token, after});
    list.output = "out";
    return list;
  };
  const ir::LayerList folded = ir::optimize(list_with(false, false));
  ASSERT_EQ(folded.layers.size(), 2u);
  EXPECT_EQ(folded.layers[1].inputs, std::vector<std::string>{"x"});
  EXPECT_TRUE(folded.layers[1].has_param("input_scale") && folded.layers[1].has_param("input_shift"));
  EXPECT_EQ(folded.layers[1].param("output_scale").values()[0], 3.0f);
  EXPECT_EQ(folded.layers[1].output, "out");
  EXPECT_NO_THROW(ir::infer_shapes(folded, 1, 2, 2));
  for (const auto& [shift, gate] : {std::pair{true, false}, std::pair{false, true}}) {
    const ir::LayerList kept = ir::optimize(list_with(shift, gate));
    ASSERT_EQ(kept.layers.size(), 3u);
    EXPECT_FALSE(kept.layers[1].has_param("output_scale"));
    EXPECT_TRUE(kept.layers[1].has_param("input_scale"));
  }
}

TEST_F(TokenLinearPlanTest, TokenMlpRunsThroughThePlanOnEveryFamily) {
  constexpr uint32_t kBatch = 2, kH = 3, kW = 5, kIn = 3, kC = 12, kT = kH * kW, kHidden = 6;
  uint32_t seed = 300;
  auto tensor = [&](std::vector<int64_t> shape) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    return ir::HostTensor::from(shape, random_values(size_t(count), seed++));
  };
  ir::LayerList list;
  list.input_channels = kIn;
  ir::Layer stem{
      .op = ir::OpKind::Conv2d, .name = "stem", .inputs = {"input"}, .output = "x", .input_nchw = true};
  stem.params = {{"weight", tensor({kC, kIn, 1, 1})}, {"bias", tensor({kC})}};
  ir::Layer norm{.op = ir::OpKind::ChannelAffine, .name = "norm", .inputs = {"x"}, .output = "n"};
  norm.params = {{"scale", tensor({kC})}, {"shift", tensor({kC})}};
  ir::Layer fc1{.op = ir::OpKind::TokenLinear, .name = "fc1", .inputs = {"n"}, .output = "h"};
  fc1.params = {{"weight", tensor({kHidden, kT})}, {"bias", tensor({kHidden})}};
  fc1.output_h = 1;
  fc1.output_w = kHidden;
  ir::Layer act{.op = ir::OpKind::Gelu, .name = "act", .inputs = {"h"}, .output = "a"};
  ir::Layer fc2{.op = ir::OpKind::TokenLinear, .name = "fc2", .inputs = {"a"}, .output = "t"};
  fc2.params = {{"weight", tensor({kT, kHidden})}};
  fc2.output_h = kH;
  fc2.output_w = kW;
  ir::Layer layer_scale{.op = ir::OpKind::ChannelAffine, .name = "ls", .inputs = {"t"}, .output = "s"};
  layer_scale.params = {{"scale", tensor({kC})}};
  ir::Layer add{.op = ir::OpKind::Add, .name = "add", .inputs = {"s", "x"}, .output = "r"};
  ir::Layer gated{.op = ir::OpKind::TokenLinear, .name = "gated", .inputs = {"r", "x"}, .output = "y"};
  gated.params = {{"weight", tensor({kT, kT})}, {"bias", tensor({kT})}};
  gated.gate = true;
  list.layers = {stem, norm, fc1, act, fc2, layer_scale, add, gated};
  list.output = "y";
  const ir::LayerList optimized = ir::optimize(list);
  ASSERT_EQ(optimized.layers.size(), 4u) << ir::describe(optimized, kBatch, kH, kW);
  std::printf("%s", ir::describe(optimized, kBatch, kH, kW).c_str());
  EXPECT_EQ(optimized.layers[1].activation, ops::Activation::Gelu);
  EXPECT_TRUE(optimized.layers[1].has_param("input_scale") && optimized.layers[1].has_param("input_shift"));
  EXPECT_TRUE(optimized.layers[2].residual && optimized.layers[2].has_param("output_scale"));

  const auto input = random_values(size_t(kBatch) * kIn * kT, seed++);
  auto values = [&](const ir::Layer& layer, const char* role) { return layer.param(role).values(); };
  // [b][t][c] maps in double.
  using Map = std::vector<double>;
  Map x(size_t(kBatch) * kT * kC);
  for (uint32_t b = 0; b < kBatch; ++b)
    for (uint32_t t = 0; t < kT; ++t)
      for (uint32_t c = 0; c < kC; ++c) {
        double sum = values(stem, "bias")[c];
        for (uint32_t i = 0; i < kIn; ++i)
          sum += double(values(stem, "weight")[c * kIn + i]) * input[(size_t(b) * kIn + i) * kT + t];
        x[(size_t(b) * kT + t) * kC + c] = sum;
      }
  auto mix = [&](const Map& in, uint32_t t_in, const ir::Layer& layer, uint32_t t_out) {
    Map out(size_t(kBatch) * t_out * kC);
    for (uint32_t b = 0; b < kBatch; ++b)
      for (uint32_t t = 0; t < t_out; ++t)
        for (uint32_t c = 0; c < kC; ++c) {
          double sum = layer.has_param("bias") ? values(layer, "bias")[t] : 0.0;
          for (uint32_t u = 0; u < t_in; ++u)
            sum += double(values(layer, "weight")[t * t_in + u]) * in[(size_t(b) * t_in + u) * kC + c];
          out[(size_t(b) * t_out + t) * kC + c] = sum;
        }
    return out;
  };
  Map n = x;
  for (size_t i = 0; i < n.size(); ++i)
    n[i] = n[i] * values(norm, "scale")[i % kC] + values(norm, "shift")[i % kC];
  Map h = mix(n, kT, fc1, kHidden);
  for (double& v : h) v = testing::gelu_reference(v);
  Map r = mix(h, kHidden, fc2, kT);
  for (size_t i = 0; i < r.size(); ++i) r[i] = r[i] * values(layer_scale, "scale")[i % kC] + x[i];
  Map y = mix(r, kT, gated, kT);
  for (size_t i = 0; i < y.size(); ++i) y[i] *= x[i];

  for (const KernelFamily family : runnable_kernel_families())
    for (const Precision precision : {Precision::Fp32, Precision::Fp16}) {
      if (precision == Precision::Fp16 && !half_weights_unsupported().empty()) continue;
      SCOPED_TRACE(std::string(family == KernelFamily::SharedTiled ? "tiled" : "register") + " family, " +
                   (precision == Precision::Fp16 ? "fp16" : "fp32") + " weights");
      exec::Plan plan(context_ptr(), pipelines(), optimized, kBatch, kH, kW, family, precision);
      ASSERT_EQ(plan.output_count(), y.size());
      std::vector<float> output(plan.output_count());
      plan.run(input, output);
      // A wiring check, not a rounding bound (TokenLinearTest has those): 1e-4 of the values' scale,
      // 1e-2 with fp16 weights (each weight within 2^-11 relative).
      const double tolerance = precision == Precision::Fp16 ? 1e-2 : 1e-4;
      for (size_t i = 0; i < y.size(); ++i)
        EXPECT_NEAR(output[i], y[i], tolerance * (1 + std::abs(y[i]))) << i;
    }
  EXPECT_TRUE(context().validation_messages().empty());
}

}  // namespace
}  // namespace vkvision
