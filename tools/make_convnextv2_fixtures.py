#!/usr/bin/python3
"""ConvNeXt V2 fixtures: small configurations with seeded random weights in the official and timm namings,
each run by our re-expression of its PyTorch definition, with the logits for one seeded input.
Re-expressed sources:

- facebookresearch/ConvNeXt-V2 models/convnextv2.py (Block, ConvNeXtV2) and models/utils.py (LayerNorm,
  GRN): block = dwconv 7x7 -> LayerNorm (eps 1e-6, channels last) -> pwconv1 Linear(C, 4C) -> GELU (exact)
  -> GRN -> pwconv2 Linear(4C, C) -> residual, no layer scale (drop path identity in eval). GRN with
  gamma, beta of shape [1, 1, 1, 4C]: Gx = ||x||_2 over (H, W) per channel, Nx = Gx / (mean_c Gx + 1e-6),
  out = gamma * (x * Nx) + beta + x. Stem conv 4x4/4 + channels-first LayerNorm, downsampling
  channels-first LayerNorm + conv 2x2/2, head mean over (H, W) -> LayerNorm -> Linear.
- timm timm/models/convnext.py (ConvNeXtBlock with use_grn=True, ls_init_value=None, so no `gamma`) and
  timm/layers/mlp.py GlobalResponseNormMlp (fc1 -> act -> grn -> fc2), timm/layers/grn.py
  GlobalResponseNorm: parameters `weight` and `bias` of shape [C] (timm's checkpoint_filter_fn renames
  grn.gamma -> mlp.grn.weight, grn.beta -> mlp.grn.bias and reshapes them to v.shape[-1]), eps 1e-6,
  out = x + bias + weight * x * Nx, channels_last for the Linear MLP, channels-first (spatial dims 2, 3)
  for the conv MLP. In timm, convnextv2_atto, _femto, _pico and _nano set conv_mlp=True (1x1 Conv2d
  fc1/fc2 on NCHW maps, LayerNorm2d norms everywhere); convnextv2_tiny, _small, _base, _large and _huge use
  the Linear form.

Files in tests/fixtures/convnextv2/:
- official.pth: {'model': state_dict} in the official naming, depths 1,1,2,1 dims 18,26,34,42, 10 classes;
- timm.safetensors: the same weights renamed into timm's naming as timm's checkpoint_filter_fn does it
  (checked: the timm module gives the official logits);
- timm_convmlp.safetensors: timm's conv_mlp form, depths 1,1,1,1 dims 10,14,22,30, 7 classes (checked
  against the Linear form run on the same weights);
- input.npy [2,3,48,48] (stage maps 12, 6, 3, 1) and official_logits.npy, timm_logits.npy,
  timm_convmlp_logits.npy.
Weights: normal std 0.15, LayerNorm scales 1 + 0.2 N(0,1), GRN gamma/weight 0.5 N(0,1), beta/bias 0.1 N(0,1).

Run: /usr/bin/python3 tools/make_convnextv2_fixtures.py   (writes tests/fixtures/convnextv2/)
"""
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "convnextv2")


def channels_first_norm(x, norm):
    return F.layer_norm(x.permute(0, 2, 3, 1), norm.normalized_shape, norm.weight, norm.bias, norm.eps).permute(0, 3, 1, 2)


class GRN(nn.Module):
    """Official models/utils.py GRN (channels last, gamma/beta [1, 1, 1, C])."""

    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class OfficialBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.grn = GRN(4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        y = self.norm(self.dwconv(x).permute(0, 2, 3, 1))
        y = self.pwconv2(self.grn(F.gelu(self.pwconv1(y))))
        return x + y.permute(0, 3, 1, 2)


class OfficialConvNeXtV2(nn.Module):
    """models/convnextv2.py ConvNeXtV2: downsample_layers[0] is the stem, stages.S.B, norm, head."""

    def __init__(self, depths, dims, classes):
        super().__init__()
        self.downsample_layers = nn.ModuleList([nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), nn.LayerNorm(dims[0], eps=1e-6))])
        for i in range(1, len(dims)):
            self.downsample_layers.append(nn.Sequential(nn.LayerNorm(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dims[i], 2, 2)))
        self.stages = nn.ModuleList([nn.Sequential(*[OfficialBlock(d) for _ in range(n)]) for n, d in zip(depths, dims)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], classes)

    def forward(self, x):
        for i, stage in enumerate(self.stages):
            down = self.downsample_layers[i]
            if i == 0:
                x = channels_first_norm(down[0](x), down[1])
            else:
                x = down[1](channels_first_norm(x, down[0]))
            x = stage(x)
        return self.head(self.norm(x.mean((2, 3))))


