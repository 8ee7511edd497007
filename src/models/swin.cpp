// Swin Transformer v1 (pre-norm) and v2 (post-norm, scaled cosine attention, continuous position
// bias). Blocks run as LN -> qkv linear -> fused window attention -> proj (+ residual) and the MLP;
// the position bias of every block is computed here once, from the weights and the window size.
// Semantics follow torchvision (padding to window multiples; no shift along a dimension the window
// covers), which equals the official code at the official resolutions.
#include "models/swin.h"

#include <cmath>

#include "vkvision/error.h"

namespace vkvision::models {
namespace {

using ir::HostTensor;
using ir::Layer;
using ir::OpKind;
using ir::Shape;

std::string s(int v) { return std::to_string(v); }

// Where each tensor lives in one naming. Prefixes have no trailing '.'.
struct Naming {
  std::string name;
  std::string patch_conv, patch_norm, final_norm, head;
  std::string (*block)(int stage, int index);
  // PatchMerging between stage i and i+1.
  std::string (*merge)(int stage);
  const char *norm1, *qkv, *proj, *norm2, *fc1, *fc2;
};

const Naming kTorchvision{"torchvision",
                          "features.0.0",
                          "features.0.2",
                          "norm",
                          "head",
                          [](int st, int b) { return "features." + s(2 * st + 1) + "." + s(b); },
                          [](int st) { return "features." + s(2 * st + 2); },
                          "norm1",
                          "attn.qkv",
                          "attn.proj",
                          "norm2",
                          "mlp.0",
                          "mlp.3"};
// microsoft/Swin-Transformer and older timm: PatchMerging at the end of stage i.
const Naming kOfficial{"official",
                       "patch_embed.proj",
                       "patch_embed.norm",
                       "norm",
                       "head",
                       [](int st, int b) { return "layers." + s(st) + ".blocks." + s(b); },
                       [](int st) { return "layers." + s(st) + ".downsample"; },
                       "norm1",
                       "attn.qkv",
                       "attn.proj",
                       "norm2",
                       "mlp.fc1",
                       "mlp.fc2"};
// Recent timm: PatchMerging at the start of stage i+1, head under head.fc.
const Naming kTimm{"timm",
                   "patch_embed.proj",
                   "patch_embed.norm",
                   "norm",
                   "head.fc",
                   [](int st, int b) { return "layers." + s(st) + ".blocks." + s(b); },
                   [](int st) { return "layers." + s(st + 1) + ".downsample"; },
                   "norm1",
                   "attn.qkv",
                   "attn.proj",
                   "norm2",
                   "mlp.fc1",
                   "mlp.fc2"};

const Naming* detect_naming(const WeightSource& w) {
  if (w.contains("features.0.0.weight") && w.contains("features.1.0.attn.qkv.weight")) return &kTorchvision;
  if (!w.contains("patch_embed.proj.weight")) return nullptr;
  if (!w.contains("layers.0.blocks.0.attn.qkv.weight") && !w.contains("layers.0.blocks.0.spatial_mlp.weight"))
    return nullptr;
  if (w.contains("layers.0.downsample.reduction.weight")) return &kOfficial;
  if (w.contains("layers.1.downsample.reduction.weight")) return &kTimm;
  return &kOfficial;  // a single-stage model has no PatchMerging to tell the layouts apart
}

struct Config {
  bool v2 = false;
  bool spatial_mlp = false;  // Swin-MLP: token mixing by a per-window, per-head MLP instead of attention
  int64_t embed = 96, in_chans = 3, patch = 4, classes = 1000, mlp_hidden = 384;
  std::vector<int64_t> depths, heads;
  uint32_t window = 7;
  // Attention: where the qkv bias lives (official/timm v2 store q_bias and v_bias, v1 and
  // torchvision qkv.bias), whether v2's coordinate table is stored (it encodes the pretrained
  // window, which presets set) and the CPB MLP's width.
  enum class QkvBias { None, Full, QueryValue } qkv_bias = QkvBias::Full;
  bool coords_table = false;
  uint32_t pretrained_window = 0;
  int64_t cpb_hidden = 512;
  std::vector<uint32_t> mlp_windows;  // Swin-MLP: per stage, the official code shrinks it to the map

