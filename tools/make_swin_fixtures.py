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
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
