// InceptionNeXt (sail-sg/inceptionnext models/inceptionnext.py; timm inception_next.py, same names):
// stem conv 4x4/s4 -> BatchNorm; stages 1..3 start with BatchNorm -> conv 2x2/s2; blocks (MetaNeXt)
//   x + gamma * fc2(gelu(fc1(BN(InceptionDWConv2d(x)))))      (fc1, fc2 1x1 convolutions)
// where InceptionDWConv2d keeps the first C - 3g channels and runs depthwise 3x3, 1x11 and 11x1 on
// the next three slices of g = int(C * 0.125) (atto: 1x9 / 9x1, g = int(C / 4)); head (MlpHead):
// mean over H,W -> linear C -> 3C -> GELU -> LayerNorm (eps 1e-6) -> linear. BatchNorm2d eps 1e-5.
// The layer list keeps every BatchNorm; the passes fold the stem's into its conv, a block's into fc1
// and a downsample's into the 2x2 conv after it (fold_affine_into_consumer).
#include "models/inceptionnext.h"

#include "vkvision/error.h"

namespace vkvision::models {
namespace {

using ir::HostTensor;
using ir::Layer;
using ir::OpKind;

constexpr float kBatchNormEps = 1e-5f;  // nn.BatchNorm2d's default
constexpr float kHeadNormEps = 1e-6f;   // MlpHead's LayerNorm

std::string join(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + std::to_string(values[i]);
  return text;
}

struct Config {
  std::vector<int64_t> depths, dims;
  std::vector<int64_t> branch;      // channels per mixer branch, per stage
  std::vector<int64_t> mlp_hidden;  // fc1 width per stage
  int64_t square = 3, band = 11;    // mixer kernels
  int64_t head_hidden = 0, classes = 1000, in_chans = 3, patch = 4;
  bool layer_scale = true;

