#!/usr/bin/python3
"""Times the re-parameterised families converted (as vkvision runs them) against unconverted (the
training-time layer list: branches, BatchNorm and activations as separate layers), in one run, and
prints a Markdown table; --write-docs puts it between the reparam markers in docs/PERFORMANCE.md.

Run: /usr/bin/python3 bench/reparam.py [--models repvgg_a0 repmlpnet_t224 inception_next_tiny]
                                      [--iters 5] [--write-docs]
"""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bench_json import device_label, load_record  # noqa: E402
from performance_doc import replace_section  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def bench(args, model, unconverted, tmp):
    report = os.path.join(tmp, "bench.json")
    command = [args.vkvision, "bench", "--model", model, "--iters", str(args.iters), "--json", report]
    if unconverted:
        command.append("--unconverted")
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return load_record(report)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["repvgg_a0", "repvgg_b1g4", "repmlpnet_t224",
                                                        "inception_next_tiny"])
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--vkvision", default=os.path.join(ROOT, "build", "vkvision"))
    args = parser.parse_args()
    rows, device = [], ""
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            # Alternate the two forms so that drift in the machine's speed hits both alike.
            converted, unconverted = bench(args, model, False, tmp), bench(args, model, True, tmp)
            device = device_label(converted)
            rows.append((model, converted, unconverted))
    lines = [f"Measured {datetime.date.today().isoformat()} by `bench/reparam.py {' '.join(sys.argv[1:])}` on "
             f"{device}, {os.cpu_count()} cores; medians (minima) of {args.iters} runs, ms.", "",
             "| model | input | converted ms | dispatches | unconverted ms | dispatches | speed-up |",
             "|---|---|---|---|---|---|---|"]
    for model, fast, slow in rows:
        fast_ms, slow_ms = fast["steady_state"], slow["steady_state"]
        lines.append(f"| {model} | {fast['run']['input_size']} | {fast_ms['p50_ms']:.1f} ({fast_ms['min_ms']:.1f}) | "
                     f"{fast['run']['dispatches']} | {slow_ms['p50_ms']:.1f} ({slow_ms['min_ms']:.1f}) | "
                     f"{slow['run']['dispatches']} | {slow_ms['p50_ms'] / fast_ms['p50_ms']:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.write_docs:
        replace_section("reparam", table)


if __name__ == "__main__":
    main()
