#!/usr/bin/python3
"""Times vkvision against the engines a user would pick instead, in one run on one machine, on the same
networks and inputs: vkvision on every Vulkan device present, PyTorch CPU (Debian's python3-torch, with
OpenBLAS checked at run time) and ONNX Runtime CPU (npm's onnxruntime-node, on models exported by the
same torch). Every engine's logits are checked against PyTorch's before any time is compared.

For each model, its PyTorch definition with seeded random weights is saved as a file that vkvision
loads (so all engines run the very same network) and exported to ONNX (opset 14, dynamic batch): for
torchvision's convnext_tiny, swin_t and swin_v2_t (the default --models) torchvision's module as a .pth;
for mixer_b16_224, resmlp_12_224, gmlp_s16_224 and convnextv2_tiny (timm is not installed) our
re-expressions of timm's modules from tools/make_mlp_fixtures.py and tools/make_convnextv2_fixtures.py,
at the preset's size, in timm's naming as a .safetensors, as a timm user's checkpoint (MODELS below).
Times are medians (and minima) of --iters whole inferences after warm-up; vkvision's come from
`vkvision bench` (input copy, one submit, wait, output copy).

Run: bench/compare [--models convnext_tiny swin_t swin_v2_t] [--batches 1 8] [--iters 10]
                   [--precision fp32] [--write-docs [--section compare]] [--baseline OTHER_BUILD/vkvision]
--baseline also times another vkvision binary (e.g. a build of an earlier commit) in the same run,
right after this one on each model and batch, for before/after comparisons of a change.
--json OUT writes the rows measured (every engine's median and minimum ms and logit difference) as JSON.
--write-docs replaces the table between the markers <!-- SECTION:begin/end --> in docs/PERFORMANCE.md
(--section: compare, the default, or compare_mlp for the timm models) and writes per-layer plots
(docs/plots/<model>_layers.svg) from `vkvision bench --per-layer`.

Where torch.cuda.is_available(), PyTorch is also timed on the GPU (time_torch_cuda): fp32 with TF32 off
(so under the same logit bound as the CPU), and fp16 and bf16 autocast (CUDA_TOLERANCES), each after its
logit check against PyTorch CPU, in a second table with the ratio vkvision / PyTorch CUDA. That path was
written on a machine without CUDA (Debian's torch 1.13, CPU only) and has not been run; without CUDA
the output is as before.
"""
import argparse
import copy
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision

from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from bench_json import load_record  # noqa: E402
from layer_plot import write_layer_plot  # noqa: E402
from make_convnextv2_fixtures import TimmConvNeXtV2  # noqa: E402
from make_mlp_fixtures import Affine, MixerBlock, MlpMixer, ResBlock, SpatialGatingBlock  # noqa: E402
from performance_doc import replace_section  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ORT_DIR = os.path.join(ROOT, "bench", "onnxruntime")
# fp32 engines summing the same products in different orders: the logits of these 1000-class
# networks with random weights agree to ~1e-4 of their scale; a broken run is off by O(1).
LOGIT_TOLERANCE = 1e-3
# PyTorch CUDA: fp32 with TF32 off sums fp32 products like the CPU, so the same bound. Autocast rounds
# the operands of every matmul and convolution to fp16 (unit roundoff u = 2^-11) or bf16 (u = 2^-8) and
# accumulates in fp32; the bound is 32 u of the logits' scale (relative_difference divides by the
# largest logit): 1.6e-2 and 1.25e-1, room for a few dozen roundings compounding through the blocks, and
# still well under the O(1) difference of a broken run.
CUDA_TOLERANCES = {"fp32": LOGIT_TOLERANCE, "fp16": 32 * 2.0 ** -11, "bf16": 32 * 2.0 ** -8}
CUDA_AUTOCAST = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def save_pth(model, path):
    torch.save(model.state_dict(), path + ".pth")
    return path + ".pth"


def save_timm(model, path):
    """In timm's naming (the re-expressed modules keep it) as a safetensors file, as a timm user's checkpoint."""
    save_safetensors(path + ".safetensors", {k: v.contiguous().numpy() for k, v in model.state_dict().items()},
                     {"format": "pt"})
    return path + ".safetensors"


def torchvision_model(name):
    def build():
        torch.manual_seed(0)
        return getattr(torchvision.models, name)().eval()
    return build