  std::string describe() const {
    auto join = [](const std::vector<int64_t>& v) {
      std::string text;
      for (size_t i = 0; i < v.size(); ++i) text += (i ? "," : "") + std::to_string(v[i]);
      return text;
    };
    return std::string(spatial_mlp ? "mlp "
                       : v2        ? "v2 "
                                   : "v1 ") +
           "embed " + std::to_string(embed) + " depths " + join(depths) + " heads " + join(heads) +
           " window " + std::to_string(window) + " classes " + std::to_string(classes);
  }
};

// Window size from whichever tensor states it: v1's bias table [(2W-1)^2, heads], the relative
// index [W^2, W^2], or v2's coordinate table [1, 2W-1, 2W-1, 2].
uint32_t infer_window(const WeightSource& w, const std::string& attn) {
  if (w.contains(attn + ".relative_position_bias_table")) {
    const auto rows = w.dim(attn + ".relative_position_bias_table", 0);
    const auto side = static_cast<int64_t>(std::lround(std::sqrt(double(rows))));
    if (side * side != rows || side % 2 == 0)
      w.fail("tensor '" + attn + ".relative_position_bias_table' has " + std::to_string(rows) +
             " rows, which is (2W-1)^2 for no window size W");
    return static_cast<uint32_t>((side + 1) / 2);
  }
  if (w.contains(attn + ".relative_coords_table")) {
    const auto& shape = w.shape(attn + ".relative_coords_table");
    if (shape.size() == 4 && shape[1] % 2 == 1) return static_cast<uint32_t>((shape[1] + 1) / 2);
  }
  if (w.contains(attn + ".relative_position_index")) {
    // Official: [T, T]; torchvision flattens it to [T * T]. T = W^2.
    const auto& shape = w.shape(attn + ".relative_position_index");
    const double tokens = shape.size() == 2   ? double(shape[0])
                          : shape.size() == 1 ? std::sqrt(double(shape[0]))
                                              : 0.0;
    const auto side = static_cast<int64_t>(std::lround(std::sqrt(tokens)));
    if (side > 0 && double(side * side) == tokens) return static_cast<uint32_t>(side);
  }
  w.fail("cannot tell the window size of '" + attn + "': no relative position table or index");
}

// Swin-MLP: spatial_mlp.weight is [heads * T, T, 1] (a grouped Conv1d), T = window^2.
std::pair<int64_t, uint32_t> spatial_mlp_heads_window(const WeightSource& w, const std::string& block) {
  const std::string name = block + ".spatial_mlp.weight";
  const auto& shape = w.shape(name);
  const int64_t tokens = shape.size() == 3 ? shape[1] : 0;
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(double(std::max<int64_t>(tokens, 0)))));
  if (shape.size() != 3 || shape[2] != 1 || tokens == 0 || side * side != tokens || shape[0] % tokens != 0)
    w.fail("tensor '" + name + "' has shape " + ir::shape_string(shape) + ", expected [heads * W^2, W^2, 1]");
  return {shape[0] / tokens, static_cast<uint32_t>(side)};
}

// Stage widths double per stage (embed << stage): real Swins have 4 stages.
constexpr int kMaxStages = 8;