  std::string describe() const {
    return "depths " + join(depths) + " dims " + join(dims) + " branches " + join(branch) + " kernels " +
           std::to_string(square) + "/" + std::to_string(band) + " mlp " + join(mlp_hidden) + " head " +
           std::to_string(head_hidden) + " classes " + std::to_string(classes);
  }
  bool same_architecture(const Config& o) const {
    return depths == o.depths && dims == o.dims && branch == o.branch && mlp_hidden == o.mlp_hidden &&
           square == o.square && band == o.band && head_hidden == o.head_hidden;
  }
};

struct Preset {
  const char* name;
  std::vector<int64_t> depths, dims;
  int64_t band;
  double branch_ratio;
  uint32_t input_size;
  float crop_pct;  // timm's pretrained configs
};

const std::vector<Preset>& preset_table() {
  static const std::vector<Preset> table = {
      {"inception_next_atto", {2, 2, 6, 2}, {40, 80, 160, 320}, 9, 0.25, 224, 0.875f},
      {"inception_next_tiny", {3, 3, 9, 3}, {96, 192, 384, 768}, 11, 0.125, 224, 0.875f},
      {"inception_next_small", {3, 3, 27, 3}, {96, 192, 384, 768}, 11, 0.125, 224, 0.875f},
      {"inception_next_base", {3, 3, 27, 3}, {128, 256, 512, 1024}, 11, 0.125, 224, 0.95f},
      {"inception_next_base_384", {3, 3, 27, 3}, {128, 256, 512, 1024}, 11, 0.125, 384, 1.0f},
  };
  return table;
}

// The reference's defaults: mlp_ratios (4, 4, 4, 3), head mlp_ratio 3, gc = int(C * branch_ratio).
Config preset_config(const Preset& p) {
  Config c{.depths = p.depths, .dims = p.dims, .band = p.band};
  const int64_t ratios[] = {4, 4, 4, 3};
  for (size_t i = 0; i < p.dims.size(); ++i) {
    c.branch.push_back(static_cast<int64_t>(p.dims[i] * p.branch_ratio));
    c.mlp_hidden.push_back(ratios[i] * p.dims[i]);
  }
  c.head_hidden = 3 * p.dims.back();
  return c;
}

const Preset& find_preset(const std::string& name) {
  for (const Preset& p : preset_table())
    if (name == p.name) return p;
  throw InputError("unknown InceptionNeXt preset '" + name + "'");
}

std::string s(int v) { return std::to_string(v); }
std::string block_name(int stage, int index) { return "stages." + s(stage) + ".blocks." + s(index) + "."; }
std::string downsample_name(int stage, int part) { return "stages." + s(stage) + ".downsample." + s(part); }

bool is_inceptionnext(const WeightSource& w) {
  return w.contains("stem.0.weight") && w.contains(block_name(0, 0) + "token_mixer.dwconv_hw.weight");
}

const std::vector<int64_t>& shape_of(const WeightSource& w, const std::string& name, size_t rank,
                                     const char* expected) {
  const auto& shape = w.shape(name);
  if (shape.size() != rank)
    w.fail("tensor '" + name + "' has shape " + ir::shape_string(shape) + ", expected " + expected);
  return shape;
}

// Reads what the tensor shapes say; build_layers then reads every tensor with the shape this
// configuration implies, so a file that disagrees anywhere fails naming the tensor.
Config infer_config(const WeightSource& w) {
  Config c;
  const auto& stem = shape_of(w, "stem.0.weight", 4, "[C, in, p, p]");
  if (stem[2] != stem[3])
    w.fail("tensor 'stem.0.weight' has shape " + ir::shape_string(stem) + ", expected a square patch kernel");
  c.in_chans = stem[1];
  c.patch = stem[2];
  for (int stage = 0; w.contains(block_name(stage, 0) + "token_mixer.dwconv_hw.weight"); ++stage) {
    int64_t depth = 0;
    while (w.contains(block_name(stage, int(depth)) + "token_mixer.dwconv_hw.weight")) ++depth;
    c.depths.push_back(depth);
    c.dims.push_back(stage == 0 ? stem[0]
                                : shape_of(w, downsample_name(stage, 1) + ".weight", 4, "[C, in, 2, 2]")[0]);
    const std::string mixer = block_name(stage, 0) + "token_mixer.";
    const auto& square = shape_of(w, mixer + "dwconv_hw.weight", 4, "[g, 1, k, k]");
    c.branch.push_back(square[0]);
    if (stage == 0) {
      c.square = square[2];
      c.band = shape_of(w, mixer + "dwconv_w.weight", 4, "[g, 1, 1, k]")[3];
    }
    const int64_t dim = c.dims.back();
    if (square[0] <= 0 || 3 * square[0] > dim)
      w.fail("tensor '" + mixer + "dwconv_hw.weight' has " + std::to_string(square[0]) +
             " channels: three branches of " + std::to_string(square[0]) + " do not fit the stage width " +
             std::to_string(dim));
    c.mlp_hidden.push_back(shape_of(w, block_name(stage, 0) + "mlp.fc1.weight", 4, "[hidden, C, 1, 1]")[0]);
  }
  if (c.depths.empty()) w.fail("no InceptionNeXt stages found");
  if (c.square % 2 == 0 || c.band % 2 == 0)
    w.fail("mixer kernels " + std::to_string(c.square) + " and " + std::to_string(c.band) +
           " must be odd (the reference pads kernel // 2 and concatenates same-size branches)");
  c.layer_scale = w.contains(block_name(0, 0) + "gamma");
  c.head_hidden = shape_of(w, "head.fc1.weight", 2, "[hidden, C]")[0];
  c.classes = shape_of(w, "head.fc2.weight", 2, "[classes, hidden]")[0];
  return c;
}

// The Inits are a preset's random weights: weights and biases N(0, 0.02), BatchNorms with non-trivial
// statistics (Init::batch_norm), the head's LayerNorm at 1 and 0.
ir::LayerList build_layers(const WeightSource& w, const Config& c) {
  ir::LayerList list;
  list.input_channels = static_cast<uint32_t>(c.in_chans);
  std::string current = list.input;
  int counter = 0;
  auto add = [&](Layer layer) {
    layer.output = "t" + std::to_string(counter++);
    if (layer.inputs.empty()) layer.inputs = {current};
    current = layer.output;
    list.layers.push_back(std::move(layer));
  };
  auto batch_norm = [&](const std::string& prefix, int64_t channels) {
    Layer bn{.op = OpKind::BatchNorm, .name = prefix};
    for (const char* role : {"weight", "bias", "running_mean", "running_var"})
      bn.params[role] = w.get(prefix + "." + role, {channels}, Init::batch_norm(role));
    bn.eps = kBatchNormEps;
    add(std::move(bn));
  };
  auto conv = [&](const std::string& prefix, int64_t in, int64_t out, uint32_t kernel) {
    Layer layer{.op = OpKind::Conv2d, .name = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {out, in, kernel, kernel}, Init::normal(0.02f));
    layer.params["bias"] = w.get(prefix + ".bias", {out}, Init::normal(0.02f));
    layer.kernel_h = layer.kernel_w = layer.stride_h = layer.stride_w = kernel;
    layer.input_nchw = current == list.input;
    add(std::move(layer));
  };
  // The reference's ConvMlp uses 1x1 convolutions ([out, in, 1, 1]); on NHWC they are linears.
  auto linear = [&](const std::string& prefix, int64_t in, int64_t out, bool conv_form) {
    Layer layer{.op = OpKind::Linear, .name = prefix};
    const ir::Shape shape = conv_form ? ir::Shape{out, in, 1, 1} : ir::Shape{out, in};
    HostTensor weight = w.get(prefix + ".weight", shape, Init::normal(0.02f));
    weight.shape = {out, in};
    layer.params["weight"] = weight;
    layer.params["bias"] = w.get(prefix + ".bias", {out}, Init::normal(0.02f));
    add(std::move(layer));
  };

  conv("stem.0", c.in_chans, c.dims[0], static_cast<uint32_t>(c.patch));
  batch_norm("stem.1", c.dims[0]);
  for (int stage = 0; stage < static_cast<int>(c.depths.size()); ++stage) {
    const int64_t dim = c.dims[stage], g = c.branch[stage];
    if (stage > 0) {
      batch_norm(downsample_name(stage, 0), c.dims[stage - 1]);
      conv(downsample_name(stage, 1), c.dims[stage - 1], dim, 2);
    }
    for (int b = 0; b < c.depths[stage]; ++b) {
      const std::string prefix = block_name(stage, b), mixer = prefix + "token_mixer.";
      const std::string block_input = current;
      Layer mix{.op = OpKind::InceptionDepthwise, .name = prefix + "token_mixer"};
      const std::pair<const char*, ir::Shape> branches[] = {
          {"hw", {g, 1, c.square, c.square}}, {"w", {g, 1, 1, c.band}}, {"h", {g, 1, c.band, 1}}};
      for (const auto& [branch, shape] : branches) {
        mix.params[std::string("weight_") + branch] =
            w.get(mixer + "dwconv_" + branch + ".weight", shape, Init::normal(0.02f));
        mix.params[std::string("bias_") + branch] =
            w.get(mixer + "dwconv_" + branch + ".bias", {g}, Init::normal(0.02f));
      }
      add(std::move(mix));
      batch_norm(prefix + "norm", dim);
      linear(prefix + "mlp.fc1", dim, c.mlp_hidden[stage], true);
      add(Layer{.op = OpKind::Gelu, .name = prefix + "mlp.act"});
      linear(prefix + "mlp.fc2", c.mlp_hidden[stage], dim, true);
      if (c.layer_scale) {
        Layer scale{.op = OpKind::ChannelAffine, .name = prefix + "gamma"};
        // Presets: not the reference's 1e-6 init, which would hide a broken block from any comparison.
        scale.params["scale"] = w.get(prefix + "gamma", {dim}, Init::constant(0.1f));
        add(std::move(scale));
      }
      add(Layer{.op = OpKind::Add, .name = prefix + "residual", .inputs = {current, block_input}});
    }
  }
  add(Layer{.op = OpKind::MeanPool, .name = "head.global_pool"});
  linear("head.fc1", c.dims.back(), c.head_hidden, false);
  add(Layer{.op = OpKind::Gelu, .name = "head.act"});
  Layer norm{.op = OpKind::LayerNorm, .name = "head.norm"};
  norm.params["weight"] = w.get("head.norm.weight", {c.head_hidden}, Init::ones());
  norm.params["bias"] = w.get("head.norm.bias", {c.head_hidden}, Init::zeros());
  norm.eps = kHeadNormEps;
  add(std::move(norm));
  linear("head.fc2", c.head_hidden, c.classes, false);
  list.output = current;
  return list;
}

class InceptionNext final : public Family {
 public:
  std::string name() const override { return "inceptionnext"; }
  bool matches(const WeightSource& weights) const override { return is_inceptionnext(weights); }

