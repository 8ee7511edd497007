// The all-MLP vision networks of timm's mlp_mixer.py: MLP-Mixer, gMixer, ResMLP (also in the official
// facebookresearch/deit resmlp_models.py naming) and gMLP. Each is a patch stem (conv p x p, stride p)
// to T = (S / p)^2 tokens of C channels, blocks that mix the tokens and then the channels, a final
// norm, the mean over tokens and a linear head. Token mixing is TokenLinear on the NHWC map in place
// (ops/token_linear_op.cpp): no transposes. Blocks (norms LayerNorm eps 1e-6 unless said):
//   Mixer   x + fc2_t(gelu(fc1_t(LN(x))))      [T -> C/2 -> T]; x + fc2(gelu(fc1(LN(x))))     [C -> 4C -> C]
//   gMixer  as Mixer with GluMlp (SiLU): fc1's output halves a, b give a * silu(b); token ratio 1, channel 4
//   ResMLP  x + ls1 * lin_t(Aff1(x))            [T -> T];     x + ls2 * fc2(gelu(fc1(Aff2(x))))
//           with Aff(x) = alpha * x + beta; the final norm is an Affine too
//   gMLP    x + fc2(u * proj_t(LN'(v)))  where u, v = halves of gelu(fc1(LN(x))), LN' eps 1e-5
// The gated halves are built as two layers reading the halves of fc1's weight, and the product as
// TokenLinear's gate epilogue (token axis) or a Multiply (channels). The passes fold ResMLP's Affines
// and layer scales into the linears beside them and fuse GELU and the residuals into the GEMMs.
#include "models/mlp_mixer.h"

#include <cmath>
#include <optional>

#include "vkvision/error.h"

namespace vkvision::models {
namespace {

using ir::HostTensor;
using ir::Layer;
using ir::OpKind;

enum class Kind { Mixer, GMixer, ResMlp, GMlp };

const char* family_name(Kind kind) {
  switch (kind) {
    case Kind::Mixer: return "mlp_mixer";
    case Kind::GMixer: return "gmixer";
    case Kind::ResMlp: return "resmlp";
    case Kind::GMlp: return "gmlp";
  }
  return "?";
}

struct Config {
  Kind kind = Kind::Mixer;
  int64_t dim = 0, depth = 0, patch = 16, grid = 14, in_chans = 3, classes = 1000;
  int64_t token_hidden = 0;    // Mixer/gMixer: fc1_t's outputs (gMixer: both halves)
  int64_t channel_hidden = 0;  // fc1's outputs (gMixer, gMLP: both halves)