class GlobalResponseNorm(nn.Module):
    """timm layers/grn.py: weight, bias [C]; channels_last or channels-first."""

    def __init__(self, dim, channels_last):
        super().__init__()
        self.spatial_dim, self.channel_dim = ((1, 2), -1) if channels_last else ((2, 3), 1)
        self.wb_shape = (1, 1, 1, -1) if channels_last else (1, -1, 1, 1)
        self.weight = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        x_g = x.norm(p=2, dim=self.spatial_dim, keepdim=True)
        x_n = x_g / (x_g.mean(dim=self.channel_dim, keepdim=True) + 1e-6)
        return x + torch.addcmul(self.bias.view(self.wb_shape), self.weight.view(self.wb_shape), x * x_n)


class GlobalResponseNormMlp(nn.Module):
    def __init__(self, dim, hidden, use_conv):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1) if use_conv else nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.grn = GlobalResponseNorm(hidden, channels_last=not use_conv)
        self.fc2 = nn.Conv2d(hidden, dim, 1) if use_conv else nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.grn(self.act(self.fc1(x))))


class TimmBlock(nn.Module):
    def __init__(self, dim, conv_mlp):
        super().__init__()
        self.conv_mlp = conv_mlp
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)  # LayerNorm2d (same parameters) in the conv_mlp form
        self.mlp = GlobalResponseNormMlp(dim, 4 * dim, conv_mlp)

    def forward(self, x):
        y = self.conv_dw(x)
        if self.conv_mlp:
            return x + self.mlp(channels_first_norm(y, self.norm))
        return x + self.mlp(self.norm(y.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)


class TimmConvNeXtV2(nn.Module):
    """timm convnext.py naming: stem.0/1, stages.S.downsample.0/1 (from stage 1), stages.S.blocks.B, head.norm/fc."""

    def __init__(self, depths, dims, classes, conv_mlp=False):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), nn.LayerNorm(dims[0], eps=1e-6))
        self.stages = nn.ModuleList()
        for i, (depth, dim) in enumerate(zip(depths, dims)):
            stage = nn.Module()
            if i > 0:
                stage.downsample = nn.Sequential(nn.LayerNorm(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dim, 2, 2))
            stage.blocks = nn.Sequential(*[TimmBlock(dim, conv_mlp) for _ in range(depth)])
            self.stages.append(stage)
        self.head = nn.Module()
        self.head.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head.fc = nn.Linear(dims[-1], classes)

    def forward(self, x):
        x = channels_first_norm(self.stem[0](x), self.stem[1])
        for stage in self.stages:
            if hasattr(stage, "downsample"):
                x = stage.downsample[1](channels_first_norm(x, stage.downsample[0]))
            x = stage.blocks(x)
        return self.head.fc(self.head.norm(x.mean((2, 3))))


def randomize(model, seed):
    """Every tensor non-trivial: weights 0.15 N(0,1), LayerNorm scales 1 + 0.2 N(0,1), GRN gamma 0.5 N(0,1)
    (timm's and the official init is zero, which would make GRN the identity), GRN beta 0.1 N(0,1)."""
    torch.manual_seed(seed)
    norm_scales = {id(m.weight) for m in model.modules() if isinstance(m, nn.LayerNorm)}
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape)
            if name.endswith("grn.gamma") or name.endswith("grn.weight"):
                p.copy_(0.5 * noise)
            elif name.endswith("grn.beta") or name.endswith("grn.bias"):
                p.copy_(0.1 * noise)
            elif id(p) in norm_scales:
                p.copy_(1.0 + 0.2 * noise)
            else:
                p.copy_(0.15 * noise)
    return model.eval()


