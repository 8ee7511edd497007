#!/usr/bin/python3
"""Writes sample `vkvision bench --json` files in schema 2 (docs/REPORT.md) for
the tests of bench/report.py and the example page, until real records from other machines replace them.

Two files: lavapipe.json, one record of convnext_tiny on llvmpipe, with per-layer times from a cost
model roughly fitted to the measured plot docs/plots/convnext_tiny_layers.svg (same layer names;
the total comes out near 330 ms against the plot's 262);
and synthetic_gpu.json, two records (fp32 with layers, fp16 without) of a discrete NVIDIA device whose
times are the same cost model with made-up rates. The device name says "synthetic": no number in
these files was measured. Also schema1_record(), a record as vkvision before schema 2 wrote it.

Run: tests/bench/make_sample_records.py OUT_DIR
"""
import json
import os
import sys

MIB = 1 << 20
GIB = 1 << 30
# convnext_tiny (torchvision): depths and widths of its four stages, at 224x224 (56x56 after the stem).
DEPTHS = (3, 3, 9, 3)
DIMS = (96, 192, 384, 768)


def layer(name, op, shape, gflop, megabytes):
    return {"name": name, "op": op, "output": "[" + ",".join(str(d) for d in shape) + "]", "dispatches": 1,
            "gflop": gflop, "megabytes": megabytes}


def activation_megabytes(*shapes):
    return sum(4 * h * w * c for h, w, c in shapes) / 1e6


