// RepVGG: stage0 (one block, stride 2, from the image), stage1..4 (first block stride 2), global
// average pool, linear. A training block is relu(bn(conv3x3(x)) + bn(conv1x1(x)) + bn(x)) (the
// identity BatchNorm only where in == out and stride 1); the layer list keeps that structure and
// the passes (BatchNorm folding, merge_parallel_branches, ReLU fusion) turn each block into one 3x3
// convolution, as the reference's repvgg_model_convert() does. Deployed files hold that conv.
// RepVGG-D2se gates each block's sum with squeeze-excitation (pool, 1x1 down + ReLU, 1x1 up +
// sigmoid, channel multiply) before the ReLU; the gate stays a separate step after the conv.
#include "models/repvgg.h"

#include "vkvision/error.h"

namespace vkvision::models {
namespace {

using ir::HostTensor;
using ir::Layer;
using ir::OpKind;

struct Config {
  std::vector<int64_t> depths;   // blocks in stage1..stage4
  std::vector<int64_t> widths;   // stage0, stage1..stage4
  std::vector<uint32_t> groups;  // per block in order (stage0 first)
  int64_t classes = 1000;
  bool deployed = false;
  bool se = false;  // RepVGG-D2se: a squeeze-excitation gate on every block's sum, before the ReLU
  int64_t in_chans = 3;
  std::vector<bool> identity;      // per block: a training-time identity BatchNorm branch
  std::vector<int64_t> se_hidden;  // per block with se: the SE block's width

  std::string describe() const {
    std::string text = deployed ? "deployed" : "training-time";
    text += " blocks 1";
    for (auto d : depths) text += "," + std::to_string(d);
    text += " widths";
    for (size_t i = 0; i < widths.size(); ++i) text += (i ? "," : " ") + std::to_string(widths[i]);
    uint32_t grouped = 0;
    for (auto g : groups) grouped = std::max(grouped, g);
    if (grouped > 1) text += " groups " + std::to_string(grouped);
    if (se) text += " se";
    return text + " classes " + std::to_string(classes);
  }
};

// Tensor names in the official repository and in timm's byobnet (RepVggBlock).
struct Naming {
  const char* name;
  const char* stem;        // "stage0" / "stem"
  const char* dense;       // the 3x3 conv+BN branch
  const char* one_by_one;  // the 1x1 conv+BN branch
  const char* identity;    // the identity BatchNorm
  const char* reparam;     // the deployed 3x3 conv
  const char* se_down;     // the SE block's 1x1 convs (official SEBlock; timm's SEModule)
  const char* se_up;
  const char* head;
  const char* stage_prefix;  // stage s >= 1 is "<prefix><s - first_stage>"
  int first_stage;