  int64_t tokens() const { return grid * grid; }
  std::string describe() const {
    std::string text = "dim " + std::to_string(dim) + " depth " + std::to_string(depth) + " patch " +
                       std::to_string(patch) + " tokens " + std::to_string(tokens());
    if (token_hidden) text += " token_hidden " + std::to_string(token_hidden);
    return text + " channel_hidden " + std::to_string(channel_hidden) + " in_chans " +
           std::to_string(in_chans) + " classes " + std::to_string(classes);
  }
  bool same_architecture(const Config& o) const {
    return kind == o.kind && dim == o.dim && depth == o.depth && patch == o.patch && grid == o.grid &&
           token_hidden == o.token_hidden && channel_hidden == o.channel_hidden;
  }
};

struct Preset {
  const char* name;
  Kind kind;
  int64_t dim, depth, patch;
};

const std::vector<Preset>& preset_table() {
  static const std::vector<Preset> table = {
      {"mixer_s32_224", Kind::Mixer, 512, 8, 32},   {"mixer_s16_224", Kind::Mixer, 512, 8, 16},
      {"mixer_b32_224", Kind::Mixer, 768, 12, 32},  {"mixer_b16_224", Kind::Mixer, 768, 12, 16},
      {"mixer_l32_224", Kind::Mixer, 1024, 24, 32}, {"mixer_l16_224", Kind::Mixer, 1024, 24, 16},
      {"gmixer_12_224", Kind::GMixer, 384, 12, 16}, {"gmixer_24_224", Kind::GMixer, 384, 24, 16},
      {"resmlp_12_224", Kind::ResMlp, 384, 12, 16}, {"resmlp_24_224", Kind::ResMlp, 384, 24, 16},
      {"resmlp_36_224", Kind::ResMlp, 384, 36, 16}, {"resmlp_big_24_224", Kind::ResMlp, 768, 24, 8},
      {"gmlp_ti16_224", Kind::GMlp, 128, 30, 16},   {"gmlp_s16_224", Kind::GMlp, 256, 30, 16},
      {"gmlp_b16_224", Kind::GMlp, 512, 30, 16},
  };
  return table;
}

// timm's mlp_ratio per kind: Mixer (0.5, 4), gMixer (1, 4), ResMLP 4, gMLP 6 (tokens, channels).
Config preset_config(const Preset& p) {
  Config c{.kind = p.kind, .dim = p.dim, .depth = p.depth, .patch = p.patch, .grid = 224 / p.patch};
  c.token_hidden = p.kind == Kind::Mixer ? p.dim / 2 : p.kind == Kind::GMixer ? p.dim : 0;
  c.channel_hidden = (p.kind == Kind::GMlp ? 6 : 4) * p.dim;
  return c;
}

// Tensor names: timm's for all four kinds; deit's official ResMLP release.
struct Naming {
  std::string name, stem, tokens, channels;  // tokens/channels: the two mixers under blocks.N.
  const char *ls1, *ls2;                     // ResMLP's layer scales under blocks.N.
};
const Naming kTimm{"timm", "stem.proj", "mlp_tokens", "mlp_channels", "ls1", "ls2"};
const Naming kDeit{"official", "patch_embed.proj", "attn", "mlp", "gamma_1", "gamma_2"};

std::string block(int64_t index) { return "blocks." + std::to_string(index) + "."; }

struct Detected {
  Kind kind;
  const Naming* naming;
};

std::optional<Detected> detect(const WeightSource& w) {
  if (w.contains("blocks.0.mlp_channels.gate.proj.weight") && w.contains("stem.proj.weight"))
    return Detected{Kind::GMlp, &kTimm};
  if (w.contains("blocks.0.linear_tokens.weight") && w.contains("blocks.0.norm1.alpha"))
    return Detected{Kind::ResMlp, &kTimm};
  if (w.contains("blocks.0.attn.weight") && w.contains("blocks.0.norm1.alpha") &&
      w.contains("blocks.0.gamma_1"))
    return Detected{Kind::ResMlp, &kDeit};
  if (w.contains("blocks.0.mlp_tokens.fc1.weight") && w.contains("blocks.0.norm1.weight") &&
      w.contains("stem.proj.weight")) {
    // GluMlp's fc2 reads half of what fc1 makes; Mlp's reads all of it.
    const int64_t made = w.dim("blocks.0.mlp_tokens.fc1.weight", 0),
                  read = w.dim("blocks.0.mlp_tokens.fc2.weight", 1);
    return Detected{read * 2 == made ? Kind::GMixer : Kind::Mixer, &kTimm};
  }
  return std::nullopt;
}

Config infer_config(const WeightSource& w, const Detected& d) {
  Config c{.kind = d.kind};
  const std::string stem = d.naming->stem + ".weight";
  const auto& stem_shape = w.shape(stem);
  if (stem_shape.size() != 4 || stem_shape[2] != stem_shape[3] || stem_shape[2] <= 0)
    w.fail("tensor '" + stem + "' has shape " + ir::shape_string(stem_shape) +
           ", expected a square patch kernel [C, in, p, p]");
  c.dim = stem_shape[0];
  c.in_chans = stem_shape[1];
  c.patch = stem_shape[2];
  const std::string depth_marker = d.kind == Kind::GMlp     ? "norm.weight"
                                   : d.kind == Kind::ResMlp ? "norm2.alpha"
                                                            : "norm2.weight";
  while (w.contains(block(c.depth) + depth_marker)) ++c.depth;
  if (c.depth == 0) w.fail("no " + std::string(family_name(d.kind)) + " blocks found");
  // The token count T: the input width of the first token-mixing weight ([T', T]).
  const std::string token_weight = d.kind == Kind::GMlp     ? "blocks.0.mlp_channels.gate.proj.weight"
                                   : d.kind != Kind::ResMlp ? "blocks.0.mlp_tokens.fc1.weight"
                                   : d.naming == &kTimm     ? "blocks.0.linear_tokens.weight"
                                                            : "blocks.0.attn.weight";
  const int64_t tokens = w.dim(token_weight, 1);
  c.grid = std::llround(std::sqrt(double(tokens)));
  if (c.grid <= 0 || c.grid * c.grid != tokens)
    w.fail("tensor '" + token_weight + "' mixes " + std::to_string(tokens) +
           " tokens, which is no square grid of patches");
  // The input size the token count fixes, grid * patch, within what any classifier takes (and the
  // 4096 that metadata may ask for, models/family.cpp), before anything is sized from it.
  if (c.patch > 4096 || c.grid * c.patch > 4096)
    w.fail("tensor '" + token_weight + "' with patch " + std::to_string(c.patch) + " implies input size " +
           std::to_string(c.grid) + " x " + std::to_string(c.patch) + ", past 4096");
  if (d.kind == Kind::Mixer || d.kind == Kind::GMixer)
    c.token_hidden = w.dim("blocks.0.mlp_tokens.fc1.weight", 0);
  c.channel_hidden = w.dim(block(0) + d.naming->channels + ".fc1.weight", 0);
  // Gated MLPs split fc1's outputs in halves: an odd count would leave a row unread.
  if ((d.kind == Kind::GMixer || d.kind == Kind::GMlp) && c.channel_hidden % 2 != 0)
    w.fail("tensor '" + block(0) + d.naming->channels + ".fc1.weight' has " +
           std::to_string(c.channel_hidden) + " outputs, which a gated MLP cannot split in halves");
  if (d.kind == Kind::GMixer && c.token_hidden % 2 != 0)
    w.fail("tensor 'blocks.0.mlp_tokens.fc1.weight' has " + std::to_string(c.token_hidden) +
           " outputs, which a gated MLP cannot split in halves");
  const auto& head = w.shape("head.weight");
  if (head.size() != 2)
    w.fail("tensor 'head.weight' has shape " + ir::shape_string(head) + ", expected [classes, C]");
  c.classes = head[0];
  return c;
}

// Rows [begin, begin + count) of a [rows, ...] tensor (one half of a gated layer's weight or bias).
HostTensor rows(const HostTensor& tensor, int64_t begin, int64_t count) {
  const int64_t row = tensor.numel() / tensor.shape[0];
  ir::Shape shape = tensor.shape;
  shape[0] = count;
  return HostTensor::from(
      shape, std::vector<float>(tensor.values() + begin * row, tensor.values() + (begin + count) * row));
}

class Builder {
 public:
  Builder(const WeightSource& w, const Naming& n, const Config& c) : w_(w), n_(n), c_(c) {
    list_.input_channels = static_cast<uint32_t>(c.in_chans);
    current_ = list_.input;
  }