def randomize(model, seed, layer_scale=(0.3, 1.0)):
    """The fixture scripts' kind of weights (tools/make_mlp_fixtures.py, tools/make_convnextv2_fixtures.py:
    norm scales and Affine alpha 1 + 0.2 N(0,1), biases and Affine beta 0.1 N(0,1), layer scales uniform,
    SGU proj bias 1 + 0.3 N(0,1), GRN weight 0.5 N(0,1)), but with weights N(0,1) / sqrt(fan_in) instead
    of 0.15 N(0,1), so that activations stay O(1) through 12-30 blocks of full-width layers."""
    torch.manual_seed(seed)
    norm_scales = {id(m.weight) for m in model.modules() if isinstance(m, nn.LayerNorm)}
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape)
            leaf = name.split(".")[-1]
            if leaf in ("ls1", "ls2"):
                p.copy_(layer_scale[0] + (layer_scale[1] - layer_scale[0]) * torch.rand(p.shape))
            elif name.endswith("grn.weight"):
                p.copy_(0.5 * noise)
            elif leaf == "alpha" or id(p) in norm_scales:
                p.copy_(1.0 + 0.2 * noise)
            elif name.endswith("gate.proj.bias"):
                p.copy_(1.0 + 0.3 * noise)
            elif leaf in ("bias", "beta"):
                p.copy_(0.1 * noise)
            else:
                p.copy_(noise / p[0].numel() ** 0.5)
    return model.eval()


def layer_norm(dim):
    return nn.LayerNorm(dim, eps=1e-6)


TOKENS_224_16 = (224 // 16) ** 2  # 196


def mixer_b16_224():
    # timm mixer_b16_224: patch 16, 12 blocks, dim 768, mlp_ratio (0.5, 4.0).
    return randomize(MlpMixer(768, TOKENS_224_16, 12, MixerBlock, layer_norm, patch=16, classes=1000), 20)


def resmlp_12_224():
    # timm resmlp_12_224: patch 16, 12 blocks, dim 384, mlp_ratio 4, ResBlock with Affine norms. Nothing
    # normalises ResMLP's residual stream, so layer scales near timm's init (0.1) keep it O(1).
    return randomize(MlpMixer(384, TOKENS_224_16, 12, ResBlock, Affine, patch=16, classes=1000), 21,
                     layer_scale=(0.05, 0.2))


def gmlp_s16_224():
    # timm gmlp_s16_224: patch 16, 30 blocks, dim 256, mlp_ratio 6, SpatialGatingBlock (GatedMlp).
    return randomize(MlpMixer(256, TOKENS_224_16, 30, SpatialGatingBlock, layer_norm, patch=16, classes=1000), 22)


def convnextv2_tiny():
    # timm convnextv2_tiny: depths 3,3,9,3, dims 96,192,384,768, Linear-form MLP with GRN, 1000 classes.
    return randomize(TimmConvNeXtV2((3, 3, 9, 3), (96, 192, 384, 768), 1000), 23)


# name -> (input size, constructor of the eval-mode PyTorch module, writer of the weights file vkvision loads).
MODELS = {
    "convnext_tiny": (224, torchvision_model("convnext_tiny"), save_pth),
    "swin_t": (224, torchvision_model("swin_t"), save_pth),
    "swin_v2_t": (256, torchvision_model("swin_v2_t"), save_pth),
    "mixer_b16_224": (224, mixer_b16_224, save_timm),
    "resmlp_12_224": (224, resmlp_12_224, save_timm),
    "gmlp_s16_224": (224, gmlp_s16_224, save_timm),
    "convnextv2_tiny": (224, convnextv2_tiny, save_timm),
}
DEFAULT_MODELS = ["convnext_tiny", "swin_t", "swin_v2_t"]


def openblas_loaded():
    with open("/proc/self/maps") as maps:
        return "openblas" in maps.read()


def cpu_name():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def relative_difference(ours, reference):
    return float(np.abs(ours - reference).max() / max(1e-6, np.abs(reference).max()))


def time_torch(model, x, iterations, warmup=2):
    with torch.no_grad():
        for _ in range(warmup):
            out = model(x)
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            out = model(x)
            times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.min(times)), out.numpy()