def timm_name(key, value, timm_state):
    """timm convnext.py checkpoint_filter_fn, re-expressed for these keys."""
    key = key.replace("downsample_layers.0.", "stem.")
    key = re.sub(r"stages.([0-9]+).([0-9]+)", r"stages.\1.blocks.\2", key)
    key = re.sub(r"downsample_layers.([0-9]+).([0-9]+)", r"stages.\1.downsample.\2", key)
    key = key.replace("dwconv", "conv_dw").replace("pwconv", "mlp.fc")
    if "grn" in key:
        key = key.replace("grn.beta", "mlp.grn.bias").replace("grn.gamma", "mlp.grn.weight")
        value = value.reshape(value.shape[-1])
    key = key.replace("head.", "head.fc.")
    if key.startswith("norm."):
        key = key.replace("norm", "head.norm")
    if value.ndim == 2 and "head" not in key:
        value = value.reshape(timm_state[key].shape)
    return key, value


def logits_of(model, x):
    with torch.no_grad():
        return model(x)


def check_every_tensor_matters(model, x):
    base = logits_of(model, x)
    for name, p in model.named_parameters():
        with torch.no_grad():
            saved = p.clone()
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(99)))
            moved = float((model(x) - base).abs().max())
            p.copy_(saved)
        assert moved > 1e-4, (name, moved)


def save_logits(model, x, name):
    check_every_tensor_matters(model, x)
    logits = logits_of(model, x)
    np.save(os.path.join(OUT, name), logits.numpy().astype(np.float32))
    return logits


def save_timm(model, name):
    save_safetensors(os.path.join(OUT, name), {k: v.numpy() for k, v in model.state_dict().items()}, {"format": "pt"})


def print_block(title, model, prefix):
    print(f"{title}:")
    for k, v in model.state_dict().items():
        if k.startswith(prefix):
            print(f"    {k} {list(v.shape)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    x = torch.randn(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    np.save(os.path.join(OUT, "input.npy"), x.numpy())
    depths, dims = (1, 1, 2, 1), (18, 26, 34, 42)

    official = randomize(OfficialConvNeXtV2(depths, dims, 10), 2)
    torch.save({"model": official.state_dict()}, os.path.join(OUT, "official.pth"))
    official_logits = save_logits(official, x, "official_logits.npy")

    timm_model = TimmConvNeXtV2(depths, dims, 10).eval()
    timm_state = timm_model.state_dict()
    timm_model.load_state_dict(dict(timm_name(k, v, timm_state) for k, v in official.state_dict().items()), strict=True)
    save_timm(timm_model, "timm.safetensors")
    timm_logits = save_logits(timm_model, x, "timm_logits.npy")
    difference = float((timm_logits - official_logits).abs().max())
    assert difference < 1e-5, difference
    print("max |timm - official| =", difference)

    conv_mlp = randomize(TimmConvNeXtV2((1, 1, 1, 1), (10, 14, 22, 30), 7, conv_mlp=True), 4)
    save_timm(conv_mlp, "timm_convmlp.safetensors")
    conv_logits = save_logits(conv_mlp, x, "timm_convmlp_logits.npy")
    linear = TimmConvNeXtV2((1, 1, 1, 1), (10, 14, 22, 30), 7).eval()
    linear.load_state_dict({k: (v.flatten(1) if ".mlp.fc" in k and k.endswith("weight") else v)
                            for k, v in conv_mlp.state_dict().items()}, strict=True)
    difference = float((logits_of(linear, x) - conv_logits).abs().max())
    assert difference < 1e-5, difference
    print("max |conv_mlp - linear form| =", difference)

    print_block("official (depths 1,1,2,1 dims 18,26,34,42, hidden 4C, 10 classes), stage 2 block 0", official, "stages.2.0.")
    print_block("timm, the same block", timm_model, "stages.2.blocks.0.")
    print_block("timm_convmlp (depths 1,1,1,1 dims 10,14,22,30, 7 classes), stage 1", conv_mlp, "stages.1.")
    for name, logits in (("official", official_logits), ("timm", timm_logits), ("timm_convmlp", conv_logits)):
        print(f"{name}: logits std {float(logits.std()):.3f}, max |.| {float(logits.abs().max()):.3f}")
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
