// ConvNeXt: stem conv (kernel = stride = patch) -> LayerNorm; stages of blocks
//   x + gamma * fc2(gelu(fc1(LN(dwconv7x7(x)))))
// with LayerNorm -> conv 2x2/s2 between stages; head: mean over H,W -> LayerNorm -> linear.
// All LayerNorms use eps 1e-6 (reference: facebookresearch/ConvNeXt models/convnext.py).
// ConvNeXt V2 (facebookresearch/ConvNeXt-V2 models/convnextv2.py, timm's convnextv2_*): no layer scale,
// and Global Response Normalisation after the GELU, GRN(x) = x + gamma * x * N + beta with
// N = G / (mean_c G + 1e-6), G each channel's L2 norm over H and W. Built as
//   s = grn_scale(spatial_l2_norm(x)); channel_gate(x, s); channel_affine(shift beta)
// which the passes turn into fc2's input scale and bias (ops/grn.h).
#include "models/convnext.h"

#include "vkvision/error.h"

namespace vkvision::models {
namespace {

using ir::HostTensor;
using ir::Layer;
using ir::OpKind;

constexpr float kEps = 1e-6f;

struct Config {
  std::vector<int64_t> depths;
  std::vector<int64_t> dims;
  int64_t in_chans = 3;
  int64_t patch = 4;
  int64_t classes = 1000;
  bool conv_mlp = false;    // timm atto/femto/pico: 1x1 convs, weights [out, in, 1, 1]
  bool layer_scale = true;  // gamma present
  bool gamma_3d = false;    // torchvision's layer_scale [C, 1, 1]
  bool grn = false;         // ConvNeXt V2

