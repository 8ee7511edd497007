#!/usr/bin/python3
"""Fixtures for the file readers: torch.save checkpoints in the shapes training scripts leave them,
and images with timm's eval transform computed by torchvision + PIL (the reference our C++ must match).

Run: /usr/bin/python3 tools/make_io_fixtures.py   (writes tests/fixtures/io/)
"""
import argparse
import os

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "io")


def checkpoints():
    # Values chosen so every dtype round-trips exactly: a.b = arange / 8.
    sd = {"a.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8,
          "a.half": (torch.arange(6, dtype=torch.float32) / 8).half(),
          "a.bf16": (torch.arange(6, dtype=torch.float32) / 8).bfloat16(),
          "a.transposed": (torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8).t(),  # strides (1, 4)
          "a.index": torch.arange(5, dtype=torch.int64)}
    torch.save(sd, os.path.join(OUT, "bare.pth"))
    torch.save({"model": sd, "args": argparse.Namespace(lr=0.1, model="x"), "epoch": 3, "optimizer": {"lr": [0.1]}},
               os.path.join(OUT, "wrapped_model.pth"))
    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, os.path.join(OUT, "wrapped_state_dict.pth"))


def images():
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (23, 37, 3), dtype=np.uint8), "RGB").save(os.path.join(OUT, "rgb_37x23.png"))
    Image.fromarray(rng.integers(0, 256, (64, 50), dtype=np.uint8), "L").save(os.path.join(OUT, "grey_50x64.png"))
    Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8), "L").save(os.path.join(OUT, "grey_28x28.png"))
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8), "RGB").save(os.path.join(OUT, "rgb_30x40.jpg"), quality=95)
    cases = [  # file, size, crop_pct, interpolation, mode
        ("rgb_37x23.png", 16, 0.875, "bicubic", "RGB"),
        ("rgb_37x23.png", 20, 1.0, "bilinear", "RGB"),
        ("grey_50x64.png", 24, 0.9, "bicubic", "RGB"),
        ("rgb_37x23.png", 16, 0.875, "bilinear", "L"),
        ("grey_28x28.png", 32, 1.0, "bilinear", "L"),
        ("rgb_30x40.jpg", 21, 0.875, "bicubic", "RGB"),
    ]
    modes = {"bicubic": transforms.InterpolationMode.BICUBIC, "bilinear": transforms.InterpolationMode.BILINEAR}
    with open(os.path.join(OUT, "preprocess_cases.txt"), "w") as listing:
        for i, (name, size, crop_pct, interpolation, mode) in enumerate(cases):
            channels = 3 if mode == "RGB" else 1
            mean, std = [0.485, 0.456, 0.406][:channels], [0.229, 0.224, 0.225][:channels]
            transform = transforms.Compose([  # timm's eval transform
                transforms.Resize(int(size / crop_pct), interpolation=modes[interpolation]),
                transforms.CenterCrop(size), transforms.ToTensor(), transforms.Normalize(mean, std)])
            expected = transform(Image.open(os.path.join(OUT, name)).convert(mode)).numpy()
            np.save(os.path.join(OUT, f"preprocess_{i}.npy"), expected.astype(np.float32))
            listing.write(f"{name} {size} {crop_pct} {interpolation} {channels} preprocess_{i}.npy\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    checkpoints()
    images()
    print("wrote", sorted(os.listdir(OUT)))