Config infer_config(const WeightSource& w, const Naming& n) {
  Config c;
  const auto& patch = w.shape(n.patch_conv + ".weight");
  // Widths double per stage from the embedding's: bounded so that stays far from overflow.
  if (patch.size() != 4 || patch[0] < 1 || patch[0] > (int64_t(1) << 24))
    w.fail("tensor '" + n.patch_conv + ".weight' has shape " + ir::shape_string(patch) +
           ", expected a convolution weight");
  c.embed = patch[0];
  c.in_chans = patch[1];
  c.patch = patch[2];
  const std::string attn0 = n.block(0, 0) + ".attn";
  c.spatial_mlp = w.contains(n.block(0, 0) + ".spatial_mlp.weight");
  c.v2 = w.contains(attn0 + ".logit_scale");
  c.window = c.spatial_mlp ? spatial_mlp_heads_window(w, n.block(0, 0)).second : infer_window(w, attn0);
  c.qkv_bias = w.contains(attn0 + ".q_bias")                       ? Config::QkvBias::QueryValue
               : w.contains(n.block(0, 0) + "." + n.qkv + ".bias") ? Config::QkvBias::Full
                                                                   : Config::QkvBias::None;
  c.coords_table = w.contains(attn0 + ".relative_coords_table");
  if (c.v2) {
    const auto& w0 = w.shape(attn0 + ".cpb_mlp.0.weight");
    if (w0.size() != 2 || w0[1] != 2)
      w.fail("tensor '" + attn0 + ".cpb_mlp.0.weight' is not a [hidden, 2] linear weight");
    c.cpb_hidden = w0[0];
  }
  const std::string mixer = c.spatial_mlp ? ".spatial_mlp.weight" : std::string(".") + n.qkv + ".weight";
  for (int stage = 0; w.contains(n.block(stage, 0) + mixer); ++stage) {
    if (stage == kMaxStages) w.fail("has more than " + std::to_string(kMaxStages) + " stages");
    int64_t depth = 0;
    while (w.contains(n.block(stage, int(depth)) + mixer)) ++depth;
    c.depths.push_back(depth);
    const std::string attn = n.block(stage, 0) + ".attn";
    int64_t heads = c.spatial_mlp ? spatial_mlp_heads_window(w, n.block(stage, 0)).first
                    : c.v2        ? w.dim(attn + ".logit_scale", 0)
                                  : w.dim(attn + ".relative_position_bias_table", 1);
    if (c.spatial_mlp) c.mlp_windows.push_back(spatial_mlp_heads_window(w, n.block(stage, 0)).second);
    const int64_t dim = c.embed << stage;
    if (heads <= 0 || dim % heads != 0)
      w.fail("stage " + std::to_string(stage) + " has " + std::to_string(heads) +
             " heads, which do not divide its width " + std::to_string(dim));
    c.heads.push_back(heads);
  }
  if (c.depths.empty()) w.fail("no Swin stages found");
  c.mlp_hidden = w.dim(n.block(0, 0) + "." + n.fc1 + ".weight", 0);
  if (c.mlp_hidden < 1 || c.mlp_hidden > (int64_t(1) << 24))
    w.fail("tensor '" + n.block(0, 0) + "." + n.fc1 + ".weight' has " + std::to_string(c.mlp_hidden) +
           " rows");
  c.classes = w.dim(n.head + ".weight", 0);
  return c;
}

// (dy, dx) -> index into the (2W-1)^2 table, for every (query, key) pair of a window.
std::vector<int64_t> relative_index(uint32_t window) {
  const int64_t W = window, T = W * W;
  std::vector<int64_t> index(T * T);
  for (int64_t a = 0; a < T; ++a)
    for (int64_t b = 0; b < T; ++b)
      index[a * T + b] = (a / W - b / W + W - 1) * (2 * W - 1) + (a % W - b % W + W - 1);
  return index;
}

// v1: the learned table [(2W-1)^2, heads] gathered to [heads, T, T].
HostTensor gather_bias_table(const HostTensor& table, uint32_t window, int64_t heads) {
  const auto index = relative_index(window);
  const int64_t T = int64_t(window) * window;
  std::vector<float> bias(heads * T * T);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < T * T; ++i) bias[h * T * T + i] = table.values()[index[i] * heads + h];
  return HostTensor::from({heads, T, T}, std::move(bias));
}