  std::string block(int stage, int index) const {
    if (stage == 0) return stem;
    return stage_prefix + std::to_string(stage - first_stage) + "." + std::to_string(index);
  }
  std::string kernel(int stage, int index, bool deployed) const {
    return block(stage, index) + "." + (deployed ? std::string(reparam) : std::string(dense) + ".conv") +
           ".weight";
  }
  static const Naming& official() {
    static const Naming n{
        "official", "stage0", "rbr_dense", "rbr_1x1", "rbr_identity", "rbr_reparam", "se.down",
        "se.up",    "linear", "stage",     0};
    return n;
  }
  static const Naming& timm() {
    static const Naming n{"timm",     "stem",     "conv_kxk", "conv_1x1", "identity", "reparam_conv",
                          "attn.fc1", "attn.fc2", "head.fc",  "stages.",  1};
    return n;
  }
};

const Naming* naming_of(const WeightSource& w) {
  for (const Naming* n : {&Naming::official(), &Naming::timm()})
    if (w.contains(n->kernel(0, 0, false)) || w.contains(n->kernel(0, 0, true))) return n;
  return nullptr;
}

bool is_repvgg(const WeightSource& w) { return naming_of(w) != nullptr; }

Config infer_config(const WeightSource& w, const Naming& n) {
  Config c;
  c.deployed = w.contains(n.kernel(0, 0, true));
  c.se = w.contains(n.block(0, 0) + "." + n.se_down + ".weight");
  auto block_shape = [&](int stage, int index) { return w.shape(n.kernel(stage, index, c.deployed)); };
  c.widths.push_back(w.dim(n.kernel(0, 0, c.deployed), 0));
  c.groups.push_back(1);
  int64_t in = c.widths[0];
  for (int stage = 1; stage <= 4; ++stage) {
    int64_t depth = 0;
    while (w.contains(n.kernel(stage, int(depth), c.deployed))) {
      const auto& shape = block_shape(stage, int(depth));
      if (shape.size() != 4 || shape[1] == 0 || in % shape[1] != 0)
        w.fail("tensor '" + n.kernel(stage, int(depth), c.deployed) + "' has shape " +
               ir::shape_string(shape) + ", which does not take " + std::to_string(in) + " input channels");
      c.groups.push_back(static_cast<uint32_t>(in / shape[1]));
      in = shape[0];
      ++depth;
    }
    if (depth == 0) w.fail("RepVGG stage" + std::to_string(stage) + " has no blocks");
    c.depths.push_back(depth);
    c.widths.push_back(in);
  }
  c.classes = w.dim(std::string(n.head) + ".weight", 0);
  c.in_chans = w.dim(n.kernel(0, 0, c.deployed), 1);
  for (int stage = 0; stage <= 4; ++stage)
    for (int j = 0; j < (stage == 0 ? 1 : c.depths[stage - 1]); ++j) {
      const std::string block = n.block(stage, j);
      c.identity.push_back(!c.deployed && w.contains(block + "." + n.identity + ".weight"));
      if (!c.se) continue;
      const std::string down = block + "." + n.se_down;
      if (!w.contains(down + ".weight") || w.shape(down + ".weight").size() != 4)
        w.fail("block " + block + " has no SE layer '" + down + "' although the first block has one");
      c.se_hidden.push_back(w.dim(down + ".weight", 0));
    }
  return c;
}

// The Inits are a preset's random weights: convolutions and linears N(0, 1/fan_in), their biases
// N(0, 0.1), BatchNorms with non-trivial statistics (Init::batch_norm).
ir::LayerList build_layers(const WeightSource& w, const Naming& n, const Config& c) {
  ir::LayerList list;
  list.input_channels = static_cast<uint32_t>(c.in_chans);
  std::string current = list.input;
  int64_t in = list.input_channels;
  size_t block_index = 0;
  auto conv = [&](const std::string& prefix, int64_t out, uint32_t kernel, uint32_t stride, uint32_t groups,
                  bool bias, bool nchw) {
    Layer layer{.op = OpKind::Conv2d, .name = prefix, .inputs = {current}, .output = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {out, in / groups, kernel, kernel}, Init::normal());
    if (bias) layer.params["bias"] = w.get(prefix + ".bias", {out}, Init::normal(0.1f));
    layer.kernel_h = layer.kernel_w = kernel;
    layer.stride_h = layer.stride_w = stride;
    layer.pad_h = layer.pad_w = kernel / 2;
    layer.groups = groups;
    layer.input_nchw = nchw;
    list.layers.push_back(std::move(layer));
    return prefix;
  };
  auto batch_norm = [&](const std::string& prefix, const std::string& input, int64_t channels) {
    Layer bn{.op = OpKind::BatchNorm, .name = prefix, .inputs = {input}, .output = prefix};
    for (const char* role : {"weight", "bias", "running_mean", "running_var"})
      bn.params[role] = w.get(prefix + "." + role, {channels}, Init::batch_norm(role));
    bn.eps = 1e-5f;
    list.layers.push_back(std::move(bn));
    return prefix;
  };
  // x * sigmoid(up(relu(down(mean(x))))): the official SEBlock pools the whole (square) map.
  auto squeeze_excite = [&](const std::string& block, const std::string& x, int64_t channels,
                            int64_t hidden) {
    const std::string pooled = block + ".se.pool";
    list.layers.push_back(Layer{.op = OpKind::MeanPool, .name = pooled, .inputs = {x}, .output = pooled});
    const std::string down = block + "." + n.se_down, up = block + "." + n.se_up;
    auto linear = [&](const std::string& prefix, const std::string& input, int64_t outputs, int64_t inputs,
                      ops::Activation activation) {
      Layer layer{.op = OpKind::Linear, .name = prefix, .inputs = {input}, .output = prefix};
      const ir::HostTensor weight = w.get(prefix + ".weight", {outputs, inputs, 1, 1}, Init::normal());
      layer.params["weight"] = HostTensor{{outputs, inputs}, weight.data};
      layer.params["bias"] = w.get(prefix + ".bias", {outputs}, Init::normal(0.1f));
      layer.activation = activation;
      list.layers.push_back(std::move(layer));
      return prefix;
    };
    const std::string scale = linear(up, linear(down, pooled, hidden, channels, ops::Activation::Relu),
                                     channels, hidden, ops::Activation::Sigmoid);
    const std::string gated = block + ".se";
    list.layers.push_back(
        Layer{.op = OpKind::ChannelGate, .name = gated, .inputs = {x, scale}, .output = gated});
    return gated;
  };
  for (int stage = 0; stage <= 4; ++stage) {
    const int64_t depth = stage == 0 ? 1 : c.depths[stage - 1], out = c.widths[stage];
    for (int j = 0; j < depth; ++j, ++block_index) {
      const std::string block = n.block(stage, j);
      const uint32_t stride = j == 0 ? 2 : 1, groups = c.groups[block_index];
      const bool nchw = current == list.input;
      std::string sum;
      if (c.deployed) {
        sum = conv(block + "." + n.reparam, out, 3, stride, groups, true, nchw);
      } else {
        const std::string x = current;
        const std::string branch3 = block + "." + n.dense, branch1 = block + "." + n.one_by_one;
        const std::string dense =
            batch_norm(branch3 + ".bn", conv(branch3 + ".conv", out, 3, stride, groups, false, nchw), out);
        current = x;
        const std::string one =
            batch_norm(branch1 + ".bn", conv(branch1 + ".conv", out, 1, stride, groups, false, nchw), out);
        sum = block + ".sum";
        list.layers.push_back(Layer{.op = OpKind::Add, .name = sum, .inputs = {dense, one}, .output = sum});
        const std::string identity_bn = block + "." + n.identity;
        if (c.identity[block_index]) {
          if (in != out || stride != 1)
            w.fail("block " + block + " has an identity branch but changes shape");
          const std::string identity = batch_norm(identity_bn, x, in);
          list.layers.push_back(Layer{.op = OpKind::Add,
                                      .name = block + ".sum2",
                                      .inputs = {sum, identity},
                                      .output = block + ".sum2"});
          sum = block + ".sum2";
        }
      }
      if (c.se) sum = squeeze_excite(block, sum, out, c.se_hidden[block_index]);
      list.layers.push_back(
          Layer{.op = OpKind::Relu, .name = block + ".relu", .inputs = {sum}, .output = block + ".out"});
      current = block + ".out";
      in = out;
    }
  }
  list.layers.push_back(Layer{.op = OpKind::MeanPool, .name = "gap", .inputs = {current}, .output = "gap"});
  const std::string head_name = n.head;
  Layer head{.op = OpKind::Linear, .name = head_name, .inputs = {"gap"}, .output = "logits"};
  head.params = {{"weight", w.get(head_name + ".weight", {c.classes, in}, Init::normal())},
                 {"bias", w.get(head_name + ".bias", {c.classes}, Init::normal(0.1f))}};
  list.layers.push_back(std::move(head));
  list.output = "logits";
  return list;
}

struct Preset {
  const char* name;
  std::vector<int64_t> depths;
  std::vector<double> multipliers;
  uint32_t groups;  // on the reference's grouped layers 2, 4, ..., 26
  bool se = false;
};

const std::vector<Preset>& preset_table() {
  static const std::vector<Preset> table = {
      {"repvgg_a0", {2, 4, 14, 1}, {0.75, 0.75, 0.75, 2.5}, 1},
      {"repvgg_a1", {2, 4, 14, 1}, {1, 1, 1, 2.5}, 1},
      {"repvgg_a2", {2, 4, 14, 1}, {1.5, 1.5, 1.5, 2.75}, 1},
      {"repvgg_b0", {4, 6, 16, 1}, {1, 1, 1, 2.5}, 1},
      {"repvgg_b1", {4, 6, 16, 1}, {2, 2, 2, 4}, 1},
      {"repvgg_b1g2", {4, 6, 16, 1}, {2, 2, 2, 4}, 2},
      {"repvgg_b1g4", {4, 6, 16, 1}, {2, 2, 2, 4}, 4},
      {"repvgg_b2", {4, 6, 16, 1}, {2.5, 2.5, 2.5, 5}, 1},
      {"repvgg_b2g2", {4, 6, 16, 1}, {2.5, 2.5, 2.5, 5}, 2},
      {"repvgg_b2g4", {4, 6, 16, 1}, {2.5, 2.5, 2.5, 5}, 4},
      {"repvgg_b3", {4, 6, 16, 1}, {3, 3, 3, 5}, 1},
      {"repvgg_b3g2", {4, 6, 16, 1}, {3, 3, 3, 5}, 2},
      {"repvgg_b3g4", {4, 6, 16, 1}, {3, 3, 3, 5}, 4},
      {"repvgg_d2se", {8, 14, 24, 1}, {2.5, 2.5, 2.5, 5}, 1, true},
  };
  return table;
}

Config preset_config(const Preset& p) {
  Config c;
  c.depths = p.depths;
  c.widths = {std::min<int64_t>(64, int64_t(64 * p.multipliers[0]))};
  for (int s = 0; s < 4; ++s) c.widths.push_back(int64_t((64 << s) * p.multipliers[s]));
  c.groups = {1};
  uint32_t layer = 1;
  for (auto depth : p.depths)
    for (int64_t j = 0; j < depth; ++j, ++layer)
      c.groups.push_back(p.groups > 1 && layer % 2 == 0 && layer <= 26 ? p.groups : 1);
  c.se = p.se;
  // Identity branches where a block keeps its shape (not the first of a stage); SE reduction 16.
  int64_t in = c.in_chans;
  for (int stage = 0; stage <= 4; ++stage) {
    const int64_t out = c.widths[stage];
    for (int64_t j = 0; j < (stage == 0 ? 1 : c.depths[stage - 1]); ++j, in = out) {
      c.identity.push_back(in == out && j > 0);
      if (c.se) c.se_hidden.push_back(out / 16);
    }
  }
  return c;
}

class RepVgg final : public Family {
 public:
  std::string name() const override { return "repvgg"; }
  bool matches(const WeightSource& weights) const override { return is_repvgg(weights); }

