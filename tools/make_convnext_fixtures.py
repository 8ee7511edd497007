#!/usr/bin/python3
"""ConvNeXt fixtures: small configurations with seeded random weights in the three namings, each run by
its own PyTorch definition (torchvision's real ConvNeXt; our re-expressions of the official
facebookresearch/ConvNeXt and timm definitions), with the logits for one seeded input.

Run: /usr/bin/python3 tools/make_convnext_fixtures.py   (writes tests/fixtures/convnext/)
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import convnext as tv

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "convnext")


def channels_first_norm(x, norm):
    return F.layer_norm(x.permute(0, 2, 3, 1), norm.normalized_shape, norm.weight, norm.bias, norm.eps).permute(0, 3, 1, 2)


class OfficialBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        y = self.norm(self.dwconv(x).permute(0, 2, 3, 1))
        y = self.gamma * self.pwconv2(F.gelu(self.pwconv1(y)))
        return x + y.permute(0, 3, 1, 2)


class OfficialConvNeXt(nn.Module):
    """facebookresearch/ConvNeXt models/convnext.py, re-expressed: downsample_layers[0] is the stem."""

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


class TimmBlock(nn.Module):
    def __init__(self, dim, conv_mlp):
        super().__init__()
        self.conv_mlp = conv_mlp
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Conv2d(dim, 4 * dim, 1) if conv_mlp else nn.Linear(dim, 4 * dim)
        self.mlp.fc2 = nn.Conv2d(4 * dim, dim, 1) if conv_mlp else nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        y = self.conv_dw(x)
        if self.conv_mlp:  # timm: LayerNorm2d, then 1x1 convolutions on NCHW
            y = self.mlp.fc2(F.gelu(self.mlp.fc1(channels_first_norm(y, self.norm))))
            return x + y * self.gamma.reshape(1, -1, 1, 1)
        y = self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm(y.permute(0, 2, 3, 1)))))
        return x + (y * self.gamma).permute(0, 3, 1, 2)


class TimmConvNeXt(nn.Module):
    """timm convnext.py naming: stem.0/1, stages.i.downsample.0/1 (from stage 1), stages.i.blocks.j, head.norm/fc."""

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
    """Every parameter non-trivial: weights ~0.15 N(0,1), LayerNorm scales around 1, layer scale 0.3..1."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            if name.endswith("gamma") or name.endswith("layer_scale"):
                p.copy_(0.3 + 0.7 * torch.rand(p.shape, generator=generator))
            elif p.dim() == 1 and "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * noise)
            else:
                p.copy_(0.15 * noise)
    return model.eval()


def save_logits(model, x, name):
    with torch.no_grad():
        np.save(os.path.join(OUT, name), model(x).numpy().astype(np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    x = torch.randn(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    np.save(os.path.join(OUT, "input.npy"), x.numpy())
    depths, dims = (1, 2, 3, 1), (12, 20, 36, 44)

    settings = [tv.CNBlockConfig(12, 20, 1), tv.CNBlockConfig(20, 36, 2), tv.CNBlockConfig(36, 44, 3), tv.CNBlockConfig(44, None, 1)]
    torchvision_model = randomize(tv.ConvNeXt(settings, num_classes=10, stochastic_depth_prob=0.0), 1)
    torch.save(torchvision_model.state_dict(), os.path.join(OUT, "torchvision.pth"))
    save_logits(torchvision_model, x, "torchvision_logits.npy")

    official = randomize(OfficialConvNeXt(depths, dims, 10), 2)
    torch.save({"model": official.state_dict(), "epoch": 1}, os.path.join(OUT, "official.pth"))
    save_logits(official, x, "official_logits.npy")

    timm_model = randomize(TimmConvNeXt(depths, dims, 10), 3)
    save_safetensors(os.path.join(OUT, "timm.safetensors"), {k: v.numpy() for k, v in timm_model.state_dict().items()})
    save_logits(timm_model, x, "timm_logits.npy")

    conv_mlp = randomize(TimmConvNeXt((1, 1, 2, 1), (8, 12, 20, 28), 7, conv_mlp=True), 4)
    save_safetensors(os.path.join(OUT, "timm_convmlp.safetensors"), {k: v.numpy() for k, v in conv_mlp.state_dict().items()})
    save_logits(conv_mlp, x, "timm_convmlp_logits.npy")
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