// v2's relative coordinates in [-(W-1), W-1], divided by (pretrained window - 1) when a pretrained
// window is set, else by (W - 1), times 8, then sign(x) * log2(|x| + 1) / log2(8): [2W-1, 2W-1, 2].
std::vector<float> log_spaced_coordinates(int64_t window, int64_t pretrained_window) {
  const int64_t side = 2 * window - 1;
  const double divisor = double(pretrained_window > 0 ? pretrained_window - 1 : window - 1);
  std::vector<float> coords;
  for (int64_t i = 0; i < side; ++i)
    for (int64_t j = 0; j < side; ++j)
      for (int64_t v : {i - (window - 1), j - (window - 1)}) {
        const double x = divisor > 0 ? 8.0 * double(v) / divisor : 0.0;
        coords.push_back(float((x > 0) - (x < 0)) * float(std::log2(std::abs(x) + 1.0) / 3.0));
      }
  return coords;
}

// v2: the continuous position bias: the log-spaced relative coordinates (from the checkpoint's own
// table when it has one, which encodes the pretrained window) through the two-layer CPB MLP, then
// 16 * sigmoid, gathered to [heads, T, T].
HostTensor continuous_position_bias(const WeightSource& w, const std::string& attn, const Config& c,
                                    int64_t heads) {
  const uint32_t window = c.window;
  const int64_t side = 2 * int64_t(window) - 1, rows = side * side;
  const auto stored_coordinates = [&] {
    const HostTensor t = w.get(attn + ".relative_coords_table", {1, side, side, 2},
                               Init::given(log_spaced_coordinates(window, c.pretrained_window)));
    return std::vector<float>(t.values(), t.values() + t.numel());
  };
  const std::vector<float> coords = c.coords_table ? stored_coordinates() : log_spaced_coordinates(window, 0);
  const int64_t hidden = c.cpb_hidden;
  const HostTensor w0 = w.get(attn + ".cpb_mlp.0.weight", {hidden, 2}, Init::normal(0.02f));
  const HostTensor b0 = w.get(attn + ".cpb_mlp.0.bias", {hidden}, Init::zeros());
  const HostTensor w2 = w.get(attn + ".cpb_mlp.2.weight", {heads, hidden}, Init::normal(0.02f));
  std::vector<float> table(rows * heads);
  std::vector<double> activation(hidden);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < hidden; ++k)
      activation[k] = std::max(0.0, double(b0.values()[k]) + double(w0.values()[2 * k]) * coords[2 * r] +
                                        double(w0.values()[2 * k + 1]) * coords[2 * r + 1]);
    for (int64_t h = 0; h < heads; ++h) {
      double sum = 0;
      for (int64_t k = 0; k < hidden; ++k) sum += double(w2.values()[h * hidden + k]) * activation[k];
      table[r * heads + h] = float(16.0 / (1.0 + std::exp(-sum)));
    }
  }
  return gather_bias_table(HostTensor::from({rows, heads}, std::move(table)), window, heads);
}

class ListBuilder {
 public:
  explicit ListBuilder(const WeightSource& weights) : w(weights) {}

  std::string add(Layer layer) {
    layer.output = "t" + std::to_string(counter_++);
    if (layer.inputs.empty()) layer.inputs = {current};
    current = layer.output;
    list.layers.push_back(std::move(layer));
    return current;
  }
  void layer_norm(const std::string& prefix, int64_t channels, const std::string& residual = "") {
    Layer layer{.op = OpKind::LayerNorm, .name = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {channels}, Init::ones());
    layer.params["bias"] = w.get(prefix + ".bias", {channels}, Init::zeros());
    layer.eps = 1e-5f;
    if (!residual.empty()) {
      layer.inputs = {current, residual};
      layer.residual = true;
    }
    add(std::move(layer));
  }
  void linear(const std::string& prefix, int64_t in, int64_t out, bool bias) {
    Layer layer{.op = OpKind::Linear, .name = prefix};
    layer.params["weight"] = w.get(prefix + ".weight", {out, in}, Init::normal(0.02f));
    if (bias) layer.params["bias"] = w.get(prefix + ".bias", {out}, Init::zeros());
    add(std::move(layer));
  }

