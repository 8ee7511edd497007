// RepMLPNet: conv_embedding (conv kxk/sk + BN + ReLU), stages of RepMLPNetUnit with conv 2x2/s2 +
// BN + ReLU between them, head_norm (BN), global average pool, head. A unit is
//   y = x + RepMLPBlock(prebn1(x));  z = y + ffn_fc2(GELU(ffn_fc1(prebn2(y))))   (1x1 conv + BN each)
// and a RepMLPBlock is gate(x) * unpartition(fc3_bn(fc3(partitions)) + sum_k repconv_k(partitions)),
// gate = sigmoid(fc2(relu(fc1(mean(x))))). The layer list keeps the training-time structure
// (PartitionLinear, PartitionConv, ChannelGate, BatchNorms) and the passes turn each block into one
// PartitionLinear with the BatchNorm before it, the gate and the residual fused, as the reference's
// locality_injection() does for the branches. The BatchNorms over the S sharesets (fc3_bn, the
// repconv BNs) act on channel c through shareset c % S after un-partitioning: they are tiled to C here.
// The partition layers place their results where the reference's un-partition view does, which
// differs from the inverse of its partition when a map has several patches and a shareset several
// channels (shaders/include/partition.glsl).
#include "models/repmlpnet.h"

#include <cmath>
#include <numeric>
#include <set>

#include "vkvision/error.h"

namespace vkvision::models {
namespace {

using ir::HostTensor;
using ir::Layer;
using ir::OpKind;

std::string join(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + std::to_string(values[i]);
  return text;
}

struct Config {
  std::vector<int64_t> channels, blocks, partitions, sharesets;  // per stage; partitions are h = w
  std::vector<int64_t> kernels;                                  // local-perceptron kernels (training form)
  int64_t reduce = 4;                                            // global perceptron hidden = C / reduce
  int64_t patch = 4, in_channels = 3, classes = 1000;
  bool deployed = false;
  std::vector<std::vector<int64_t>> branches;  // per block in order: its local-perceptron kernels