  std::string describe() const {
    auto join = [](const std::vector<int64_t>& v) {
      std::string s;
      for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
      return s;
    };
    return "depths " + join(depths) + " dims " + join(dims) + " patch " + std::to_string(patch) +
           " in_chans " + std::to_string(in_chans) + " classes " + std::to_string(classes) +
           (conv_mlp ? " conv-mlp" : "") + (grn ? " grn" : "");
  }
  bool same_architecture(const Config& other) const {
    return depths == other.depths && dims == other.dims && conv_mlp == other.conv_mlp && grn == other.grn;
  }
};

struct Preset {
  const char* name;
  std::vector<int64_t> depths, dims;
  bool conv_mlp;
  bool grn = false;           // ConvNeXt V2
  uint32_t input_size = 224;  // timm's fine-tunes at 384 and 512 evaluate at crop_pct 1
};

const std::vector<Preset>& preset_table() {
  static const std::vector<Preset> table = {
      {"convnext_atto", {2, 2, 6, 2}, {40, 80, 160, 320}, true},
      {"convnext_femto", {2, 2, 6, 2}, {48, 96, 192, 384}, true},
      {"convnext_pico", {2, 2, 6, 2}, {64, 128, 256, 512}, true},
      {"convnext_nano", {2, 2, 8, 2}, {80, 160, 320, 640}, false},
      {"convnext_tiny", {3, 3, 9, 3}, {96, 192, 384, 768}, false},
      {"convnext_small", {3, 3, 27, 3}, {96, 192, 384, 768}, false},
      {"convnext_base", {3, 3, 27, 3}, {128, 256, 512, 1024}, false},
      {"convnext_large", {3, 3, 27, 3}, {192, 384, 768, 1536}, false},
      {"convnext_xlarge", {3, 3, 27, 3}, {256, 512, 1024, 2048}, false},
      // ConvNeXt V2 (timm: atto to nano with conv_mlp).
      {"convnextv2_atto", {2, 2, 6, 2}, {40, 80, 160, 320}, true, true},
      {"convnextv2_femto", {2, 2, 6, 2}, {48, 96, 192, 384}, true, true},
      {"convnextv2_pico", {2, 2, 6, 2}, {64, 128, 256, 512}, true, true},
      {"convnextv2_nano", {2, 2, 8, 2}, {80, 160, 320, 640}, true, true},
      {"convnextv2_tiny", {3, 3, 9, 3}, {96, 192, 384, 768}, false, true},
      {"convnextv2_small", {3, 3, 27, 3}, {96, 192, 384, 768}, false, true},
      {"convnextv2_base", {3, 3, 27, 3}, {128, 256, 512, 1024}, false, true},
      {"convnextv2_large", {3, 3, 27, 3}, {192, 384, 768, 1536}, false, true},
      {"convnextv2_huge", {3, 3, 27, 3}, {352, 704, 1408, 2816}, false, true},
      {"convnextv2_nano_384", {2, 2, 8, 2}, {80, 160, 320, 640}, true, true, 384},
      {"convnextv2_tiny_384", {3, 3, 9, 3}, {96, 192, 384, 768}, false, true, 384},
      {"convnextv2_base_384", {3, 3, 27, 3}, {128, 256, 512, 1024}, false, true, 384},
      {"convnextv2_large_384", {3, 3, 27, 3}, {192, 384, 768, 1536}, false, true, 384},
      {"convnextv2_huge_384", {3, 3, 27, 3}, {352, 704, 1408, 2816}, false, true, 384},
      {"convnextv2_huge_512", {3, 3, 27, 3}, {352, 704, 1408, 2816}, false, true, 512},
  };
  return table;
}

// Tensor names of the three namings. Each function returns the module prefix (no ".weight").
struct Naming {
  std::string name;
  std::string stem_conv, stem_norm, head_norm, head_fc;
  std::string (*downsample_norm)(int stage);
  std::string (*downsample_conv)(int stage);
  std::string (*block)(int stage, int index);  // prefix ending in '.'
  const char *dwconv, *norm, *fc1, *fc2;       // parts under block()
  std::string (*gamma)(int stage, int index);  // full tensor name
  const char *grn_gamma, *grn_beta;            // V2, under block(); nullptr: no V2 in this naming
  bool grn_4d;                                 // the official [1, 1, 1, C] rather than timm's [C]
};

std::string s(int v) { return std::to_string(v); }

const Naming kOfficial{"official",
                       "downsample_layers.0.0",
                       "downsample_layers.0.1",
                       "norm",
                       "head",
                       [](int i) { return "downsample_layers." + s(i) + ".0"; },
                       [](int i) { return "downsample_layers." + s(i) + ".1"; },
                       [](int st, int b) { return "stages." + s(st) + "." + s(b) + "."; },
                       "dwconv",
                       "norm",
                       "pwconv1",
                       "pwconv2",
                       [](int st, int b) { return "stages." + s(st) + "." + s(b) + ".gamma"; },
                       "grn.gamma",
                       "grn.beta",
                       true};

const Naming kTimm{"timm",
                   "stem.0",
                   "stem.1",
                   "head.norm",
                   "head.fc",
                   [](int i) { return "stages." + s(i) + ".downsample.0"; },
                   [](int i) { return "stages." + s(i) + ".downsample.1"; },
                   [](int st, int b) { return "stages." + s(st) + ".blocks." + s(b) + "."; },
                   "conv_dw",
                   "norm",
                   "mlp.fc1",
                   "mlp.fc2",
                   [](int st, int b) { return "stages." + s(st) + ".blocks." + s(b) + ".gamma"; },
                   "mlp.grn.weight",
                   "mlp.grn.bias",
                   false};

// torchvision: features.0 stem, features.{1,3,5,7} stages, features.{2,4,6} downsampling;
// block = Sequential(dwconv, Permute, LayerNorm, Linear, GELU, Linear, Permute) + layer_scale [C,1,1].
const Naming kTorchvision{
    "torchvision",
    "features.0.0",
    "features.0.1",
    "classifier.0",
    "classifier.2",
    [](int i) { return "features." + s(2 * i) + ".0"; },
    [](int i) { return "features." + s(2 * i) + ".1"; },
    [](int st, int b) { return "features." + s(2 * st + 1) + "." + s(b) + ".block."; },
    "0",
    "2",
    "3",
    "5",
    [](int st, int b) { return "features." + s(2 * st + 1) + "." + s(b) + ".layer_scale"; },
    nullptr,
    nullptr,
    false};

const Naming* detect_naming(const WeightSource& w) {
  if (w.contains("downsample_layers.0.0.weight") && w.contains("stages.0.0.dwconv.weight")) return &kOfficial;
  if (w.contains("stem.0.weight") && w.contains("stages.0.blocks.0.conv_dw.weight")) return &kTimm;
  if (w.contains("features.0.0.weight") && w.contains("features.1.0.block.0.weight")) return &kTorchvision;
  return nullptr;
}

Config infer_config(const WeightSource& w, const Naming& n) {
  Config config;
  const auto& stem = w.shape(n.stem_conv + ".weight");
  if (stem.size() != 4 || stem[2] != stem[3])
    w.fail("tensor '" + n.stem_conv + ".weight' has shape " + ir::shape_string(stem) +
           ", expected a square patch kernel [C, in, p, p]");
  config.in_chans = stem[1];
  config.patch = stem[2];
  for (int stage = 0; w.contains(n.block(stage, 0) + n.dwconv + ".weight"); ++stage) {
    int64_t depth = 0;
    while (w.contains(n.block(stage, static_cast<int>(depth)) + n.dwconv + ".weight")) ++depth;
    config.depths.push_back(depth);
    config.dims.push_back(w.dim(n.block(stage, 0) + n.dwconv + ".weight", 0));
  }
  if (config.depths.empty()) w.fail("no ConvNeXt stages found");
  config.conv_mlp = w.shape(n.block(0, 0) + n.fc1 + ".weight").size() == 4;
  config.layer_scale = w.contains(n.gamma(0, 0));
  config.gamma_3d = config.layer_scale && w.shape(n.gamma(0, 0)).size() == 3;
  // V2 when the first block holds either GRN tensor: one missing is then named as missing.
  config.grn =
      n.grn_gamma && (w.contains(n.block(0, 0) + n.grn_gamma) || w.contains(n.block(0, 0) + n.grn_beta));
  const auto& head = w.shape(n.head_fc + ".weight");
  if (head.size() != 2)
    w.fail("tensor '" + n.head_fc + ".weight' has shape " + ir::shape_string(head) +
           ", expected [classes, features]");
  config.classes = head[0];
  return config;
}

// Builds the layer list, reading each tensor with the shape the configuration implies so that a
// checkpoint that does not fit fails naming the tensor. The Inits are a preset's random weights:
// weights N(0, 0.02), biases 0, LayerNorms at 1 and 0, layer scales 1e-6 (the reference's init).
ir::LayerList build_layers(const WeightSource& w, const Naming& n, const Config& c) {
  ir::LayerList list;
  list.input_channels = static_cast<uint32_t>(c.in_chans);
  std::string current = list.input;
  int counter = 0;
  auto add = [&](Layer layer) {
    layer.output = "t" + std::to_string(counter++);
    if (layer.inputs.empty()) layer.inputs = {current};
    current = layer.output;
    list.layers.push_back(std::move(layer));
    return current;
  };
  auto layer_norm = [&](const std::string& prefix, int64_t channels) {
    Layer layer{.op = OpKind::LayerNorm, .name = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {channels}, Init::ones());
    layer.params["bias"] = w.get(prefix + ".bias", {channels}, Init::zeros());
    layer.eps = kEps;
    add(std::move(layer));
  };
  auto conv = [&](const std::string& prefix, int64_t in, int64_t out, uint32_t kernel, bool nchw) {
    Layer layer{.op = OpKind::Conv2d, .name = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {out, in, kernel, kernel}, Init::normal(0.02f));
    layer.params["bias"] = w.get(prefix + ".bias", {out}, Init::zeros());
    layer.kernel_h = layer.kernel_w = layer.stride_h = layer.stride_w = kernel;
    layer.input_nchw = nchw;
    add(std::move(layer));
  };
  auto linear = [&](const std::string& prefix, int64_t in, int64_t out, bool conv_form) {
    Layer layer{.op = OpKind::Linear, .name = prefix};
    ir::Shape shape = conv_form ? ir::Shape{out, in, 1, 1} : ir::Shape{out, in};
    HostTensor weight = w.get(prefix + ".weight", shape, Init::normal(0.02f));
    weight.shape = {out, in};
    layer.params["weight"] = weight;
    layer.params["bias"] = w.get(prefix + ".bias", {out}, Init::zeros());
    add(std::move(layer));
  };

  // V2's GRN on the current [N, H, W, C] map. The reference initialises gamma and beta to zeros (GRN
  // the identity); a preset's are small and random instead, so that presets exercise the GRN path.
  auto global_response_norm = [&](const std::string& prefix, int64_t channels) {
    const ir::Shape shape = n.grn_4d ? ir::Shape{1, 1, 1, channels} : ir::Shape{channels};
    HostTensor gamma = w.get(prefix + n.grn_gamma, shape, Init::normal(0.1f));
    HostTensor beta = w.get(prefix + n.grn_beta, shape, Init::normal(0.02f));
    gamma.shape = beta.shape = {channels};
    const std::string map = current;
    add(Layer{.op = OpKind::SpatialL2Norm, .name = prefix + "grn.norms"});
    Layer scale{.op = OpKind::GrnScale, .name = prefix + n.grn_gamma};
    scale.params["gamma"] = gamma;
    scale.eps = kEps;
    const std::string scales = add(std::move(scale));
    add(Layer{.op = OpKind::ChannelGate, .name = prefix + "grn", .inputs = {map, scales}});
    Layer shift{.op = OpKind::ChannelAffine, .name = prefix + n.grn_beta};
    shift.params["scale"] = HostTensor::from({channels}, std::vector<float>(channels, 1.0f));
    shift.params["shift"] = beta;
    add(std::move(shift));
  };

  conv(n.stem_conv, c.in_chans, c.dims[0], static_cast<uint32_t>(c.patch), true);
  layer_norm(n.stem_norm, c.dims[0]);
  for (int stage = 0; stage < static_cast<int>(c.depths.size()); ++stage) {
    const int64_t dim = c.dims[stage];
    if (stage > 0) {
      layer_norm(n.downsample_norm(stage), c.dims[stage - 1]);
      conv(n.downsample_conv(stage), c.dims[stage - 1], dim, 2, false);
    }
    for (int b = 0; b < c.depths[stage]; ++b) {
      const std::string prefix = n.block(stage, b);
      const std::string block_input = current;
      Layer dw{.op = OpKind::DepthwiseConv2d, .name = prefix + n.dwconv};
      dw.params["weight"] = w.get(prefix + n.dwconv + ".weight", {dim, 1, 7, 7}, Init::normal(0.02f));
      dw.params["bias"] = w.get(prefix + n.dwconv + ".bias", {dim}, Init::zeros());
      dw.kernel_h = dw.kernel_w = 7;
      dw.pad_h = dw.pad_w = 3;
      dw.groups = static_cast<uint32_t>(dim);
      add(std::move(dw));
      layer_norm(prefix + n.norm, dim);
      linear(prefix + n.fc1, dim, 4 * dim, c.conv_mlp);
      add(Layer{.op = OpKind::Gelu, .name = prefix + "gelu"});
      if (c.grn) global_response_norm(prefix, 4 * dim);
      linear(prefix + n.fc2, 4 * dim, dim, c.conv_mlp);
      if (c.layer_scale) {
        Layer scale{.op = OpKind::ChannelAffine, .name = n.gamma(stage, b)};
        const ir::Shape gamma_shape = c.gamma_3d ? ir::Shape{dim, 1, 1} : ir::Shape{dim};
        HostTensor gamma = w.get(n.gamma(stage, b), gamma_shape, Init::constant(1e-6f));
        gamma.shape = {dim};
        scale.params["scale"] = gamma;
        add(std::move(scale));
      }
      add(Layer{.op = OpKind::Add, .name = prefix + "residual", .inputs = {current, block_input}});
    }
  }
  add(Layer{.op = OpKind::MeanPool, .name = "global_pool"});
  layer_norm(n.head_norm, c.dims.back());
  linear(n.head_fc, c.dims.back(), c.classes, false);
  list.output = current;
  return list;
}

class ConvNext final : public Family {
 public:
  std::string name() const override { return "convnext"; }