  const WeightSource& w;
  ir::LayerList list;
  std::string current = "input";

 private:
  int counter_ = 0;
};

void add_attention(ListBuilder& b, const std::string& block, const Naming& n, const Config& c, int64_t dim,
                   int64_t heads, uint32_t shift) {
  const WeightSource& w = b.w;
  const std::string attn = block + ".attn";
  Layer qkv{.op = OpKind::Linear, .name = block + "." + n.qkv};
  qkv.params["weight"] = w.get(block + "." + n.qkv + ".weight", {3 * dim, dim}, Init::normal(0.02f));
  // v2 keeps the k bias at zero: official/timm store q_bias and v_bias, torchvision stores qkv.bias and
  // zeroes its k third in forward().
  std::vector<float> bias(3 * dim, 0.0f);
  if (c.qkv_bias == Config::QkvBias::QueryValue) {
    const auto q = w.get(attn + ".q_bias", {dim}, Init::zeros());
    const auto v = w.get(attn + ".v_bias", {dim}, Init::zeros());
    std::copy(q.values(), q.values() + dim, bias.begin());
    std::copy(v.values(), v.values() + dim, bias.begin() + 2 * dim);
  } else if (c.qkv_bias == Config::QkvBias::Full) {
    const auto full = w.get(block + "." + n.qkv + ".bias", {3 * dim}, Init::zeros());
    std::copy(full.values(), full.values() + 3 * dim, bias.begin());
    if (c.v2) std::fill(bias.begin() + dim, bias.begin() + 2 * dim, 0.0f);
  }
  qkv.params["bias"] = HostTensor::from({3 * dim}, bias);
  b.add(std::move(qkv));

  Layer attention{.op = OpKind::WindowAttention, .name = attn};
  attention.heads = static_cast<uint32_t>(heads);
  attention.window = c.window;
  attention.shift = shift;
  attention.cosine = c.v2;
  attention.params["qkv_bias"] = HostTensor::from({3 * dim}, bias);
  std::vector<float> scale(heads);
  if (c.v2) {
    const auto logit_scale =
        w.get(attn + ".logit_scale", {heads, 1, 1}, Init::constant(float(std::log(10.0))));
    for (int64_t h = 0; h < heads; ++h)
      scale[h] = std::exp(std::min(logit_scale.values()[h], float(std::log(100.0))));
    attention.params["position_bias"] = continuous_position_bias(w, attn, c, heads);
  } else {
    for (auto& v : scale) v = float(1.0 / std::sqrt(double(dim / heads)));
    const int64_t rows = (2 * int64_t(c.window) - 1) * (2 * int64_t(c.window) - 1);
    attention.params["position_bias"] = gather_bias_table(
        w.get(attn + ".relative_position_bias_table", {rows, heads}, Init::normal(0.02f)), c.window, heads);
  }
  attention.params["head_scale"] = HostTensor::from({heads}, scale);
  b.add(std::move(attention));
}

// Swin-MLP token mixing; the window can be smaller than the model's where the official code shrank
// it to the map (Config::mlp_windows, read from each stage's first block).
void add_spatial_mlp(ListBuilder& b, const std::string& block, int64_t heads, uint32_t window,
                     uint32_t shift) {
  const int64_t tokens = int64_t(window) * window;
  Layer mix{.op = OpKind::SpatialMlp, .name = block + ".spatial_mlp"};
  mix.heads = static_cast<uint32_t>(heads);
  mix.window = window;
  mix.shift = shift;
  HostTensor weight =
      b.w.get(block + ".spatial_mlp.weight", {heads * tokens, tokens, 1}, Init::normal(0.02f));
  weight.shape = {heads, tokens, tokens};
  HostTensor bias = b.w.get(block + ".spatial_mlp.bias", {heads * tokens}, Init::zeros());
  bias.shape = {heads, tokens};
  mix.params = {{"weight", weight}, {"bias", bias}};
  b.add(std::move(mix));
}

