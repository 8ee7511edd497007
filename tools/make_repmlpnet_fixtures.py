#!/usr/bin/python3
"""RepMLPNet fixtures: a small configuration of our re-expression of the official
DingXiaoH/RepMLP repmlpnet.py (same module names, so the same state-dict keys), with seeded random
weights and randomised BatchNorm statistics, saved in its training-time form and in the deployed form
that the reference's locality_injection() produces (re-expressed below), with the logits for one
seeded input. Both forms must give the same logits here before they are saved.

Run: /usr/bin/python3 tools/make_repmlpnet_fixtures.py   (writes tests/fixtures/repmlpnet/)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "repmlpnet")

# Input 32x32: stage maps 8, 4, 2, 1. Partitions 4, 2, 2, 1 give four partitions per map in the
# first two stages (where the reference's un-partition order matters) and whole-map ones later. Sharesets 1, 4,
# 8, 8 divide the channels with 16, 6, 4 and 5 channels per shareset.
CONFIG = dict(channels=(16, 24, 32, 40), hs=(4, 2, 2, 1), num_blocks=(1, 2, 1, 1),
              sharesets=(1, 4, 8, 8), reparam_conv_k=(1, 3), num_classes=7)


def conv_bn(cin, cout, k, stride, padding, groups=1):
    seq = nn.Sequential()
    seq.add_module("conv", nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=False))
    seq.add_module("bn", nn.BatchNorm2d(cout))
    return seq


def conv_bn_relu(cin, cout, k, stride, padding):
    seq = conv_bn(cin, cout, k, stride, padding)
    seq.add_module("relu", nn.ReLU())
    return seq


def folded(weight, bn):
    """A conv or FC weight followed by BatchNorm -> (weight, bias). When the BatchNorm has fewer
    channels than the weight has rows (fc3_bn over S sharesets, fc3 with S*h*w rows), each of its
    channels covers a contiguous block of rows, as in the reference's fuse_bn."""
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    shift = bn.bias - bn.running_mean * scale
    repeat = weight.shape[0] // scale.shape[0]
    scale, shift = scale.repeat_interleave(repeat), shift.repeat_interleave(repeat)
    return weight * scale.reshape(-1, *([1] * (weight.dim() - 1))), shift