  bool same_architecture(const Config& o) const {
    return channels == o.channels && blocks == o.blocks && partitions == o.partitions &&
           sharesets == o.sharesets && patch == o.patch && reduce == o.reduce;
  }
  std::string describe() const {
    std::string text = deployed ? "deployed" : "training-time";
    text += " channels " + join(channels) + " blocks " + join(blocks) + " partitions " + join(partitions) +
            " sharesets " + join(sharesets);
    if (!deployed) text += " kernels " + join(kernels);
    return text + " classes " + std::to_string(classes);
  }
};

std::string unit(size_t stage, int64_t index) {
  return "stages." + std::to_string(stage) + "." + std::to_string(index);
}

bool is_repmlpnet(const WeightSource& w) {
  return w.contains("conv_embedding.conv.weight") && w.contains("stages.0.0.repmlp_block.fc3.weight");
}

// The k of every `<block>.repconv{k}.conv.weight` (RepMLPBlock names its branches by kernel size).
std::vector<int64_t> branch_kernels(const std::vector<std::string>& names, const std::string& block) {
  const std::string prefix = block + ".repconv", suffix = ".conv.weight";
  std::set<int64_t> kernels;
  for (const auto& name : names) {
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos)
      kernels.insert(std::stoll(digits));
  }
  return {kernels.begin(), kernels.end()};
}

Config infer_config(const WeightSource& w) {
  Config c;
  c.deployed = !w.contains("stages.0.0.repmlp_block.fc3_bn.weight");
  const auto& embedding = w.shape("conv_embedding.conv.weight");
  if (embedding.size() != 4 || embedding[2] != embedding[3])
    w.fail("tensor 'conv_embedding.conv.weight' has shape " + ir::shape_string(embedding) +
           ", expected a square kernel");
  c.patch = embedding[3];
  c.in_channels = embedding[1];
  for (size_t stage = 0; w.contains(unit(stage, 0) + ".prebn1.weight"); ++stage) {
    // Partition sides shift left by the stage (the map's lcm): real RepMLPNets have 4 stages.
    if (stage == 8) w.fail("has more than 8 stages");
    int64_t count = 0;
    while (w.contains(unit(stage, count) + ".prebn1.weight")) ++count;
    const std::string block = unit(stage, 0) + ".repmlp_block";
    const int64_t channels = w.dim(unit(stage, 0) + ".prebn1.weight", 0);
    const auto& fc3 = w.shape(block + ".fc3.weight");
    // fc3 is Conv2d(S*h*w, S*h*w, 1, groups=S): weight [S*h*w, h*w, 1, 1].
    if (fc3.size() != 4 || fc3[1] == 0 || fc3[0] % fc3[1] != 0 || fc3[2] != 1 || fc3[3] != 1)
      w.fail("tensor '" + block + ".fc3.weight' has shape " + ir::shape_string(fc3) +
             ", expected [S*h*w, h*w, 1, 1]");
    const int64_t sharesets = fc3[0] / fc3[1], side = std::llround(std::sqrt(double(fc3[1])));
    if (side * side != fc3[1] || side > 4096)
      w.fail("tensor '" + block + ".fc3.weight' mixes " + std::to_string(fc3[1]) +
             " positions per partition, not a square h x w (every RepMLPNet variant has h = w)");
    if (channels % sharesets != 0)
      w.fail("stage " + std::to_string(stage) + ": " + std::to_string(sharesets) + " sharesets (from " +
             block + ".fc3.weight) do not divide its " + std::to_string(channels) + " channels");
    c.channels.push_back(channels);
    c.blocks.push_back(count);
    c.partitions.push_back(side);
    c.sharesets.push_back(sharesets);
  }
  if (c.channels.empty()) w.fail("RepMLPNet checkpoint without stages.0.0.prebn1");
  const auto& fc1 = w.shape("stages.0.0.repmlp_block.gp.fc1.weight");
  if (fc1.empty() || fc1[0] == 0 || c.channels[0] % fc1[0] != 0)
    w.fail("tensor 'stages.0.0.repmlp_block.gp.fc1.weight' has shape " + ir::shape_string(fc1) +
           ", expected [C/reduce, C, 1, 1]");
  c.reduce = c.channels[0] / fc1[0];
  if (!c.deployed) c.kernels = branch_kernels(w.names(), "stages.0.0.repmlp_block");
  c.classes = w.dim("head.weight", 0);
  const std::vector<std::string> names = w.names();
  for (size_t stage = 0; stage < c.channels.size(); ++stage)
    for (int64_t j = 0; j < c.blocks[stage]; ++j) {
      const std::string block = unit(stage, j) + ".repmlp_block";
      c.branches.push_back(branch_kernels(names, block));
      if (c.deployed && !c.branches.back().empty())
        w.fail("block " + block + " has local-perceptron branches (repconv" +
               std::to_string(c.branches.back()[0]) +
               ") but no fc3_bn: a training-time block needs both, a deployed one neither");
    }
  return c;
}

// The Inits are a preset's random weights: weights N(0, 1/fan_in), biases N(0, 0.1), BatchNorms with
// non-trivial statistics (Init::batch_norm).
ir::LayerList build_layers(const WeightSource& w, const Config& c) {
  ir::LayerList list;
  list.input_channels = static_cast<uint32_t>(c.in_channels);
  size_t block_index = 0;
  auto push = [&](Layer layer) {
    list.layers.push_back(std::move(layer));
    return list.layers.back().output;
  };
  // BatchNorm over `channels`; one over fewer channels (per shareset) repeats over C as c % S.
  auto batch_norm = [&](const std::string& prefix, const std::string& input, int64_t channels,
                        int64_t tiled = 0) {
    Layer bn{.op = OpKind::BatchNorm, .name = prefix, .inputs = {input}, .output = prefix};
    for (const char* role : {"weight", "bias", "running_mean", "running_var"}) {
      HostTensor t = w.get(prefix + "." + role, {channels}, Init::batch_norm(role));
      if (tiled) {
        std::vector<float> values(tiled);
        for (int64_t k = 0; k < tiled; ++k) values[k] = t.values()[k % channels];
        t = HostTensor::from({tiled}, std::move(values));
      }
      bn.params[role] = std::move(t);
    }
    return push(std::move(bn));
  };
  auto conv = [&](const std::string& prefix, const std::string& input, int64_t in, int64_t out,
                  int64_t kernel, bool nchw) {
    Layer layer{.op = OpKind::Conv2d, .name = prefix, .inputs = {input}, .output = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {out, in, kernel, kernel}, Init::normal());
    layer.kernel_h = layer.kernel_w = layer.stride_h = layer.stride_w = static_cast<uint32_t>(kernel);
    layer.input_nchw = nchw;
    return push(std::move(layer));
  };
  // A 1x1 conv without bias on NHWC is a Linear.
  auto pointwise = [&](const std::string& prefix, const std::string& input, int64_t in, int64_t out,
                       bool bias, ops::Activation activation = ops::Activation::None) {
    Layer layer{.op = OpKind::Linear, .name = prefix, .inputs = {input}, .output = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {out, in, 1, 1}, Init::normal());
    if (bias) layer.params["bias"] = w.get(prefix + ".bias", {out}, Init::normal(0.1f));
    layer.activation = activation;
    return push(std::move(layer));
  };
  auto conv_bn_relu = [&](const std::string& prefix, const std::string& input, int64_t in, int64_t out,
                          int64_t kernel, bool nchw) {
    const std::string bn =
        batch_norm(prefix + ".bn", conv(prefix + ".conv", input, in, out, kernel, nchw), out);
    return push(
        Layer{.op = OpKind::Relu, .name = prefix + ".relu", .inputs = {bn}, .output = prefix + ".relu"});
  };

  std::string current =
      conv_bn_relu("conv_embedding", list.input, c.in_channels, c.channels[0], c.patch, true);
  for (size_t stage = 0; stage < c.channels.size(); ++stage) {
    const int64_t channels = c.channels[stage], sharesets = c.sharesets[stage], side = c.partitions[stage];
    const int64_t hw = side * side;
    for (int64_t j = 0; j < c.blocks[stage]; ++j) {
      const std::string prefix = unit(stage, j), block = prefix + ".repmlp_block";
      const std::string x = current;
      const std::string normed = batch_norm(prefix + ".prebn1", x, channels);
      // Global perceptron: a per-image channel gate from the mean over the whole map.
      const std::string pooled = push(Layer{.op = OpKind::MeanPool,
                                            .name = block + ".gp.pool",
                                            .inputs = {normed},
                                            .output = block + ".gp.pool"});
      const std::string hidden =
          pointwise(block + ".gp.fc1", pooled, channels, channels / c.reduce, true, ops::Activation::Relu);
      const std::string gate =
          pointwise(block + ".gp.fc2", hidden, channels / c.reduce, channels, true, ops::Activation::Sigmoid);
      // Partition FC and local perceptron.
      Layer fc{.op = OpKind::PartitionLinear,
               .name = block + ".fc3",
               .inputs = {normed},
               .output = block + ".fc3"};
      const HostTensor fc3 = w.get(block + ".fc3.weight", {sharesets * hw, hw, 1, 1}, Init::normal());
      fc.params["weight"] = HostTensor{{sharesets * hw, hw}, fc3.data};
      fc.partition_h = fc.partition_w = static_cast<uint32_t>(side);
      fc.groups = static_cast<uint32_t>(sharesets);
      const std::vector<int64_t>& kernels = c.branches[block_index++];
      if (c.deployed) fc.params["bias"] = w.get(block + ".fc3.bias", {sharesets * hw}, Init::normal(0.1f));
      std::string mixed = push(fc);
      if (!c.deployed) {
        mixed = batch_norm(block + ".fc3_bn", mixed, sharesets, channels);
        for (int64_t k : kernels) {
          const std::string branch = block + ".repconv" + std::to_string(k);
          if (k % 2 == 0)
            w.fail("tensor '" + branch + ".conv.weight': local-perceptron kernels must be odd, got " +
                   std::to_string(k));
          Layer local{.op = OpKind::PartitionConv,
                      .name = branch + ".conv",
                      .inputs = {normed},
                      .output = branch + ".conv"};
          local.params["weight"] = w.get(branch + ".conv.weight", {sharesets, 1, k, k}, Init::normal());
          local.kernel_h = local.kernel_w = static_cast<uint32_t>(k);
          local.pad_h = local.pad_w = static_cast<uint32_t>(k / 2);
          local.partition_h = local.partition_w = static_cast<uint32_t>(side);
          local.groups = static_cast<uint32_t>(sharesets);
          const std::string branch_out =
              batch_norm(branch + ".bn", push(std::move(local)), sharesets, channels);
          mixed = push(Layer{.op = OpKind::Add,
                             .name = branch + ".sum",
                             .inputs = {mixed, branch_out},
                             .output = branch + ".sum"});
        }
      }
      const std::string gated = push(Layer{.op = OpKind::ChannelGate,
                                           .name = block + ".gate",
                                           .inputs = {mixed, gate},
                                           .output = block + ".gate"});
      const std::string y = push(Layer{
          .op = OpKind::Add, .name = prefix + ".residual1", .inputs = {x, gated}, .output = prefix + ".y"});
      // FFN: conv1x1 + BN, GELU, conv1x1 + BN.
      const std::string ffn = prefix + ".ffn_block";
      const std::string normed2 = batch_norm(prefix + ".prebn2", y, channels);
      const std::string up =
          batch_norm(ffn + ".ffn_fc1.bn",
                     pointwise(ffn + ".ffn_fc1.conv", normed2, channels, 4 * channels, false), 4 * channels);
      const std::string act =
          push(Layer{.op = OpKind::Gelu, .name = ffn + ".act", .inputs = {up}, .output = ffn + ".act"});
      const std::string down =
          batch_norm(ffn + ".ffn_fc2.bn",
                     pointwise(ffn + ".ffn_fc2.conv", act, 4 * channels, channels, false), channels);
      current = push(Layer{
          .op = OpKind::Add, .name = prefix + ".residual2", .inputs = {y, down}, .output = prefix + ".z"});
    }
    if (stage + 1 < c.channels.size())
      current =
          conv_bn_relu("embeds." + std::to_string(stage), current, channels, c.channels[stage + 1], 2, false);
  }
  const int64_t last = c.channels.back();
  const std::string normed = batch_norm("head_norm", current, last);
  push(Layer{.op = OpKind::MeanPool, .name = "pool", .inputs = {normed}, .output = "pool"});
  Layer head{.op = OpKind::Linear, .name = "head", .inputs = {"pool"}, .output = "logits"};
  head.params = {{"weight", w.get("head.weight", {c.classes, last}, Init::normal())},
                 {"bias", w.get("head.bias", {c.classes}, Init::normal(0.1f))}};
  push(std::move(head));
  list.output = "logits";
  return list;
}

struct Preset {
  const char* name;
  std::vector<int64_t> channels, blocks, partitions, sharesets;
};

// The reference's create_RepMLPNet_* (all with reparam_conv_k (1, 3), globalperceptron_reduce 4,
// patch 4); the input size is 4 x the first partition (224 or 256).
const std::vector<Preset>& preset_table() {
  static const std::vector<Preset> table = {
      {"repmlpnet_t224", {64, 128, 256, 512}, {2, 2, 6, 2}, {56, 28, 14, 7}, {1, 4, 16, 128}},
      {"repmlpnet_t256", {64, 128, 256, 512}, {2, 2, 6, 2}, {64, 32, 16, 8}, {1, 4, 16, 128}},
      {"repmlpnet_b224", {96, 192, 384, 768}, {2, 2, 12, 2}, {56, 28, 14, 7}, {1, 4, 32, 128}},
      {"repmlpnet_b256", {96, 192, 384, 768}, {2, 2, 12, 2}, {64, 32, 16, 8}, {1, 4, 32, 128}},
      {"repmlpnet_d256", {80, 160, 320, 640}, {2, 2, 18, 2}, {64, 32, 16, 8}, {1, 4, 16, 128}},
      {"repmlpnet_l256", {96, 192, 384, 768}, {2, 2, 18, 2}, {64, 32, 16, 8}, {1, 4, 32, 256}},
  };
  return table;
}

Config preset_config(const Preset& p) {
  Config c;
  c.channels = p.channels;
  c.blocks = p.blocks;
  c.partitions = p.partitions;
  c.sharesets = p.sharesets;
  c.kernels = {1, 3};
  for (size_t stage = 0; stage < c.blocks.size(); ++stage)
    c.branches.resize(c.branches.size() + c.blocks[stage], c.kernels);
  return c;
}

class RepMlpNet final : public Family {
 public:
  std::string name() const override { return "repmlpnet"; }
  bool matches(const WeightSource& weights) const override { return is_repmlpnet(weights); }