ir::LayerList build_layers(const WeightSource& w, const Naming& n, const Config& c) {
  if (w.contains("absolute_pos_embed")) w.fail("absolute position embeddings (ape=True) are not supported");
  ListBuilder b(w);
  b.list.input_channels = static_cast<uint32_t>(c.in_chans);
  Layer patch{.op = OpKind::Conv2d, .name = n.patch_conv};
  patch.params["weight"] =
      w.get(n.patch_conv + ".weight", {c.embed, c.in_chans, c.patch, c.patch}, Init::normal(0.02f));
  patch.params["bias"] = w.get(n.patch_conv + ".bias", {c.embed}, Init::zeros());
  patch.kernel_h = patch.kernel_w = patch.stride_h = patch.stride_w = static_cast<uint32_t>(c.patch);
  patch.input_nchw = true;
  b.add(std::move(patch));
  b.layer_norm(n.patch_norm, c.embed);

  const int stages = static_cast<int>(c.depths.size());
  for (int stage = 0; stage < stages; ++stage) {
    const int64_t dim = c.embed << stage, hidden = c.mlp_hidden << stage;
    for (int j = 0; j < c.depths[stage]; ++j) {
      const std::string block = n.block(stage, j);
      const uint32_t shift = j % 2 == 1 ? c.window / 2 : 0;
      const std::string x = b.current;
      if (!c.v2) {  // pre-norm: x + mix(LN(x)), then x + MLP(LN(x))
        b.layer_norm(block + "." + n.norm1, dim);
        if (c.spatial_mlp) {
          add_spatial_mlp(b, block, c.heads[stage], c.mlp_windows[stage], j % 2 == 1 ? c.window / 2 : 0);
        } else {
          add_attention(b, block, n, c, dim, c.heads[stage], shift);
          b.linear(block + "." + n.proj, dim, dim, true);
        }
        b.add(Layer{.op = OpKind::Add, .name = block + ".residual1", .inputs = {b.current, x}});
        const std::string x2 = b.current;
        b.layer_norm(block + "." + n.norm2, dim);
        b.linear(block + "." + n.fc1, dim, hidden, true);
        b.add(Layer{.op = OpKind::Gelu, .name = block + ".gelu"});
        b.linear(block + "." + n.fc2, hidden, dim, true);
        b.add(Layer{.op = OpKind::Add, .name = block + ".residual2", .inputs = {b.current, x2}});
      } else {
        add_attention(b, block, n, c, dim, c.heads[stage], shift);
        b.linear(block + "." + n.proj, dim, dim, true);
        b.layer_norm(block + "." + n.norm1, dim, x);
        const std::string x2 = b.current;
        b.linear(block + "." + n.fc1, dim, hidden, true);
        b.add(Layer{.op = OpKind::Gelu, .name = block + ".gelu"});
        b.linear(block + "." + n.fc2, hidden, dim, true);
        b.layer_norm(block + "." + n.norm2, dim, x2);
      }
    }
    if (stage + 1 < stages) {
      const std::string merge = n.merge(stage);
      b.add(Layer{.op = OpKind::PatchMergeGather, .name = merge + ".gather"});
      if (!c.v2) {
        b.layer_norm(merge + ".norm", 4 * dim);
        b.linear(merge + ".reduction", 4 * dim, 2 * dim, false);
      } else {
        b.linear(merge + ".reduction", 4 * dim, 2 * dim, false);
        b.layer_norm(merge + ".norm", 2 * dim);
      }
    }
  }
  const int64_t last = c.embed << (stages - 1);
  b.layer_norm(n.final_norm, last);
  b.add(Layer{.op = OpKind::MeanPool, .name = "global_pool"});
  b.linear(n.head, last, c.classes, true);
  b.list.output = b.current;
  return std::move(b.list);
}