class GlobalPerceptron(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


class RepMLPBlock(nn.Module):
    def __init__(self, channels, h, w, kernels, reduce, sharesets, deploy=False):
        super().__init__()
        self.C, self.S, self.h, self.w, self.kernels = channels, sharesets, h, w, kernels
        self.gp = GlobalPerceptron(channels, channels // reduce)
        self.fc3 = nn.Conv2d(sharesets * h * w, sharesets * h * w, 1, groups=sharesets, bias=deploy)
        self.deploy = deploy
        if not deploy:
            self.fc3_bn = nn.BatchNorm2d(sharesets)
            for k in kernels:
                setattr(self, "repconv%d" % k, conv_bn(sharesets, sharesets, k, 1, k // 2, groups=sharesets))

    def forward(self, x):
        n, c, height, width = x.shape
        hp, wp = height // self.h, width // self.w
        gate = self.gp(x)
        # [N, C, hp, h, wp, w] -> [N, hp, wp, C, h, w]: rows of S consecutive channels' partitions.
        parts = x.reshape(n, c, hp, self.h, wp, self.w).permute(0, 2, 4, 1, 3, 5)
        out = self.fc3(parts.reshape(-1, self.S * self.h * self.w, 1, 1)).reshape(-1, self.S, self.h, self.w)
        if not self.deploy:
            out = self.fc3_bn(out)
            local = parts.reshape(-1, self.S, self.h, self.w)
            out = out + sum(getattr(self, "repconv%d" % k)(local) for k in self.kernels)
        # The reference un-partitions by viewing the [N, hp, wp, C, h, w] result as
        # [N*C/S, hp, wp, S, h, w]: the inverse of the partition only with one partition per map or
        # one channel per shareset. Kept as the reference has it (vkvision reproduces this order).
        out = out.reshape(-1, hp, wp, self.S, self.h, self.w).permute(0, 3, 1, 4, 2, 5).reshape(n, c, height, width)
        return out * gate

    def locality_injection(self):
        """The reference's local_inject(): fold fc3_bn into fc3, turn each conv branch (+BN) into the
        FC that applies it to one (S, h, w) partition by running it on an identity batch, and sum."""
        hw = self.h * self.w
        weight, bias = folded(self.fc3.weight, self.fc3_bn)
        largest = max(self.kernels)
        kernel = torch.zeros(self.S, 1, largest, largest)
        conv_bias = torch.zeros(self.S)
        for k in self.kernels:
            branch = getattr(self, "repconv%d" % k)
            kk, kb = folded(branch.conv.weight, branch.bn)
            pad = (largest - k) // 2
            kernel = kernel + F.pad(kk, [pad] * 4)
            conv_bias = conv_bias + kb
            delattr(self, "repconv%d" % k)
        # Batch of hw one-hot inputs, the same one-hot in every shareset channel.
        eye = torch.eye(hw).repeat(1, self.S).reshape(hw, self.S, self.h, self.w)
        fc = F.conv2d(eye, kernel, padding=largest // 2, groups=self.S).reshape(hw, self.S * hw).t()
        fc3 = nn.Conv2d(self.S * hw, self.S * hw, 1, groups=self.S, bias=True)
        fc3.weight.data = weight + fc.reshape_as(weight)
        fc3.bias.data = bias + conv_bias.repeat_interleave(hw)
        self.fc3 = fc3
        del self.fc3_bn
        self.deploy = True


class FFNBlock(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.ffn_fc1 = conv_bn(channels, hidden, 1, 1, 0)
        self.ffn_fc2 = conv_bn(hidden, channels, 1, 1, 0)

    def forward(self, x):
        return self.ffn_fc2(F.gelu(self.ffn_fc1(x)))


class RepMLPNetUnit(nn.Module):
    def __init__(self, channels, h, w, kernels, reduce, sharesets):
        super().__init__()
        self.repmlp_block = RepMLPBlock(channels, h, w, kernels, reduce, sharesets)
        self.ffn_block = FFNBlock(channels, channels * 4)
        self.prebn1 = nn.BatchNorm2d(channels)
        self.prebn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = x + self.repmlp_block(self.prebn1(x))
        return y + self.ffn_block(self.prebn2(y))


class RepMLPNet(nn.Module):
    def __init__(self, channels, hs, num_blocks, sharesets, reparam_conv_k, num_classes, reduce=4, patch=4):
        super().__init__()
        self.conv_embedding = conv_bn_relu(3, channels[0], patch, patch, 0)
        self.stages = nn.ModuleList(
            nn.ModuleList(RepMLPNetUnit(channels[i], hs[i], hs[i], reparam_conv_k, reduce, sharesets[i])
                          for _ in range(num_blocks[i])) for i in range(len(channels)))
        self.embeds = nn.ModuleList(conv_bn_relu(channels[i], channels[i + 1], 2, 2, 0) for i in range(len(channels) - 1))
        self.head_norm = nn.BatchNorm2d(channels[-1])
        self.head = nn.Linear(channels[-1], num_classes)

    def forward(self, x):
        x = self.conv_embedding(x)
        for i, stage in enumerate(self.stages):
            for block in stage:
                x = block(x)
            if i < len(self.embeds):
                x = self.embeds[i](x)
        return self.head(F.adaptive_avg_pool2d(self.head_norm(x), 1).flatten(1))

    def locality_injection(self):
        for module in self.modules():
            if isinstance(module, RepMLPBlock):
                module.locality_injection()


def randomise(model, generator):
    """Every weight non-trivial; BatchNorm statistics far from (0, 1) so that every fold matters."""
    with torch.no_grad():
        for p in model.parameters():
            # Weights ~ 1/sqrt(fan_in) keep activations O(1) through the residual stack.
            fan_in = p[0].numel() if p.dim() > 1 else 4
            p.copy_(torch.randn(p.shape, generator=generator) / fan_in ** 0.5)
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                c = module.num_features
                module.weight.copy_(0.5 + torch.rand(c, generator=generator))
                module.running_mean.copy_(torch.randn(c, generator=generator) * 0.5)
                module.running_var.copy_(0.5 + torch.rand(c, generator=generator) * 1.5)


def main():
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(20240611)
    model = RepMLPNet(**CONFIG)
    randomise(model, generator)
    model.eval()
    x = torch.randn(2, 3, 32, 32, generator=generator)
    with torch.no_grad():
        train_logits = model(x)
        torch.save(model.state_dict(), os.path.join(OUT, "official_train.pth"))
        model.locality_injection()
        deploy_logits = model(x)
        torch.save(model.state_dict(), os.path.join(OUT, "official_deploy.pth"))
    difference = (train_logits - deploy_logits).abs().max().item()
    assert difference < 1e-4, difference
    np.save(os.path.join(OUT, "input.npy"), x.numpy())
    np.save(os.path.join(OUT, "logits.npy"), train_logits.numpy())
    print("logits", tuple(train_logits.shape), "range %.3f..%.3f" % (train_logits.min(), train_logits.max()),
          "train vs deploy max diff %.2e" % difference)


if __name__ == "__main__":
    main()