  BuiltModel build(const WeightSource& weights, const std::string& preset) const override {
    if (!is_inceptionnext(weights)) weights.fail("not an InceptionNeXt checkpoint");
    const Config config = infer_config(weights);
    const Preset* matched = nullptr;
    for (const Preset& p : preset_table())
      if (!matched && preset_config(p).same_architecture(config)) matched = &p;
    if (!preset.empty()) {
      // base and base_384 share one architecture: the preset named picks the input size.
      const Preset& wanted = find_preset(preset);
      const Config expected = preset_config(wanted);
      if (!expected.same_architecture(config))
        weights.fail("holds InceptionNeXt " + config.describe() + ", which is not preset " + preset + " (" +
                     expected.describe() + ")");
      matched = &wanted;
    }
    return finish(weights, config, matched);
  }

  BuiltModel build_preset(const WeightSource& weights, const std::string& preset) const override {
    const Preset& p = find_preset(preset);
    return finish(weights, preset_config(p), &p);
  }

  std::vector<PresetInfo> presets() const override {
    std::vector<PresetInfo> result;
    for (const Preset& p : preset_table())
      result.push_back(
          {p.name, "inceptionnext", preset_config(p).describe() + " input " + std::to_string(p.input_size)});
    return result;
  }

 private:
  static BuiltModel finish(const WeightSource& weights, const Config& config, const Preset* matched) {
    BuiltModel model;
    model.layers = build_layers(weights, config);
    Preprocessing defaults;  // timm's pretrained configs: bicubic, ImageNet mean/std
    defaults.channels = static_cast<uint32_t>(config.in_chans);
    if (config.in_chans != 3)
      defaults.mean.assign(config.in_chans, 0.5f), defaults.std.assign(config.in_chans, 0.5f);
    if (matched) {
      defaults.input_size = matched->input_size;
      defaults.crop_pct = matched->crop_pct;
    }
    // One naming: timm kept the reference's module names.
    model.info = model_info(weights, "inceptionnext", matched ? matched->name : "custom", "official",
                            config.describe(), config.classes, defaults);
    return model;
  }
};

}  // namespace

const Family& inceptionnext_family() {
  static const InceptionNext family;
  return family;
}

}  // namespace vkvision::models