enum class Kind { V1, V2, Mlp };

struct Preset {
  const char* name;
  Kind kind;
  int64_t embed;
  std::vector<int64_t> depths, heads;
  uint32_t window, input_size;
  uint32_t pretrained_window = 0;  // v2 fine-tunes: the window the CPB coordinates are scaled by
};

const std::vector<Preset>& preset_table() {
  static const std::vector<Preset> table = {
      {"swin_tiny_patch4_window7_224", Kind::V1, 96, {2, 2, 6, 2}, {3, 6, 12, 24}, 7, 224},
      {"swin_small_patch4_window7_224", Kind::V1, 96, {2, 2, 18, 2}, {3, 6, 12, 24}, 7, 224},
      {"swin_base_patch4_window7_224", Kind::V1, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 7, 224},
      {"swin_base_patch4_window12_384", Kind::V1, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 12, 384},
      {"swin_large_patch4_window7_224", Kind::V1, 192, {2, 2, 18, 2}, {6, 12, 24, 48}, 7, 224},
      {"swin_large_patch4_window12_384", Kind::V1, 192, {2, 2, 18, 2}, {6, 12, 24, 48}, 12, 384},
      {"swinv2_tiny_window8_256", Kind::V2, 96, {2, 2, 6, 2}, {3, 6, 12, 24}, 8, 256},
      {"swinv2_tiny_window16_256", Kind::V2, 96, {2, 2, 6, 2}, {3, 6, 12, 24}, 16, 256},
      {"swinv2_small_window8_256", Kind::V2, 96, {2, 2, 18, 2}, {3, 6, 12, 24}, 8, 256},
      {"swinv2_small_window16_256", Kind::V2, 96, {2, 2, 18, 2}, {3, 6, 12, 24}, 16, 256},
      {"swinv2_base_window8_256", Kind::V2, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 8, 256},
      {"swinv2_base_window16_256", Kind::V2, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 16, 256},
      {"swinv2_base_window12_192", Kind::V2, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 12, 192},
      {"swinv2_base_window12to16_192to256", Kind::V2, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 16, 256, 12},
      {"swinv2_base_window12to24_192to384", Kind::V2, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 24, 384, 12},
      {"swinv2_large_window12_192", Kind::V2, 192, {2, 2, 18, 2}, {6, 12, 24, 48}, 12, 192},
      {"swinv2_large_window12to16_192to256", Kind::V2, 192, {2, 2, 18, 2}, {6, 12, 24, 48}, 16, 256, 12},
      {"swinv2_large_window12to24_192to384", Kind::V2, 192, {2, 2, 18, 2}, {6, 12, 24, 48}, 24, 384, 12},
      {"swin_mlp_tiny_c24_patch4_window8_256", Kind::Mlp, 96, {2, 2, 6, 2}, {4, 8, 16, 32}, 8, 256},
      {"swin_mlp_tiny_c12_patch4_window8_256", Kind::Mlp, 96, {2, 2, 6, 2}, {8, 16, 32, 64}, 8, 256},
      {"swin_mlp_tiny_c6_patch4_window8_256", Kind::Mlp, 96, {2, 2, 6, 2}, {16, 32, 64, 128}, 8, 256},
      {"swin_mlp_base_patch4_window7_224", Kind::Mlp, 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 7, 224},
  };
  return table;
}

uint32_t default_input_size(uint32_t window) {
  switch (window) {
    case 8:
    case 16: return 256;
    case 12:
    case 24: return 384;
    default: return 224;
  }
}

const Preset* find_preset(const std::string& name) {
  for (const Preset& p : preset_table())
    if (name == p.name) return &p;
  return nullptr;
}

class Swin final : public Family {
 public:
  std::string name() const override { return "swin"; }
  bool matches(const WeightSource& weights) const override { return detect_naming(weights) != nullptr; }
  // Buffers the builder recomputes from the window and the shift: each block's relative position
  // index and (official Swin) its shifted-window attention mask.
  bool ignorable(const std::string& name) const override {
    return name.ends_with(".relative_position_index") || name.ends_with(".attn_mask") ||
           Family::ignorable(name);
  }

