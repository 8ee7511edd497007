#!/usr/bin/python3
"""Fixtures for the file readers: torch.save checkpoints in the shapes training scripts leave them,
and images with timm's eval transform computed by torchvision + PIL (the reference our C++ must match).

Run: /usr/bin/python3 tools/make_io_fixtures.py   (writes tests/fixtures/io/)
     /usr/bin/python3 tools/make_io_fixtures.py --pil-only   (only the files that need PIL and numpy, not torch)
"""
import argparse
import os
import struct
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "io")


def checkpoints():
    import torch
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
    from torchvision import transforms
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


def eval_transform_with_pil(image, size, crop_pct, resample, mean, std):
    """timm's eval transform as torchvision runs it on a PIL image: Resize(int) is Image.resize to the
    size _compute_resized_output_size gives, CenterCrop is Image.crop at int(round((h - size) / 2)),
    then ToTensor and Normalize in float32. PIL only, for shapes far from square."""
    w, h = image.size
    short, long = min(w, h), max(w, h)
    new_short = int(size / crop_pct)
    new_long = int(new_short * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = image if (new_w, new_h) == (w, h) else image.resize((new_w, new_h), resample)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    pixels = np.asarray(resized.crop((left, top, left + size, top + size)), dtype=np.float32) / np.float32(255)
    pixels = pixels.reshape(size, size, -1).transpose(2, 0, 1)
    return (pixels - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pil_cases():
    """Extreme aspect ratios, downscales with wide filters, alpha and palette PNGs: the crop-only
    resampling must give PIL's bytes for all of them."""
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (3000, 2), dtype=np.uint8), "L").save(os.path.join(OUT, "tall_2x3000.png"))
    Image.fromarray(rng.integers(0, 256, (3, 1200, 3), dtype=np.uint8), "RGB").save(os.path.join(OUT, "wide_1200x3.png"))
    Image.fromarray(rng.integers(0, 256, (41, 301), dtype=np.uint8), "L").save(os.path.join(OUT, "downscale_301x41.png"))
    Image.fromarray(rng.integers(0, 256, (5, 7, 4), dtype=np.uint8), "RGBA").save(os.path.join(OUT, "rgba_7x5.png"))
    Image.fromarray(rng.integers(0, 256, (5, 7, 2), dtype=np.uint8), "LA").save(os.path.join(OUT, "la_7x5.png"))
    palette = Image.fromarray(rng.integers(0, 16, (6, 9), dtype=np.uint8), "P")
    palette.putpalette(rng.integers(0, 256, 16 * 3, dtype=np.uint8).tobytes())
    palette.save(os.path.join(OUT, "palette_9x6.png"))
    grey = Image.fromarray(rng.integers(0, 256, (7, 9), dtype=np.uint8), "L")
    grey.save(os.path.join(OUT, "grey_progressive_9x7.jpg"), quality=90, progressive=True)
    cases = [  # file, size, crop_pct, interpolation, mode
        ("tall_2x3000.png", 16, 0.9, "bicubic", "L"),
        ("wide_1200x3.png", 20, 0.875, "bilinear", "RGB"),
        ("downscale_301x41.png", 8, 1.0, "bicubic", "RGB"),
        ("downscale_301x41.png", 7, 0.6, "bilinear", "L"),
        ("rgba_7x5.png", 4, 0.875, "bicubic", "RGB"),
        ("rgba_7x5.png", 4, 0.875, "bicubic", "L"),
        ("la_7x5.png", 5, 1.0, "bilinear", "RGB"),
        ("palette_9x6.png", 6, 0.875, "bicubic", "RGB"),
    ]
    filters = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
    with open(os.path.join(OUT, "preprocess_pil_cases.txt"), "w") as listing:
        for i, (name, size, crop_pct, interpolation, mode) in enumerate(cases):
            channels = 3 if mode == "RGB" else 1
            mean, std = [0.485, 0.456, 0.406][:channels], [0.229, 0.224, 0.225][:channels]
            image = Image.open(os.path.join(OUT, name)).convert(mode)
            expected = eval_transform_with_pil(image, size, crop_pct, filters[interpolation], mean, std)
            np.save(os.path.join(OUT, f"preprocess_pil_{i}.npy"), expected.astype(np.float32))
            listing.write(f"{name} {size} {crop_pct} {interpolation} {channels} preprocess_pil_{i}.npy\n")


def limit_cases():
    """Files the decoder must handle or refuse without decoding everything: the issue's strip (1 x
    2,000,000 grey, black but for 20 white rows at the centre; PIL itself cannot resize it), a header claiming
    100,000 x 100,000 pixels with no data behind it, and GIF and BMP files."""
    rows = b"\0\0" * 999990 + b"\0\xff" * 20 + b"\0\0" * 999990  # filter byte 0, one pixel per row
    header = struct.pack(">IIBBBBB", 1, 2000000, 8, 0, 0, 0, 0)  # 8-bit greyscale
    with open(os.path.join(OUT, "strip_1x2000000.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows, 9)) +
                png_chunk(b"IEND", b""))
    header = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)  # 8-bit RGB
    with open(os.path.join(OUT, "bomb_100000x100000.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) +
                png_chunk(b"IEND", b""))
    tiny = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(2, 2, 3), "RGB")
    tiny.save(os.path.join(OUT, "tiny.gif"))
    tiny.save(os.path.join(OUT, "tiny.bmp"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pil-only", action="store_true", help="skip the fixtures that need torch and torchvision")
    os.makedirs(OUT, exist_ok=True)
    if not parser.parse_args().pil_only:
        checkpoints()
        images()
    pil_cases()
    limit_cases()
    print("wrote", sorted(os.listdir(OUT)))
