#!/usr/bin/python3
"""Swin fixtures: reduced Swin v1/v2 built with Debian's torchvision (random weights, seeded),
saved in torchvision's naming and renamed into the official microsoft/Swin-Transformer and recent
timm namings, with PyTorch's logits for a seeded input.

Run: /usr/bin/python3 tools/make_swin_fixtures.py   (writes tests/fixtures/swin/)

The configurations exercise padding (9x9 tokens with window 4), shifted windows, an odd size at
PatchMerging (9 -> 5), and a last stage the window covers (shift disabled). The official and timm
files are renames of the same weights, so they must give the same logits as torchvision at an input
where no padding happens (32x32); that input is used for them.
"""
import os
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import swin_transformer as tv

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "swin")


def randomize(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if "relative_position_index" in name or "relative_coords_table" in name:
                continue
            if name.endswith("logit_scale"):
                tensor.copy_(torch.log(torch.rand(tensor.shape, generator=generator) * 20 + 2))
            elif tensor.dtype.is_floating_point:
                scale = 0.3 if ("norm" in name and name.endswith("weight")) else 0.15
                base = 1.0 if ("norm" in name and name.endswith("weight")) else 0.0
                tensor.copy_(base + scale * torch.randn(tensor.shape, generator=generator))
    return model.eval()


def build(v2, seed):
    torch.manual_seed(seed)
    model = tv.SwinTransformer(
        patch_size=[4, 4], embed_dim=16, depths=[2, 2, 1], num_heads=[2, 4, 8], window_size=[4, 4],
        num_classes=10, stochastic_depth_prob=0.0,
        block=tv.SwinTransformerBlockV2 if v2 else tv.SwinTransformerBlock,
        downsample_layer=tv.PatchMergingV2 if v2 else tv.PatchMerging)
    return randomize(model, seed)


def official_name(name, timm_layout):
    """torchvision key -> microsoft/Swin-Transformer key (timm_layout: PatchMerging starts the next stage)."""
    name = name.replace("features.0.0.", "patch_embed.proj.").replace("features.0.2.", "patch_embed.norm.")
    m = re.match(r"features\.(\d+)\.(\d+)\.(.*)", name)
    if m:
        feature, block, rest = int(m.group(1)), m.group(2), m.group(3)
        rest = re.sub(r"^mlp\.0\.", "mlp.fc1.", rest)
        rest = re.sub(r"^mlp\.3\.", "mlp.fc2.", rest)
        return f"layers.{(feature - 1) // 2}.blocks.{block}.{rest}"
    m = re.match(r"features\.(\d+)\.(.*)", name)
    if m:
        stage = int(m.group(1)) // 2 - 1
        return f"layers.{stage + 1 if timm_layout else stage}.downsample.{m.group(2)}"
    if timm_layout and name.startswith("head."):
        return "head.fc." + name[len("head."):]
    return name


def renamed(state, timm_layout, v2):
    out = {}
    for key, value in state.items():
        new = official_name(key, timm_layout)
        if v2 and new.endswith("attn.qkv.bias"):
            dim = value.shape[0] // 3
            out[new.replace("qkv.bias", "q_bias")] = value[:dim].clone()
            out[new.replace("qkv.bias", "v_bias")] = value[2 * dim:].clone()
            continue
        if new.endswith("relative_position_index"):
            tokens = int(round(value.numel() ** 0.5))
            value = value.reshape(tokens, tokens)
        out[new] = value.clone()
    return out


class SwinMlpBlock(nn.Module):
    """Our re-expression of microsoft/Swin-Transformer swin_mlp.py's SwinMLPBlock."""

    def __init__(self, dim, resolution, heads, window, shift):
        super().__init__()
        if min(resolution) <= window:  # the official rule: no partition, no shift
            window, shift = min(resolution), 0
        self.resolution, self.heads, self.window, self.shift = resolution, heads, window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.spatial_mlp = nn.Conv1d(heads * window ** 2, heads * window ** 2, kernel_size=1, groups=heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(dim, 4 * dim)
        self.mlp.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        h, w = self.resolution
        b, length, c = x.shape
        shortcut = x
        x = self.norm1(x).view(b, h, w, c)
        s, win = self.shift, self.window
        if s:
            x = F.pad(x, [0, 0, win - s, s, win - s, s])
        hp, wp = x.shape[1], x.shape[2]
        windows = x.view(b, hp // win, win, wp // win, win, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, win * win, c)
        heads = windows.view(-1, win * win, self.heads, c // self.heads).transpose(1, 2)
        mixed = self.spatial_mlp(heads.reshape(-1, self.heads * win * win, c // self.heads))
        mixed = mixed.view(-1, self.heads, win * win, c // self.heads).transpose(1, 2).reshape(-1, win, win, c)
        x = mixed.view(b, hp // win, wp // win, win, win, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
        if s:
            x = x[:, win - s:-s, win - s:-s, :]
        x = shortcut + x.reshape(b, length, c)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class SwinMlp(nn.Module):
    """Our re-expression of SwinMLP: patch embed + LN, stages of blocks, PatchMerging (gather, LN over
    4C, linear 4C->2C without bias) at the end of every stage but the last, LN, mean, head."""

    def __init__(self, image, embed, depths, heads, window, classes):
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, embed, 4, 4)
        self.patch_embed.norm = nn.LayerNorm(embed)
        self.layers = nn.ModuleList()
        resolution = image // 4
        for i, depth in enumerate(depths):
            dim = embed * 2 ** i
            layer = nn.Module()
            layer.blocks = nn.ModuleList([SwinMlpBlock(dim, (resolution, resolution), heads[i], window,
                                                       0 if j % 2 == 0 else window // 2) for j in range(depth)])
            layer.resolution = resolution
            if i + 1 < len(depths):
                layer.downsample = nn.Module()
                layer.downsample.norm = nn.LayerNorm(4 * dim)
                layer.downsample.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
                resolution //= 2
            self.layers.append(layer)
        self.norm = nn.LayerNorm(embed * 2 ** (len(depths) - 1))
        self.head = nn.Linear(embed * 2 ** (len(depths) - 1), classes)

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = self.patch_embed.norm(x)
        for layer in self.layers:
            for block in layer.blocks:
                x = block(x)
            if hasattr(layer, "downsample"):
                b, _, c = x.shape
                r = layer.resolution
                x = x.view(b, r, r, c)
                x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
                x = layer.downsample.reduction(layer.downsample.norm(x.view(b, -1, 4 * c)))
        return self.head(self.norm(x).mean(1))


def main():
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    padded_input = torch.randn(2, 3, 36, 36, generator=generator)
    plain_input = torch.randn(2, 3, 32, 32, generator=generator)
    np.save(os.path.join(OUT, "input36.npy"), padded_input.numpy())
    np.save(os.path.join(OUT, "input32.npy"), plain_input.numpy())
    for v2, tag, seed in ((False, "v1", 1), (True, "v2", 2)):
        model = build(v2, seed)
        state = model.state_dict()
        with torch.no_grad():
            np.save(os.path.join(OUT, f"{tag}_logits36.npy"), model(padded_input).numpy())
            np.save(os.path.join(OUT, f"{tag}_logits32.npy"), model(plain_input).numpy())
        torch.save(state, os.path.join(OUT, f"{tag}_torchvision.pth"))
        torch.save({"model": renamed(state, False, v2), "epoch": 300}, os.path.join(OUT, f"{tag}_official.pth"))
        torch.save(renamed(state, True, v2), os.path.join(OUT, f"{tag}_timm.pth"))
    # Swin-MLP: 8x8 tokens (shifted blocks pad to 12x12), then 4x4 (window covers it: no shift),
    # then 2x2 (the official code shrinks the window to 2).
    mlp = randomize(SwinMlp(32, 16, [2, 2, 1], [2, 4, 8], 4, 10), 3)
    with torch.no_grad():
        np.save(os.path.join(OUT, "mlp_logits32.npy"), mlp(plain_input).numpy())
    torch.save({"model": mlp.state_dict()}, os.path.join(OUT, "mlp_official.pth"))
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
