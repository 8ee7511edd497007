#!/usr/bin/python3
"""RepVGG fixtures: a reduced RepVGG re-expressed from the official DingXiaoH/RepVGG repvgg.py (training
form: 3x3 conv+BN, 1x1 conv+BN and identity BN branches), with seeded random weights and randomised
BatchNorm running statistics so that every fold matters. Saved as

- official_train.pth: the training-time state dict in the official naming ({'model': sd}, as the
  official train script's checkpoints hold it);
- official_deploy.pth: the same network after our re-expression of repvgg_model_convert() (one
  rbr_reparam 3x3 conv with bias per block);
- timm_train.safetensors: the training-time weights renamed into timm's byobnet naming;
- input.npy [2,3,40,40] (stage sizes 20,10,5,3,2: odd sizes at the stride-2 3x3 convs) and logits.npy
  from the training-form model;
- official_se_train.pth, official_se_deploy.pth, timm_se_train.safetensors and se_logits.npy: the same network with the
  official SEBlock (RepVGG-D2se's use_se) on every block, in the same three forms;
- broken_missing_bn.safetensors: timm_train without one BatchNorm tensor (a malformed checkpoint).

Run: /usr/bin/python3 tools/make_repvgg_fixtures.py   (writes tests/fixtures/repvgg/)
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "repvgg")
DEPTHS = (2, 3, 2, 1)
WIDTHS = (16, 16, 24, 32, 48)  # stage0, stage1..4
GROUPED = {2: 2, 4: 4}         # the official override_groups_map: layer index -> groups
CLASSES = 10


def conv_bn(cin, cout, kernel, stride, groups):
    seq = nn.Sequential()
    seq.add_module("conv", nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False))
    seq.add_module("bn", nn.BatchNorm2d(cout))
    return seq


class SEBlock(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.down = nn.Conv2d(channels, hidden, 1)
        self.up = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        s = F.avg_pool2d(x, kernel_size=x.size(3))
        return x * torch.sigmoid(self.up(F.relu(self.down(s))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride, groups, se):
        super().__init__()
        self.rbr_identity = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None
        self.rbr_dense = conv_bn(cin, cout, 3, stride, groups)
        self.rbr_1x1 = conv_bn(cin, cout, 1, stride, groups)
        self.se = SEBlock(cout, max(1, cout // 16)) if se else nn.Identity()

    def forward(self, x):
        identity = 0 if self.rbr_identity is None else self.rbr_identity(x)
        return F.relu(self.se(self.rbr_dense(x) + self.rbr_1x1(x) + identity))


class RepVGG(nn.Module):
    def __init__(self, se=False):
        super().__init__()
        self.stage0 = Block(3, WIDTHS[0], 2, 1, se)
        layer, cin = 1, WIDTHS[0]
        for s, depth in enumerate(DEPTHS, start=1):
            blocks = []
            for j in range(depth):
                blocks.append(Block(cin, WIDTHS[s], 2 if j == 0 else 1, GROUPED.get(layer, 1), se))
                cin, layer = WIDTHS[s], layer + 1
            setattr(self, f"stage{s}", nn.Sequential(*blocks))
        self.linear = nn.Linear(cin, CLASSES)

    def forward(self, x):
        x = self.stage0(x)
        for s in range(1, 5):
            x = getattr(self, f"stage{s}")(x)
        return self.linear(F.adaptive_avg_pool2d(x, 1).flatten(1))


def fuse(kernel, bn):
    std = (bn.running_var + bn.eps).sqrt()
    return kernel * (bn.weight / std).reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * bn.weight / std


def deploy_block(block, groups):
    """repvgg_model_convert(), re-expressed: 1x1 padded to 3x3, identity as a centred one per channel."""
    k3, b3 = fuse(block.rbr_dense.conv.weight, block.rbr_dense.bn)
    k1, b1 = fuse(F.pad(block.rbr_1x1.conv.weight, [1, 1, 1, 1]), block.rbr_1x1.bn)
    kernel, bias = k3 + k1, b3 + b1
    if block.rbr_identity is not None:
        channels = block.rbr_identity.num_features
        per_group = channels // groups
        eye = torch.zeros(channels, per_group, 3, 3)
        for c in range(channels):
            eye[c, c % per_group, 1, 1] = 1
        ki, bi = fuse(eye, block.rbr_identity)
        kernel, bias = kernel + ki, bias + bi
    return kernel, bias


def randomize(model, generator):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.copy_(0.5 + torch.rand(module.weight.shape, generator=generator))
                module.bias.copy_(0.2 * torch.randn(module.bias.shape, generator=generator))
                module.running_mean.copy_(0.2 * torch.randn(module.running_mean.shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=generator))
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) / fan_in ** 0.5)
                if module.bias is not None:
                    module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
        for module in model.modules():
            if isinstance(module, SEBlock):
                # Gates mostly open (sigmoid of 1..3) but varying, so nine gated blocks keep the
                # activations O(1) and the logits input-dependent.
                module.up.bias.copy_(2.0 + 0.5 * torch.randn(module.up.bias.shape, generator=generator))
    return model.eval()


def timm_name(name):
    name = name.replace("rbr_dense", "conv_kxk").replace("rbr_1x1", "conv_1x1").replace("rbr_identity", "identity")
    name = name.replace("linear.", "head.fc.").replace(".se.down.", ".attn.fc1.").replace(".se.up.", ".attn.fc2.")
    if name.startswith("stage0."):
        return "stem." + name[len("stage0."):]
    for s in range(1, 5):
        if name.startswith(f"stage{s}."):
            return f"stages.{s - 1}." + name[len(f"stage{s}."):]
    return name


def save_variant(se, generator, x, prefix):
    model = randomize(RepVGG(se), generator)
    with torch.no_grad():
        logits = model(x)
    state = {k: v for k, v in model.state_dict().items()}
    torch.save({"model": state}, os.path.join(OUT, f"official_{prefix}train.pth"))

    deployed, layer = {}, 0
    blocks = [("stage0", model.stage0, 1)]
    for s in range(1, 5):
        for j, block in enumerate(getattr(model, f"stage{s}")):
            layer += 1
            blocks.append((f"stage{s}.{j}", block, GROUPED.get(layer, 1)))
    check = x
    with torch.no_grad():
        for name, block, groups in blocks:
            kernel, bias = deploy_block(block, groups)
            deployed[f"{name}.rbr_reparam.weight"], deployed[f"{name}.rbr_reparam.bias"] = kernel, bias
            for key, value in block.se.state_dict().items():
                deployed[f"{name}.se.{key}"] = value
            check = F.relu(block.se(F.conv2d(check, kernel, bias, block.rbr_dense.conv.stride, 1, groups=groups)))
        deployed["linear.weight"], deployed["linear.bias"] = model.linear.weight, model.linear.bias
        check = model.linear(F.adaptive_avg_pool2d(check, 1).flatten(1))
    assert torch.allclose(check, logits, atol=1e-4), (check - logits).abs().max()
    torch.save(deployed, os.path.join(OUT, f"official_{prefix}deploy.pth"))

    timm = {timm_name(k): v.numpy() for k, v in state.items() if not k.endswith("num_batches_tracked")}
    save_safetensors(os.path.join(OUT, f"timm_{prefix}train.safetensors"), timm, {"format": "pt"})
    if not se:
        # A training checkpoint whose 1x1 branch lost its BatchNorm's variance: the CLI must refuse it.
        broken = {k: v for k, v in timm.items() if k != "stages.1.0.conv_1x1.bn.running_var"}
        save_safetensors(os.path.join(OUT, "broken_missing_bn.safetensors"), broken, {"format": "pt"})
    np.save(os.path.join(OUT, f"{prefix}logits.npy"), logits.numpy())
    print(f"{prefix or 'plain '}: max |deployed - trained| =", float((check - logits).abs().max()))


def main():
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(2, 3, 40, 40, generator=generator)
    np.save(os.path.join(OUT, "input.npy"), x.numpy())
    save_variant(False, generator, x, "")
    save_variant(True, generator, x, "se_")


if __name__ == "__main__":
    main()
