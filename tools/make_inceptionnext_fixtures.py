#!/usr/bin/python3
"""InceptionNeXt fixtures: two small configurations with seeded random weights and randomised
BatchNorm running statistics (so every BatchNorm fold is exercised), run by our re-expression of
sail-sg/inceptionnext models/inceptionnext.py (timm's inception_next.py has the same modules and
tensor names), with the logits for one seeded input.

Run: /usr/bin/python3 tools/make_inceptionnext_fixtures.py   (writes tests/fixtures/inceptionnext/)
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "inceptionnext")


class InceptionDepthwise(nn.Module):
    """Channels split (C - 3g | g | g | g), g = int(C * branch_ratio): identity, k x k, 1 x band,
    band x 1 depthwise convolutions, concatenated back in that order."""

    def __init__(self, dim, square=3, band=11, branch_ratio=0.125):
        super().__init__()
        g = int(dim * branch_ratio)
        self.dwconv_hw = nn.Conv2d(g, g, square, padding=square // 2, groups=g)
        self.dwconv_w = nn.Conv2d(g, g, (1, band), padding=(0, band // 2), groups=g)
        self.dwconv_h = nn.Conv2d(g, g, (band, 1), padding=(band // 2, 0), groups=g)
        self.split = (dim - 3 * g, g, g, g)

    def forward(self, x):
        identity, square, wide, tall = torch.split(x, self.split, dim=1)
        return torch.cat((identity, self.dwconv_hw(square), self.dwconv_w(wide), self.dwconv_h(tall)), dim=1)


class Block(nn.Module):
    """x + gamma * fc2(gelu(fc1(BN(mixer(x))))), fc1/fc2 1x1 convolutions (the reference's ConvMlp)."""

    def __init__(self, dim, mlp_ratio, mixer):
        super().__init__()
        self.token_mixer = mixer(dim)
        self.norm = nn.BatchNorm2d(dim)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Conv2d(dim, int(mlp_ratio * dim), 1)
        self.mlp.fc2 = nn.Conv2d(int(mlp_ratio * dim), dim, 1)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        y = self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm(self.token_mixer(x)))))
        return x + y * self.gamma.reshape(1, -1, 1, 1)


class InceptionNeXt(nn.Module):
    """MetaNeXt with the reference's names: stem.0/1, stages.i.downsample.0/1 (i > 0),
    stages.i.blocks.j, head.fc1/norm/fc2 (MlpHead: mean, linear C->3C, GELU, LayerNorm eps 1e-6, linear)."""

    def __init__(self, depths, dims, classes, mixer, mlp_ratios=(4, 4, 4, 3), head_ratio=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), nn.BatchNorm2d(dims[0]))
        stages = []
        for i, (depth, dim) in enumerate(zip(depths, dims)):
            stage = nn.Module()
            if i > 0:
                stage.downsample = nn.Sequential(nn.BatchNorm2d(dims[i - 1]), nn.Conv2d(dims[i - 1], dim, 2, 2))
            stage.blocks = nn.Sequential(*[Block(dim, mlp_ratios[i], mixer) for _ in range(depth)])
            stages.append(stage)
        self.stages = nn.Sequential(*stages)
        self.head = nn.Module()
        self.head.fc1 = nn.Linear(dims[-1], head_ratio * dims[-1])
        self.head.norm = nn.LayerNorm(head_ratio * dims[-1], eps=1e-6)
        self.head.fc2 = nn.Linear(head_ratio * dims[-1], classes)

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            if hasattr(stage, "downsample"):
                x = stage.downsample(x)
            x = stage.blocks(x)
        x = x.mean((2, 3))
        return self.head.fc2(self.head.norm(F.gelu(self.head.fc1(x))))


def randomize(model, seed):
    """Weights ~0.15 N(0,1); norm scales around 1; layer scale 0.3..1; BatchNorm running mean
    ~0.3 N(0,1) and running variance 0.5..2, so no BatchNorm is close to the identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            if name.endswith("gamma"):
                p.copy_(0.3 + 0.7 * torch.rand(p.shape, generator=generator))
            elif p.dim() == 1 and name.endswith("weight"):  # BatchNorm and LayerNorm scales
                p.copy_(1.0 + 0.2 * noise)
            else:
                p.copy_(0.15 * noise)
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(0.3 * torch.randn(module.running_mean.shape, generator=generator))
                module.running_var.copy_(0.5 + 1.5 * torch.rand(module.running_var.shape, generator=generator))
    return model.eval()


def save_logits(model, x, name):
    with torch.no_grad():
        np.save(os.path.join(OUT, name), model(x).numpy().astype(np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    # 44 / 4 = 11: stage maps 11, 5, 2, 1, so the 11-tap bands overlap both borders everywhere.
    x = torch.randn(2, 3, 44, 44, generator=torch.Generator().manual_seed(0))
    np.save(os.path.join(OUT, "input.npy"), x.numpy())

    # tiny's mixer (square 3, band 11, ratio 1/8): branches of 3, 4, 6, 7 channels, identity 15..35.
    official = randomize(InceptionNeXt((1, 1, 2, 1), (24, 32, 48, 56), 10, InceptionDepthwise), 1)
    torch.save(official.state_dict(), os.path.join(OUT, "official.pth"))  # released files are bare
    save_logits(official, x, "official_logits.npy")

    # atto's mixer (band 9, ratio 1/4): branches of 4, 6, 8, 10 channels.
    def atto_mixer(dim):
        return InceptionDepthwise(dim, band=9, branch_ratio=0.25)
    timm_model = randomize(InceptionNeXt((1, 1, 1, 1), (16, 24, 32, 40), 7, atto_mixer), 2)
    save_safetensors(os.path.join(OUT, "timm_atto_form.safetensors"),
                     {k: v.numpy() for k, v in timm_model.state_dict().items()})
    save_logits(timm_model, x, "timm_atto_form_logits.npy")
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