  ir::LayerList build() {
    Layer stem{.op = OpKind::Conv2d, .name = n_.stem};
    stem.params["weight"] =
        w_.get(n_.stem + ".weight", {c_.dim, c_.in_chans, c_.patch, c_.patch}, Init::normal());
    stem.params["bias"] = w_.get(n_.stem + ".bias", {c_.dim}, Init::zeros());
    stem.kernel_h = stem.kernel_w = stem.stride_h = stem.stride_w = static_cast<uint32_t>(c_.patch);
    stem.input_nchw = true;
    add(std::move(stem));
    for (int64_t b = 0; b < c_.depth; ++b) {
      const std::string prefix = block(b);
      switch (c_.kind) {
        case Kind::Mixer:
        case Kind::GMixer: mixer_block(prefix); break;
        case Kind::ResMlp: resmlp_block(prefix); break;
        case Kind::GMlp: gmlp_block(prefix); break;
      }
    }
    if (c_.kind == Kind::ResMlp)
      affine("norm");
    else
      layer_norm("norm", c_.dim, 1e-6f);
    add(Layer{.op = OpKind::MeanPool, .name = "global_pool"});
    linear("head", c_.dim, c_.classes);
    list_.output = current_;
    return std::move(list_);
  }

 private:
  std::string add(Layer layer) {
    layer.output = "t" + std::to_string(counter_++);
    if (layer.inputs.empty()) layer.inputs = {current_};
    current_ = layer.output;
    list_.layers.push_back(std::move(layer));
    return current_;
  }
  void residual(const std::string& name, const std::string& skip) {
    add(Layer{.op = OpKind::Add, .name = name, .inputs = {current_, skip}});
  }
  void layer_norm(const std::string& prefix, int64_t channels, float eps) {
    Layer layer{.op = OpKind::LayerNorm, .name = prefix, .eps = eps};
    layer.params["weight"] = w_.get(prefix + ".weight", {channels}, Init::ones());
    layer.params["bias"] = w_.get(prefix + ".bias", {channels}, Init::zeros());
    add(std::move(layer));
  }
  // ResMLP's Affine: timm's alpha/beta are [1, 1, C], deit's [C].
  void affine(const std::string& prefix) {
    const ir::Shape shape = &n_ == &kTimm ? ir::Shape{1, 1, c_.dim} : ir::Shape{c_.dim};
    Layer layer{.op = OpKind::ChannelAffine, .name = prefix};
    HostTensor alpha = w_.get(prefix + ".alpha", shape, Init::ones());
    HostTensor beta = w_.get(prefix + ".beta", shape, Init::zeros());
    alpha.shape = beta.shape = {c_.dim};
    layer.params["scale"] = alpha;
    layer.params["shift"] = beta;
    add(std::move(layer));
  }
  void layer_scale(const std::string& name) {
    Layer layer{.op = OpKind::ChannelAffine, .name = name};
    layer.params["scale"] = w_.get(name, {c_.dim}, Init::uniform(0.1f, 1.0f));
    add(std::move(layer));
  }
  // A Linear over the channels reading `input` (default: the current tensor), optionally only the
  // rows [begin, begin + count) of the checkpoint's weight and bias.
  std::string linear(const std::string& prefix, int64_t in, int64_t out, ops::Activation activation = {},
                     int64_t begin = 0, int64_t count = -1, const std::string& input = {}) {
    const HostTensor weight = w_.get(prefix + ".weight", {out, in}, Init::normal());
    const HostTensor bias = w_.get(prefix + ".bias", {out}, Init::normal(0.02f));
    Layer layer{.op = OpKind::Linear, .name = prefix};
    if (!input.empty()) layer.inputs = {input};
    layer.params["weight"] = count < 0 ? weight : rows(weight, begin, count);
    layer.params["bias"] = count < 0 ? bias : rows(bias, begin, count);
    layer.activation = activation;
    return add(std::move(layer));
  }
  // A TokenLinear: [out, in] over the tokens, its output a 1 x out grid unless it restores the map.
  std::string token_linear(const std::string& prefix, int64_t in, int64_t out,
                           ops::Activation activation = {}, int64_t begin = 0, int64_t count = -1,
                           const std::string& gate = {}) {
    const HostTensor weight = w_.get(prefix + ".weight", {out, in}, Init::normal());
    const HostTensor bias = w_.get(prefix + ".bias", {out}, Init::normal(0.02f));
    Layer layer{.op = OpKind::TokenLinear, .name = prefix};
    layer.params["weight"] = count < 0 ? weight : rows(weight, begin, count);
    layer.params["bias"] = count < 0 ? bias : rows(bias, begin, count);
    const int64_t made = count < 0 ? out : count;
    if (made != c_.tokens()) {  // a hidden token layer: a 1 x made grid
      layer.output_h = 1;
      layer.output_w = static_cast<uint32_t>(made);
    } else if (in != c_.tokens()) {  // back from the hidden tokens to the patch grid
      layer.output_h = layer.output_w = static_cast<uint32_t>(c_.grid);
    }
    layer.activation = activation;
    if (!gate.empty()) {
      layer.gate = true;
      layer.inputs = {current_, gate};
    }
    return add(std::move(layer));
  }