  BuiltModel build(const WeightSource& weights, const std::string& preset) const override {
    const Naming* naming = detect_naming(weights);
    if (!naming) weights.fail("not a Swin Transformer checkpoint");
    const Config config = infer_config(weights, *naming);
    std::string variant = "custom";
    const Kind kind = config.spatial_mlp ? Kind::Mlp : config.v2 ? Kind::V2 : Kind::V1;
    for (const Preset& p : preset_table())
      if (p.kind == kind && p.embed == config.embed && p.depths == config.depths && p.heads == config.heads &&
          p.window == config.window && variant == "custom")
        variant = p.name;
    // Fine-tunes share their architecture with the plain preset of the same window: accept either name.
    if (!preset.empty() && preset != variant) {
      const Preset* wanted = find_preset(preset);
      if (!wanted || wanted->kind != kind || wanted->embed != config.embed ||
          wanted->depths != config.depths || wanted->heads != config.heads || wanted->window != config.window)
        weights.fail("holds Swin " + config.describe() + ", which is not preset " + preset);
      variant = preset;
    }
    return finish(weights, *naming, config, variant);
  }

  BuiltModel build_preset(const WeightSource& weights, const std::string& preset_name) const override {
    const Preset* p = find_preset(preset_name);
    if (!p) throw InputError("unknown Swin preset '" + preset_name + "'");
    Config c{.v2 = p->kind == Kind::V2,
             .spatial_mlp = p->kind == Kind::Mlp,
             .embed = p->embed,
             .mlp_hidden = 4 * p->embed,
             .depths = p->depths,
             .heads = p->heads,
             .window = p->window};
    c.qkv_bias = c.v2 ? Config::QkvBias::QueryValue : Config::QkvBias::Full;
    c.coords_table = c.v2;
    c.pretrained_window = p->pretrained_window;
    for (size_t stage = 0; stage < p->depths.size(); ++stage)
      c.mlp_windows.push_back(std::min<uint32_t>(p->window, (p->input_size / 4) >> stage));
    return finish(weights, c.spatial_mlp ? kOfficial : kTimm, c, p->name);  // Swin-MLP: official code only
  }

  std::vector<PresetInfo> presets() const override {
    std::vector<PresetInfo> result;
    for (const Preset& p : preset_table()) {
      Config c{.v2 = p.kind == Kind::V2,
               .spatial_mlp = p.kind == Kind::Mlp,
               .embed = p.embed,
               .depths = p.depths,
               .heads = p.heads,
               .window = p.window};
      std::string description = c.describe() + " input " + std::to_string(p.input_size);
      if (p.pretrained_window) description += " pretrained window " + std::to_string(p.pretrained_window);
      result.push_back({p.name,
                        p.kind == Kind::Mlp  ? "swin_mlp"
                        : p.kind == Kind::V2 ? "swin_v2"
                                             : "swin",
                        description});
    }
    return result;
  }

 private:
  static BuiltModel finish(const WeightSource& weights, const Naming& naming, const Config& config,
                           const std::string& variant) {
    BuiltModel model;
    model.layers = build_layers(weights, naming, config);
    Preprocessing defaults;  // timm's eval defaults for Swin: bicubic, crop_pct 0.9
    defaults.crop_pct = 0.9f;
    defaults.input_size = default_input_size(config.window);
    defaults.channels = static_cast<uint32_t>(config.in_chans);
    const char* family = config.spatial_mlp ? "swin_mlp" : config.v2 ? "swin_v2" : "swin";
    model.info =
        model_info(weights, family, variant, naming.name, config.describe(), config.classes, defaults);
    return model;
  }
};

}  // namespace

const Family& swin_family() {
  static const Swin family;
  return family;
}

}  // namespace vkvision::models