  BuiltModel build(const WeightSource& weights, const std::string& preset) const override {
    if (!is_repmlpnet(weights)) weights.fail("not a RepMLPNet checkpoint");
    const Config config = infer_config(weights);
    std::string variant = "custom";
    for (const Preset& p : preset_table())
      if (preset_config(p).same_architecture(config)) variant = p.name;
    if (!preset.empty() && preset != variant)
      weights.fail("holds RepMLPNet " + config.describe() + ", which is not preset " + preset);
    return finish(weights, config, variant);
  }

  BuiltModel build_preset(const WeightSource& weights, const std::string& preset_name) const override {
    for (const Preset& p : preset_table())
      if (preset_name == p.name) return finish(weights, preset_config(p), p.name);
    throw InputError("unknown RepMLPNet preset '" + preset_name + "'");
  }

  std::vector<PresetInfo> presets() const override {
    std::vector<PresetInfo> result;
    for (const Preset& p : preset_table())
      result.push_back({p.name, "repmlpnet", preset_config(p).describe()});
    return result;
  }

 private:
  static BuiltModel finish(const WeightSource& weights, const Config& config, const std::string& variant) {
    BuiltModel model;
    model.layers = build_layers(weights, config);
    // The partitions fit few input sizes: the smallest where stage i's map (input / patch / 2^i) is
    // whole partitions, lcm(partition_i * 2^i) * patch. Every official variant's partitions are its
    // whole maps (RepMLPNet-B224: 56, 28, 14, 7), which gives its own resolution, 4 x 56 = 224.
    int64_t map = 1;
    for (size_t stage = 0; stage < config.partitions.size(); ++stage)
      map = std::lcm(map, config.partitions[stage] << stage);
    Preprocessing defaults;
    defaults.input_size = static_cast<uint32_t>(config.patch * map);
    model.info =
        model_info(weights, "repmlpnet", variant, "official", config.describe(), config.classes, defaults);
    return model;
  }
};

}  // namespace

const Family& repmlpnet_family() {
  static const RepMlpNet family;
  return family;
}

}  // namespace vkvision::models