def cuda_precisions():
    """The PyTorch CUDA configurations this machine can time: none without CUDA, bf16 only where supported."""
    if not torch.cuda.is_available():
        return []
    return ["fp32", "fp16"] + (["bf16"] if torch.cuda.is_bf16_supported() else [])


def time_torch_cuda(model, x, iterations, precision, warmup=2):
    """PyTorch on the GPU: (median ms, min ms, logits). Each timed inference includes the input's copy to
    the device and the logits' copy back (`.cpu()` waits for the GPU), as vkvision bench's include theirs."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    gpu_model = copy.deepcopy(model).cuda()  # the CPU model stays for the other engines
    dtype = CUDA_AUTOCAST[precision]
    with torch.no_grad(), torch.autocast("cuda", dtype=dtype or torch.float16, enabled=dtype is not None):
        for _ in range(warmup):
            out = gpu_model(x.cuda()).cpu()
        torch.cuda.synchronize()
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            out = gpu_model(x.cuda()).cpu()
            times.append((time.perf_counter() - start) * 1000)
    del gpu_model
    torch.cuda.empty_cache()
    return float(np.median(times)), float(np.min(times)), out.float().numpy()


def bench_result(path):
    """median/min ms, dispatches, device and layers of a `vkvision bench --json` file, schema 1 (a bare
    object) or 2 (docs/REPORT.md: the first record)."""
    with open(path) as f:
        report = json.load(f)
    if "schema_version" not in report:
        return {"median": report["ms"]["median"], "min": report["ms"]["min"], "dispatches": report["dispatches"],
                "device": report["device"], "layers": report.get("layers", [])}
    record = report["records"][0]
    return {"median": record["steady_state"]["p50_ms"], "min": record["steady_state"]["min_ms"],
            "dispatches": record["run"]["dispatches"], "device": record["device"]["name"],
            "layers": record.get("layers", [])}


def register_onnx_workarounds():
    # torchvision's Swin v2 zeroes the k third of qkv_bias in forward (`zero_()`), which opset 14 has
    # no symbolic for: export it as zeros of the same shape.
    def zero(g, self):
        return g.op("Mul", self, g.op("Constant", value_t=torch.tensor(0.0)))
    torch.onnx.register_custom_op_symbolic("aten::zero", zero, 14)


def ensure_onnxruntime():
    if os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")):
        return True
    # The CPU binaries are in the npm tarball; the install script would fetch CUDA ones from outside.
    env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
    result = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", ORT_DIR], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        print("WARNING: npm install onnxruntime-node failed; ONNX Runtime is left out:\n" + result.stderr[-2000:],
              file=sys.stderr)
    return result.returncode == 0


def time_onnxruntime(onnx_path, x, iterations, threads, tmp):
    x.numpy().astype("<f4").tofile(os.path.join(tmp, "ort_in.f32"))
    out = os.path.join(tmp, "ort_out.f32")
    shape = ",".join(str(d) for d in x.shape)
    result = subprocess.run(["node", os.path.join(ORT_DIR, "run_ort.mjs"), onnx_path, os.path.join(tmp, "ort_in.f32"),
                             shape, str(iterations), "2", str(threads), out], check=True, capture_output=True, text=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["median_ms"], report["min_ms"], np.fromfile(out, "<f4").reshape(x.shape[0], -1), report["version"]


def precision(args):
    return [] if args.precision == "fp32" else ["--precision", args.precision]


def vkvision(args, *command, **kwargs):
    return subprocess.run([args.vkvision, *command], check=True, **kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, choices=list(MODELS))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--no-onnxruntime", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--vkvision", default=os.path.join(ROOT, "build", "vkvision"))
    parser.add_argument("--baseline", help="another vkvision binary to time in the same run")
    parser.add_argument("--json", help="also write the measured rows here as JSON")
    parser.add_argument("--section", default="compare",
                        help="the docs/PERFORMANCE.md marker pair --write-docs rewrites (compare, compare_mlp)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.zeros(64, 64) @ torch.zeros(64, 64)  # load BLAS before checking for it
    if not openblas_loaded():
        print("WARNING: PyTorch is not using OpenBLAS (apt-get install libopenblas0-openmp); its times are not "
              "representative", file=sys.stderr)
    devices = json.loads(vkvision(args, "devices", "--json", capture_output=True, text=True).stdout)
    use_ort = not args.no_onnxruntime and ensure_onnxruntime()
    register_onnx_workarounds()
    rows, plots, ort_version = [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            size, build, write_weights = MODELS[name]
            model = build()
            weights = write_weights(model, os.path.join(tmp, name))
            onnx_path = os.path.join(tmp, name + ".onnx")
            model_ort = use_ort
            if use_ort:
                try:
                    with torch.no_grad():
                        torch.onnx.export(model, torch.randn(1, 3, size, size), onnx_path, opset_version=14,
                                          input_names=["input"], output_names=["logits"],
                                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
                except Exception as error:  # noqa: BLE001 - one model's export failing leaves ORT out for it only
                    print(f"WARNING: ONNX export of {name} failed, ONNX Runtime is left out for it: {error}",
                          file=sys.stderr)
                    model_ort = False
            for batch in args.batches:
                generator = torch.Generator().manual_seed(batch)
                x = torch.randn(batch, 3, size, size, generator=generator)
                np.save(os.path.join(tmp, "x.npy"), x.numpy())
                torch_median, torch_min, expected = time_torch(model, x, args.iters)
                row = {"model": name, "size": size, "batch": batch, "torch": (torch_median, torch_min), "vulkan": []}
                for device in devices:
                    index = str(device["index"])
                    vkvision(args, "run", "--weights", weights, "--device", index, *precision(args),
                             "--input", os.path.join(tmp, "x.npy"), "--output", os.path.join(tmp, "y.npy"))
                    difference = relative_difference(np.load(os.path.join(tmp, "y.npy")), expected)
                    report = os.path.join(tmp, "bench.json")
                    vkvision(args, "bench", "--weights", weights, "--device", index, "--batch", str(batch), "--size",
                             str(size), "--iters", str(args.iters), *precision(args), "--json", report,
                             stdout=subprocess.DEVNULL)
                    ours = load_record(report)
                    entry = {"device": device["name"], "driver": device["driver"],
                             "ms": (ours["steady_state"]["p50_ms"], ours["steady_state"]["min_ms"]),
                             "dispatches": ours["run"]["dispatches"], "difference": difference}
                    if args.baseline:
                        subprocess.run([args.baseline, "bench", "--weights", weights, "--device", index, "--batch",
                                        str(batch), "--size", str(size), "--iters", str(args.iters),
                                        *precision(args), "--json", report], check=True, stdout=subprocess.DEVNULL)
                        theirs = load_record(report)
                        entry["baseline"] = (theirs["steady_state"]["p50_ms"], theirs["steady_state"]["min_ms"],
                                             theirs["run"]["dispatches"])
                    row["vulkan"].append(entry)
                if model_ort:
                    ort_median, ort_min, ort_logits, ort_version = time_onnxruntime(onnx_path, x, args.iters,
                                                                                    args.threads, tmp)
                    row["ort"] = (ort_median, ort_min, relative_difference(ort_logits, expected))
                for cuda in cuda_precisions():
                    cuda_median, cuda_min, cuda_logits = time_torch_cuda(model, x, args.iters, cuda)
                    row.setdefault("cuda", {})[cuda] = (cuda_median, cuda_min,
                                                        relative_difference(cuda_logits, expected))
                rows.append(row)
            if args.write_docs:
                report = os.path.join(tmp, "layers.json")
                vkvision(args, "bench", "--weights", weights, "--size", str(size), "--iters", "1", "--per-layer",
                         *precision(args), "--json", report, stdout=subprocess.DEVNULL)
                layers = load_record(report)
                plot = os.path.join("plots", f"{name}_layers.svg")
                write_layer_plot(layers, os.path.join(ROOT, "docs", plot), f"{name} {size}x{size} batch 1")
                plots.append((name, plot))

    failures = [r for r in rows for v in r["vulkan"] if v["difference"] > LOGIT_TOLERANCE]
    failures += [r for r in rows if "ort" in r and r["ort"][2] > LOGIT_TOLERANCE]
    failures += [r for r in rows for p, t in r.get("cuda", {}).items() if t[2] > CUDA_TOLERANCES[p]]
    table = render(rows, args, ort_version, plots) + render_cuda(rows)
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": sys.argv, "torch": torch.__version__, "onnxruntime": ort_version,
                       "cuda_device": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                       "logit_tolerance": LOGIT_TOLERANCE, "cuda_tolerances": CUDA_TOLERANCES, "rows": rows}, f,
                      indent=2)
    if failures:
        print("ERROR: logits disagree with PyTorch beyond the tolerance; times above are not comparable",
              file=sys.stderr)
        sys.exit(1)
    if args.write_docs:
        replace_section(args.section, table)


def render(rows, args, ort_version, plots):
    devices = sorted({(v["device"], v["driver"]) for r in rows for v in r["vulkan"]})
    lines = [
        f"Measured {datetime.date.today().isoformat()} by `bench/compare {' '.join(sys.argv[1:])}` on "
        f"{cpu_name()} ({os.cpu_count()} cores), {platform.system()} {platform.release()}; fp32 PyTorch "
        f"{torch.__version__} ({'OpenBLAS' if openblas_loaded() else 'reference BLAS'}) and ONNX Runtime "
        f"{ort_version or '(not run)'} on {args.threads} threads; vkvision {args.precision} on "
        + "; ".join(f"{d} [{drv}]" for d, drv in devices)
        + f". Medians (minima) of {args.iters} runs, ms; ratios are vkvision / peer medians. "
        f"Logit check: max |difference| relative to the largest PyTorch logit.",
        "",
        "| model | input | batch | vkvision ms | PyTorch ms | ONNX Runtime ms | vs PyTorch | vs ORT | dispatches | "
        "logit diff (vkvision, ORT) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for v in r["vulkan"]:
            ort = r.get("ort")
            label = r["model"] if len(devices) == 1 else f"{r['model']} on {v['device']}"
            lines.append(
                f"| {label} | {r['size']} | {r['batch']} | {v['ms'][0]:.1f} ({v['ms'][1]:.1f}) | "
                f"{r['torch'][0]:.1f} ({r['torch'][1]:.1f}) | "
                + (f"{ort[0]:.1f} ({ort[1]:.1f})" if ort else "-") + " | "
                f"{v['ms'][0] / r['torch'][0]:.2f}x | " + (f"{v['ms'][0] / ort[0]:.2f}x" if ort else "-") + " | "
                f"{v['dispatches']} | {v['difference']:.1e}, " + (f"{ort[2]:.1e}" if ort else "-") + " |")
    baselines = [(r, v) for r in rows for v in r["vulkan"] if "baseline" in v]
    if baselines:
        lines += ["", f"Baseline `{args.baseline}`, timed right after each row above in the same run:", "",
                  "| model | batch | vkvision ms | baseline ms | vkvision / baseline | dispatches (baseline) |",
                  "|---|---|---|---|---|---|"]
        for r, v in baselines:
            b = v["baseline"]
            lines.append(f"| {r['model']} | {r['batch']} | {v['ms'][0]:.1f} ({v['ms'][1]:.1f}) | {b[0]:.1f} ({b[1]:.1f}) | "
                         f"{v['ms'][0] / b[0]:.3f} | {v['dispatches']} ({b[2]}) |")
    if plots:
        lines.append("")
        lines.append("Per-layer device time (batch 1): " + ", ".join(f"[{n}]({p})" for n, p in plots) + ".")
    return "\n".join(lines)


def render_cuda(rows):
    """The PyTorch CUDA table, or nothing where it was not timed (no CUDA)."""
    timed = [r for r in rows if r.get("cuda")]
    if not timed:
        return ""
    lines = ["", "", f"PyTorch {torch.__version__} CUDA on {torch.cuda.get_device_name()} (fp32 with TF32 off; fp16 "
             "and bf16 by torch.autocast), the same inputs; each inference includes the copies to and from the GPU. "
             "Medians (minima) ms; ratios are vkvision / PyTorch CUDA medians; logit bounds: fp32 "
             f"{CUDA_TOLERANCES['fp32']:.0e}, fp16 {CUDA_TOLERANCES['fp16']:.1e}, bf16 {CUDA_TOLERANCES['bf16']:.2e}.",
             "", "| model | batch | engine | ms | vkvision / this | logit diff |", "|---|---|---|---|---|---|"]
    for r in timed:
        for precision, (median, minimum, difference) in r["cuda"].items():
            ratios = ", ".join(f"{v['ms'][0] / median:.2f}x ({v['device']})" for v in r["vulkan"])
            lines.append(f"| {r['model']} | {r['batch']} | pytorch-cuda {precision} | {median:.2f} ({minimum:.2f}) | "
                         f"{ratios} | {difference:.1e} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