  void mixer_block(const std::string& prefix) {
    const bool glu = c_.kind == Kind::GMixer;
    const int64_t t = c_.tokens(), th = c_.token_hidden, ch = c_.channel_hidden;
    std::string skip = current_;
    layer_norm(prefix + "norm1", c_.dim, 1e-6f);
    const std::string tokens = prefix + n_.tokens;
    if (glu) {  // a * silu(b): b first, then a with b as its gate
      const std::string normed = current_;
      const std::string gate = token_linear(tokens + ".fc1", t, th, ops::Activation::Silu, th / 2, th / 2);
      current_ = normed;
      token_linear(tokens + ".fc1", t, th, {}, 0, th / 2, gate);
      token_linear(tokens + ".fc2", th / 2, t);
    } else {
      token_linear(tokens + ".fc1", t, th);
      add(Layer{.op = OpKind::Gelu, .name = tokens + ".act"});
      token_linear(tokens + ".fc2", th, t);
    }
    residual(prefix + "token_residual", skip);
    skip = current_;
    layer_norm(prefix + "norm2", c_.dim, 1e-6f);
    const std::string channels = prefix + n_.channels;
    if (glu) {
      const std::string normed = current_;
      const std::string b = linear(channels + ".fc1", c_.dim, ch, ops::Activation::Silu, ch / 2, ch / 2);
      const std::string a = linear(channels + ".fc1", c_.dim, ch, {}, 0, ch / 2, normed);
      add(Layer{.op = OpKind::Multiply, .name = channels + ".gate", .inputs = {a, b}});
      linear(channels + ".fc2", ch / 2, c_.dim);
    } else {
      linear(channels + ".fc1", c_.dim, ch);
      add(Layer{.op = OpKind::Gelu, .name = channels + ".act"});
      linear(channels + ".fc2", ch, c_.dim);
    }
    residual(prefix + "channel_residual", skip);
  }

