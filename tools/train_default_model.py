#!/usr/bin/python3
"""Trains vkvision's bundled default model: a small ConvNeXt (timm naming, 1 input channel, patch 2,
depths 1,1,3,1, dims 24,48,96,192, layer scale initialised to 0.1) on Fashion-MNIST from Debian's dataset-fashion-mnist, and saves it
as models/convnext_fmnist.safetensors with its labels, preprocessing and PyTorch test accuracy.

Run: /usr/bin/python3 tools/train_default_model.py [--epochs N]

Eval preprocessing (recorded in the file, reproduced by `vkvision eval`): timm's eval transform at
input 32, crop_pct 1.0, bilinear: PIL resizes the 28x28 uint8 image to 32x32, then / 255 and normalise
with mean 0.2860, std 0.3530. Training feeds the float bilinear resize of the same images (equal to
PIL's up to its uint8 rounding); the recorded accuracy is measured with the PIL transform itself.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN, STD, SIZE = 0.2860, 0.3530, 32


def read_idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def eval_transform(images_uint8):
    """timm's eval transform on PIL images: what `vkvision eval` and `classify` compute."""
    resized = np.stack([np.asarray(Image.fromarray(image).resize((SIZE, SIZE), Image.BILINEAR)) for image in images_uint8])
    return (torch.from_numpy(resized.astype(np.float32) / 255.0).unsqueeze(1) - MEAN) / STD


def preprocess(images_uint8):
    x = torch.from_numpy(images_uint8.astype(np.float32) / 255.0).unsqueeze(1)
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return (x - MEAN) / STD


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(dim, 4 * dim)
        self.mlp.fc2 = nn.Linear(4 * dim, dim)
        # 0.1 rather than ConvNeXt's 1e-6: a few epochs on 60k images need the blocks to learn early.
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x):
        y = self.norm(self.conv_dw(x).permute(0, 2, 3, 1))
        y = self.mlp.fc2(F.gelu(self.mlp.fc1(y))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    """timm's ConvNeXt module names: stem.0/1, stages.i.downsample.0/1, stages.i.blocks.j.*, head.norm/fc."""

    def __init__(self, in_chans=1, patch=2, depths=(1, 1, 3, 1), dims=(24, 48, 96, 192), classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_chans, dims[0], patch, patch), LayerNorm2d(dims[0], eps=1e-6))
        self.stages = nn.ModuleList()
        for i, (depth, dim) in enumerate(zip(depths, dims)):
            stage = nn.Module()
            if i > 0:
                stage.downsample = nn.Sequential(LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dim, 2, 2))
            stage.blocks = nn.Sequential(*[Block(dim) for _ in range(depth)])
            self.stages.append(stage)
        self.head = nn.Module()
        self.head.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head.fc = nn.Linear(dims[-1], classes)

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            if hasattr(stage, "downsample"):
                x = stage.downsample(x)
            x = stage.blocks(x)
        return self.head.fc(self.head.norm(x.mean((2, 3))))


def accuracy(model, images, labels, transform=preprocess):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), 500):
            logits = model(transform(images[start:start + 500]))
            correct += (logits.argmax(1).numpy() == labels[start:start + 500]).sum()
    return 100.0 * correct / len(images)


def augment(batch):
    # Random horizontal flip and a shift of up to 2 pixels (pad + crop), on the 32x32 tensors.
    flip = torch.rand(batch.shape[0]) < 0.5
    batch[flip] = batch[flip].flip(3)
    padded = F.pad(batch, (2, 2, 2, 2), value=-MEAN / STD)
    dy, dx = np.random.randint(0, 5, 2)
    return padded[:, :, dy:dy + SIZE, dx:dx + SIZE]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "models", "convnext_fmnist.safetensors"))
    args = parser.parse_args()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    train_x, train_y = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    test_x, test_y = read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")
    inputs, targets = preprocess(train_x), torch.from_numpy(train_y.astype(np.int64))
    model = ConvNeXt()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    batch, steps_per_epoch = 128, math.ceil(len(inputs) / 128)
    total = args.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 300) * 0.5 * (1 + math.cos(math.pi * s / total)))
    began = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(inputs))
        for step in range(steps_per_epoch):
            index = order[step * batch:(step + 1) * batch]
            loss = F.cross_entropy(model(augment(inputs[index].clone())), targets[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.3f}, test accuracy {accuracy(model, test_x, test_y):.2f}%, "
              f"{time.time() - began:.0f} s", flush=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    # The accuracy recorded is that of exactly the weights saved, with the eval preprocessing above.
    final = accuracy(model, test_x, test_y, eval_transform)
    metadata = {
        "format": "pt", "vkvision.family": "convnext", "vkvision.labels": json.dumps(LABELS),
        "vkvision.input_size": str(SIZE), "vkvision.interpolation": "bilinear", "vkvision.crop_pct": "1.0",
        "vkvision.mean": json.dumps([MEAN]), "vkvision.std": json.dumps([STD]),
        "vkvision.pytorch_test_accuracy": f"{final:.2f}",
        "vkvision.training": f"tools/train_default_model.py --epochs {args.epochs}, {time.time() - began:.0f} s on 2 CPU cores",
    }
    save_safetensors(args.out, state, metadata)
    print(f"saved {args.out}: PyTorch test accuracy {final:.2f}% after {time.time() - began:.0f} s")


if __name__ == "__main__":
    main()
