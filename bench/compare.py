#!/usr/bin/python3
"""Times vkvision against PyTorch CPU on the same machine, in one run, on the same networks and inputs.

For each model, torchvision's definition with seeded random weights is saved as a .pth; vkvision
loads that file (so both run the very same network), its logits are checked against PyTorch's, and
then both are timed at each batch size: `vkvision bench` (median of --iters whole inferences) and
PyTorch (median of as many forward passes, torch.no_grad, fp32). Prints a Markdown table.

Run: /usr/bin/python3 bench/compare.py [--models convnext_tiny swin_t swin_v2_t] [--batches 1 8]
     [--iters 10] [--vkvision build/vkvision]
PyTorch must use OpenBLAS (install libopenblas0-openmp): checked below, as Debian's torch otherwise
falls back to the netlib reference BLAS and is about 40x slower.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision

SIZES = {"convnext_tiny": 224, "swin_t": 224, "swin_v2_t": 256}


def openblas_loaded():
    with open("/proc/self/maps") as maps:
        return "openblas" in maps.read()


def time_torch(model, batch, size, iterations, warmup=2):
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.min(times))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=list(SIZES))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vkvision", default=os.path.join(os.path.dirname(__file__), "..", "build", "vkvision"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.zeros(64, 64) @ torch.zeros(64, 64)  # load BLAS before checking for it
    if not openblas_loaded():
        print("WARNING: PyTorch is not using OpenBLAS (apt-get install libopenblas0-openmp); its times are not representative",
              file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            size = SIZES[name]
            torch.manual_seed(0)
            model = getattr(torchvision.models, name)().eval()
            weights = os.path.join(tmp, name + ".pth")
            torch.save(model.state_dict(), weights)
            # Same network, same input: the logits must agree before any time is compared.
            x = torch.randn(2, 3, size, size)
            np.save(os.path.join(tmp, "x.npy"), x.numpy())
            with torch.no_grad():
                expected = model(x).numpy()
            subprocess.run([args.vkvision, "run", "--weights", weights, "--input", os.path.join(tmp, "x.npy"),
                            "--output", os.path.join(tmp, "y.npy")], check=True)
            difference = float(np.abs(np.load(os.path.join(tmp, "y.npy")) - expected).max())
            for batch in args.batches:
                report = os.path.join(tmp, "bench.json")
                subprocess.run([args.vkvision, "bench", "--weights", weights, "--batch", str(batch), "--size", str(size),
                                "--iters", str(args.iters), "--json", report], check=True, stdout=subprocess.DEVNULL)
                with open(report) as f:
                    ours = json.load(f)
                torch_median, torch_min = time_torch(model, batch, size, args.iters)
                rows.append((name, size, batch, ours["ms"]["median"], ours["ms"]["min"], torch_median, torch_min,
                             ours["dispatches"], difference, ours["device"]))
    print(f"PyTorch {torch.__version__} ({'OpenBLAS' if openblas_loaded() else 'reference BLAS'}, {args.threads} threads); "
          f"vkvision on {rows[0][9] if rows else '?'}; medians of {args.iters} runs\n")
    print("| model | input | batch | vkvision median (min) ms | PyTorch median (min) ms | vkvision / PyTorch | dispatches | max abs logit diff |")
    print("|---|---|---|---|---|---|---|---|")
    for name, size, batch, ours, ours_min, theirs, theirs_min, dispatches, difference, _ in rows:
        print(f"| {name} | {size} | {batch} | {ours:.1f} ({ours_min:.1f}) | {theirs:.1f} ({theirs_min:.1f}) | "
              f"{ours / theirs:.2f}x | {dispatches} | {difference:.2e} |")


if __name__ == "__main__":
    main()