def convnext_tiny_layers():
    """The fused layer list vkvision runs for convnext_tiny at batch 1 (names as its --per-layer prints),
    with each layer's GFLOP (2 per multiply-add) and megabytes moved (fp32 activations in and out)."""
    side, layers = 56, []
    layers.append(layer("features.0.0", "conv2d", (1, side, side, 96), 2 * side * side * 96 * 48 / 1e9,
                        activation_megabytes((224, 224, 3), (side, side, 96))))
    layers.append(layer("features.0.1", "layer_norm", (1, side, side, 96), 8 * side * side * 96 / 1e9,
                        activation_megabytes((side, side, 96), (side, side, 96))))
    for stage, (depth, dim) in enumerate(zip(DEPTHS, DIMS)):
        if stage > 0:
            down = f"features.{2 * stage}"
            layers.append(layer(down + ".0", "layer_norm", (1, side, side, dim // 2), 8 * side * side * dim / 2e9,
                                activation_megabytes((side, side, dim // 2), (side, side, dim // 2))))
            side //= 2
            layers.append(layer(down + ".1", "conv2d", (1, side, side, dim), 2 * side * side * dim * 2 * dim / 1e9,
                                activation_megabytes((2 * side, 2 * side, dim // 2), (side, side, dim))))
        for block in range(depth):
            prefix = f"features.{2 * stage + 1}.{block}.block"
            plane = (side, side, dim)
            layers.append(layer(f"{prefix}.0+{prefix}.2", "depthwise_conv2d+layer_norm_statistics", (1, *plane),
                                2 * side * side * dim * 49 / 1e9, activation_megabytes(plane, plane)))
            layers.append(layer(f"{prefix}.3", "layer_norm+linear+gelu", (1, side, side, 4 * dim),
                                2 * side * side * dim * 4 * dim / 1e9,
                                activation_megabytes(plane, (side, side, 4 * dim))))
            layers.append(layer(f"{prefix}.5", "linear+residual", (1, *plane), 2 * side * side * dim * 4 * dim / 1e9,
                                activation_megabytes((side, side, 4 * dim), plane, plane)))
    layers.append(layer("global_pool", "mean_pool", (1, 768), side * side * 768 / 1e9, activation_megabytes(plane)))
    layers.append(layer("classifier.0", "layer_norm", (1, 768), 8 * 768 / 1e9, 0.006))
    layers.append(layer("classifier.2", "linear", (1, 1000), 2 * 768 * 1000 / 1e9, 3.08))
    return layers


# GFLOP/s per op family, GB/s for memory-bound layers, and a fixed cost per dispatch (ms). lavapipe's are
# roughly fitted to docs/plots/convnext_tiny_layers.svg; the synthetic GPU's are invented, with depthwise
# convolution deliberately weak so that the per-layer plot has a layer where that device loses ground.
LAVAPIPE_RATES = {"linear": 31.0, "conv2d": 10.0, "depthwise_conv2d": 17.0, "bandwidth": 5.0, "dispatch_ms": 0.05}
SYNTHETIC_RATES = {"linear": 9000.0, "conv2d": 2500.0, "depthwise_conv2d": 90.0, "bandwidth": 250.0,
                   "dispatch_ms": 0.006}


def timed(layers, rates, scale=1.0):
    out = []
    for entry in layers:
        # The fused layer runs at its heaviest op's rate ("layer_norm+linear+gelu" at linear's).
        families = [op for op in entry["op"].split("+") if op in rates]
        compute = entry["gflop"] / rates[families[0]] * 1e3 if families else 0.0
        memory = entry["megabytes"] / rates["bandwidth"]  # MB / (GB/s) = ms
        out.append(dict(entry, ms=round(scale * (max(compute, memory) + rates["dispatch_ms"]), 4)))
    return out


def steady_state(p50, iterations, batch, gflop):
    mean = p50 * 1.01
    return {"warmup": 2, "min_iterations": 10, "min_seconds": 2.0, "iterations": iterations,
            "seconds": round(iterations * mean / 1e3, 3), "mean_ms": mean, "stddev_ms": p50 * 0.02,
            "min_ms": p50 * 0.97, "p50_ms": p50, "p90_ms": p50 * 1.04, "p99_ms": p50 * 1.09, "max_ms": p50 * 1.12,
            "images_per_second": batch * 1000 / mean, "gflop_per_second": gflop * batch / (p50 / 1e3)}


def record(device, host, run, layers, p50, iterations, memory, created, cold_start):
    gflop = round(sum(entry["gflop"] for entry in convnext_tiny_layers()), 3)  # per image, batch 1
    result = {
        "created": created,
        "vkvision": {"version": "0.9.0", "commit": "49cbf3c", "build_type": "Release", "compiler": "GNU 12.2.0"},
        "host": host,
        "device": device,
        "model": {"name": "convnext_tiny", "family": "convnext", "source": "preset", "file": None, "sha256": None,
                  "config": "depths 3,3,9,3 dims 96,192,384,768", "gflop": gflop, "parameters": 28589128},
        "run": dict({"batch": 1, "input_size": 224, "converted": True, "dispatches": 65, "barriers": 64}, **run),
        "cold_start_ms": cold_start,
        "steady_state": steady_state(p50, iterations, run.get("batch", 1), gflop),
        "memory": memory,
    }
    if layers is not None:
        result["layers"] = layers
    return result


LAVAPIPE_DEVICE = {
    "index": 0, "name": "llvmpipe (LLVM 15.0.6, 256 bits)", "type": "CPU", "vendor_id": 0x10005, "device_id": 0,
    "driver_name": "llvmpipe", "driver_info": "Mesa 22.3.6 (LLVM 15.0.6)",
    "driver_version": (22 << 22) | (3 << 12) | 6, "driver_version_decoded": "22.3.6", "api_version": "1.3.230",
    "subgroup_size": 8, "device_local_bytes": 8 * GIB, "memory_heaps": [{"bytes": 8 * GIB, "device_local": True}],
    "unified_memory": True}
SYNTHETIC_DEVICE = {
    "index": 0, "name": "NVIDIA GeForce RTX 4070 (synthetic sample, not measured)", "type": "discrete GPU",
    "vendor_id": 0x10DE, "device_id": 0x2786, "driver_name": "NVIDIA", "driver_info": "550.54.14",
    "driver_version": (550 << 22) | (54 << 14) | (14 << 6), "driver_version_decoded": "550.54.14.0",
    "api_version": "1.3.277", "subgroup_size": 32, "device_local_bytes": 12 * GIB,
    "memory_heaps": [{"bytes": 12 * GIB, "device_local": True}, {"bytes": 31 * GIB, "device_local": False}],
    "unified_memory": False}
LAVAPIPE_HOST = {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "os": "Debian GNU/Linux 12 (bookworm)",
                 "kernel": "Linux 6.18.44-fc-v857", "environment": {"LP_NUM_THREADS": "2"}}
SYNTHETIC_HOST = {"cpu": "AMD Ryzen 7 7700X 8-Core Processor (synthetic)", "cores": 16,
                  "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "Linux 6.1.0-18-amd64",
                  "environment": {"VKVISION_DEVICE": "0"}}
FP32_RUN = {"precision": "fp32", "kernels": "register-blocked", "kernels_requested": "auto",
            "kernels_reason": "auto: device limits"}


def lavapipe_records():
    layers = timed(convnext_tiny_layers(), LAVAPIPE_RATES)
    p50 = round(sum(entry["ms"] for entry in layers) * 1.02, 2)
    memory = {"weight_bytes": 114356512, "activation_bytes": 9633792, "peak_rss_bytes": 412 * MIB}
    cold = {"runtime_create": 31.0, "model_load": 420.0, "session_compile_empty_cache": 21500.0,
            "session_compile_warm_cache": 180.0, "first_inference": 610.0}
    return [record(LAVAPIPE_DEVICE, LAVAPIPE_HOST, FP32_RUN, layers, p50, 10, memory, "2026-12-02T19:04:05Z", cold)]


def synthetic_records():
    layers = timed(convnext_tiny_layers(), SYNTHETIC_RATES)
    p50 = round(sum(entry["ms"] for entry in layers) * 1.05, 3)
    cold = {"runtime_create": 85.0, "model_load": 160.0, "session_compile_empty_cache": 900.0,
            "session_compile_warm_cache": 40.0, "first_inference": 12.0}
    fp32_memory = {"weight_bytes": 114356512, "activation_bytes": 9633792, "peak_rss_bytes": 530 * MIB}
    fp16_memory = {"weight_bytes": 57178256, "activation_bytes": 9633792, "peak_rss_bytes": 470 * MIB}
    fp16_run = dict(FP32_RUN, precision="fp16", kernels="shared-tiled", kernels_requested="timed",
                    kernels_reason="auto: timed trial")
    return [record(SYNTHETIC_DEVICE, SYNTHETIC_HOST, FP32_RUN, layers, p50, 2400, fp32_memory,
                   "2026-12-02T18:40:00Z", cold),
            record(SYNTHETIC_DEVICE, SYNTHETIC_HOST, fp16_run, None, round(p50 * 0.62, 3), 3800, fp16_memory,
                   "2026-12-02T18:41:00Z", cold)]


def bench_file(records):
    return {"schema": "vkvision-bench", "schema_version": 2, "records": records}


def schema1_record():
    """What `vkvision bench --json` wrote before schema 2 (src/cli/bench_command.cpp at 49cbf3c)."""
    return {"model": "convnext_tiny", "origin": "preset", "config": "depths 3,3,9,3 dims 96,192,384,768",
            "device": "llvmpipe (LLVM 15.0.6, 256 bits)", "driver": "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)", "batch": 1,
            "input_size": 224, "iterations": 10, "dispatches": 65, "converted": True, "precision": "fp32",
            "weight_bytes": 114356512, "kernels": "register-blocked",
            "memory": {"device_type": 0, "device_heap": 0, "mapped": True},
            "ms": {"min": 254.5, "median": 259.3, "max": 266.0}, "images_per_second": 3.86}


def write_samples(out_dir):
    """Writes the two sample files; returns their paths (lavapipe first)."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, records in (("lavapipe.json", lavapipe_records()), ("synthetic_gpu.json", synthetic_records())):
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            json.dump(bench_file(records), f, indent=2)
            f.write("\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    print("\n".join(write_samples(sys.argv[1])))