  bool matches(const WeightSource& weights) const override { return detect_naming(weights) != nullptr; }

  BuiltModel build(const WeightSource& weights, const std::string& preset) const override {
    const Naming* naming = detect_naming(weights);
    if (!naming) weights.fail("not a ConvNeXt checkpoint");
    const Config config = infer_config(weights, *naming);
    const Preset* variant = nullptr;  // the first (224) preset of this architecture
    for (const Preset& p : preset_table())
      if (!variant && preset_config(p).same_architecture(config)) variant = &p;
    if (!preset.empty()) {
      const Preset& wanted = find_preset(preset);
      if (!preset_config(wanted).same_architecture(config))
        weights.fail("holds ConvNeXt " + config.describe() + ", which is not preset " + preset + " (" +
                     preset_config(wanted).describe() + ")");
      variant = &wanted;
    }
    return finish(weights, *naming, config, variant ? variant->name : "custom",
                  variant ? variant->input_size : 224);
  }

  BuiltModel build_preset(const WeightSource& weights, const std::string& preset) const override {
    const Preset& p = find_preset(preset);
    return finish(weights, kTimm, preset_config(p), p.name, p.input_size);
  }

  std::vector<PresetInfo> presets() const override {
    std::vector<PresetInfo> result;
    for (const Preset& p : preset_table()) {
      std::string description = preset_config(p).describe();
      if (p.input_size != 224) description += " input " + std::to_string(p.input_size);
      result.push_back({p.name, p.grn ? "convnext_v2" : "convnext", description});
    }
    return result;
  }

