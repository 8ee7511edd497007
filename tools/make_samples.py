#!/usr/bin/python3
"""Writes samples/: the first Fashion-MNIST test image of eight different classes, as 28x28 grey PNGs
named <test index>_<label>.png (from Debian's dataset-fashion-mnist).

Run: /usr/bin/python3 tools/make_samples.py
"""
import gzip
import os

import numpy as np
from PIL import Image

DATA = "/usr/share/datasets/fashion-mnist"
LABELS = ["t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]
OUT = os.path.join(os.path.dirname(__file__), "..", "samples")

with gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")) as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
with gzip.open(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")) as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)
os.makedirs(OUT, exist_ok=True)
wanted = [9, 2, 1, 6, 4, 5, 7, 8]  # ankle boot, pullover, trouser, shirt, coat, sandal, sneaker, bag
for label in wanted:
    index = int(np.flatnonzero(labels == label)[0])
    name = f"{index:04d}_{LABELS[label]}.png"
    Image.fromarray(images[index], "L").save(os.path.join(OUT, name))
    print(name)