  BuiltModel build(const WeightSource& weights, const std::string& preset) const override {
    const Naming* naming = naming_of(weights);
    if (!naming) weights.fail("not a RepVGG checkpoint");
    const Config config = infer_config(weights, *naming);
    std::string variant = "custom";
    for (const Preset& p : preset_table()) {
      const Config c = preset_config(p);
      if (c.depths == config.depths && c.widths == config.widths && c.groups == config.groups &&
          c.se == config.se)
        variant = p.name;
    }
    if (!preset.empty() && preset != variant)
      weights.fail("holds RepVGG " + config.describe() + ", which is not preset " + preset);
    return finish(weights, *naming, config, variant);
  }

  BuiltModel build_preset(const WeightSource& weights, const std::string& preset_name) const override {
    for (const Preset& p : preset_table())
      if (preset_name == p.name) return finish(weights, Naming::official(), preset_config(p), p.name);
    throw InputError("unknown RepVGG preset '" + preset_name + "'");
  }

  std::vector<PresetInfo> presets() const override {
    std::vector<PresetInfo> result;
    for (const Preset& p : preset_table()) result.push_back({p.name, "repvgg", preset_config(p).describe()});
    return result;
  }

 private:
  static BuiltModel finish(const WeightSource& weights, const Naming& naming, const Config& config,
                           const std::string& variant) {
    BuiltModel model;
    model.layers = build_layers(weights, naming, config);
    Preprocessing defaults;  // the reference evaluates at 224 with a 256 resize (crop_pct 0.875), bilinear
    defaults.interpolation = "bilinear";
    if (variant == "repvgg_d2se") defaults.input_size = 320;  // D2se was trained and evaluated at 320
    model.info =
        model_info(weights, "repvgg", variant, naming.name, config.describe(), config.classes, defaults);
    return model;
  }
};

}  // namespace

const Family& repvgg_family() {
  static const RepVgg family;
  return family;
}

}  // namespace vkvision::models