 private:
  static Config preset_config(const Preset& p) {
    return Config{
        .depths = p.depths, .dims = p.dims, .conv_mlp = p.conv_mlp, .layer_scale = !p.grn, .grn = p.grn};
  }

  static BuiltModel finish(const WeightSource& weights, const Naming& naming, const Config& config,
                           const std::string& variant, uint32_t input_size) {
    BuiltModel model;
    model.layers = build_layers(weights, naming, config);
    // timm's eval defaults for ConvNeXt at 224 (crop_pct 0.875, bicubic, ImageNet mean/std); its V2
    // fine-tunes at 384 and 512 evaluate the whole image (crop_pct 1).
    Preprocessing defaults;
    defaults.input_size = input_size;
    if (input_size != 224) defaults.crop_pct = 1.0f;
    defaults.channels = static_cast<uint32_t>(config.in_chans);
    if (config.in_chans != 3)
      defaults.mean.assign(config.in_chans, 0.5f), defaults.std.assign(config.in_chans, 0.5f);
    model.info = model_info(weights, config.grn ? "convnext_v2" : "convnext", variant, naming.name,
                            config.describe(), config.classes, defaults);
    return model;
  }

  static const Preset& find_preset(const std::string& name) {
    for (const Preset& p : preset_table())
      if (name == p.name) return p;
    throw InputError("unknown ConvNeXt preset '" + name + "'");
  }
};

}  // namespace

const Family& convnext_family() {
  static const ConvNext family;
  return family;
}

}  // namespace vkvision::models