  void resmlp_block(const std::string& prefix) {
    const int64_t t = c_.tokens();
    std::string skip = current_;
    affine(prefix + "norm1");
    token_linear(prefix + (&n_ == &kTimm ? "linear_tokens" : n_.tokens), t, t);
    layer_scale(prefix + n_.ls1);
    residual(prefix + "token_residual", skip);
    skip = current_;
    affine(prefix + "norm2");
    linear(prefix + n_.channels + ".fc1", c_.dim, c_.channel_hidden);
    add(Layer{.op = OpKind::Gelu, .name = prefix + n_.channels + ".act"});
    linear(prefix + n_.channels + ".fc2", c_.channel_hidden, c_.dim);
    layer_scale(prefix + n_.ls2);
    residual(prefix + "channel_residual", skip);
  }

  void gmlp_block(const std::string& prefix) {
    const int64_t t = c_.tokens(), h = c_.channel_hidden;
    const std::string skip = current_;
    layer_norm(prefix + "norm", c_.dim, 1e-6f);
    const std::string mlp = prefix + "mlp_channels", normed = current_;
    // u = the first half of gelu(fc1(x)), v the second; v is normalised and mixed over the tokens.
    const std::string u = linear(mlp + ".fc1", c_.dim, h, ops::Activation::Gelu, 0, h / 2);
    linear(mlp + ".fc1", c_.dim, h, ops::Activation::Gelu, h / 2, h / 2, normed);
    layer_norm(mlp + ".gate.norm", h / 2, 1e-5f);
    token_linear(mlp + ".gate.proj", t, t, {}, 0, -1, u);
    linear(mlp + ".fc2", h / 2, c_.dim);
    residual(prefix + "residual", skip);
  }

  const WeightSource& w_;
  const Naming& n_;
  const Config& c_;
  ir::LayerList list_;
  std::string current_;
  int counter_ = 0;
};

class MlpMixer final : public Family {
 public:
  std::string name() const override { return "mlp_mixer"; }
  bool matches(const WeightSource& weights) const override { return detect(weights).has_value(); }

  BuiltModel build(const WeightSource& weights, const std::string& preset) const override {
    const auto detected = detect(weights);
    if (!detected) weights.fail("not an MLP-Mixer, gMixer, ResMLP or gMLP checkpoint");
    const Config config = infer_config(weights, *detected);
    const Preset* variant = nullptr;
    for (const Preset& p : preset_table())
      if (!variant && preset_config(p).same_architecture(config)) variant = &p;
    if (!preset.empty()) {
      const Preset& wanted = find_preset(preset);
      if (!preset_config(wanted).same_architecture(config))
        weights.fail("holds " + std::string(family_name(config.kind)) + " " + config.describe() +
                     ", which is not preset " + preset + " (" + preset_config(wanted).describe() + ")");
      variant = &wanted;
    }
    return finish(weights, *detected->naming, config, variant ? variant->name : "custom");
  }

  BuiltModel build_preset(const WeightSource& weights, const std::string& preset) const override {
    const Preset& p = find_preset(preset);
    return finish(weights, kTimm, preset_config(p), p.name);
  }

  std::vector<PresetInfo> presets() const override {
    std::vector<PresetInfo> result;
    for (const Preset& p : preset_table())
      result.push_back({p.name, family_name(p.kind), preset_config(p).describe()});
    return result;
  }

 private:
  static BuiltModel finish(const WeightSource& weights, const Naming& naming, const Config& config,
                           const std::string& variant) {
    BuiltModel model;
    model.layers = Builder(weights, naming, config).build();
    // timm's eval defaults: bicubic, crop_pct 0.875; Mixer and gMLP use mean = std = 0.5 (its
    // _cfg default), gMixer and ResMLP ImageNet's.
    Preprocessing defaults;
    defaults.input_size = static_cast<uint32_t>(config.grid * config.patch);
    defaults.channels = static_cast<uint32_t>(config.in_chans);
    if (config.kind == Kind::Mixer || config.kind == Kind::GMlp || config.in_chans != 3) {
      defaults.mean.assign(config.in_chans, 0.5f);
      defaults.std.assign(config.in_chans, 0.5f);
    }
    model.info = model_info(weights, family_name(config.kind), variant, naming.name, config.describe(),
                            config.classes, defaults);
    return model;
  }

  static const Preset& find_preset(const std::string& name) {
    for (const Preset& p : preset_table())
      if (name == p.name) return p;
    throw InputError("unknown MLP-Mixer preset '" + name + "'");
  }
};

}  // namespace

const Family& mlp_mixer_family() {
  static const MlpMixer family;
  return family;
}

}  // namespace vkvision::models
