#!/usr/bin/env python3
"""Mutation probe: hostile variants of the project's own fixtures through the real CLI.

    python3 tools/probe_mutants.py BUILD/vkvision [--per-file N] [--run-mutants N] [--seed S]

Each checkpoint fixture (safetensors and torch .pth) gets N mutants: bytes flipped or overwritten
with boundary values (0, 0xFF, 0x7F, 0x80) in its header, pickle or ZIP directory, cuts, and copied
runs. Every mutant goes through `vkvision inspect --weights M`; the first --run-mutants .npy mutants
also go through `vkvision run`. The contract checked on every run:
  - exit code 0, or 2 with exactly one stderr line that starts "vkvision: error: <the file>";
  - never a signal, exit 1 or 3, or a run past 60 s;
  - on a failure, no output file; on success, an output .npy whose header matches its size.
Prints one line per broken promise and a summary. Standard library only.
"""
import argparse
import os
import pathlib
import random
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
BOUNDARY = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE]


def interesting_regions(data):
    """Byte ranges where structure lives: headers, pickles, ZIP records (not raw tensor data)."""
    if data[:2] == b"PK":
        regions = []
        start = data.find(b"data.pkl")
        if start >= 0:
            regions.append((start, min(len(data), start + 4096)))
        central = data.rfind(b"PK\x01\x02")
        regions.append((max(0, data.find(b"PK\x01\x02")), len(data)))
        return regions
    if data[:6] == b"\x93NUMPY":
        return [(0, min(len(data), 128))]
    length = struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else 0
    return [(0, min(len(data), 8 + length))]


def mutate(data, rng):
    data = bytearray(data)
    kind = rng.randrange(5)
    start, end = rng.choice(interesting_regions(bytes(data)))
    if end <= start:
        start, end = 0, len(data)
    if kind == 0:  # flip bits
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(start, end)] ^= 1 << rng.randrange(8)
    elif kind == 1:  # boundary bytes
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(start, end)] = rng.choice(BOUNDARY)
    elif kind == 2:  # a run of 0xFF (lengths and offsets become huge)
        at = rng.randrange(start, end)
        data[at:at + 8] = b"\xff" * 8
    elif kind == 3:  # cut
        del data[rng.randrange(1, len(data)):]
    else:  # copy a run of structure over another place
        a, b = rng.randrange(start, end), rng.randrange(start, end)
        run = data[a:a + rng.randint(1, 64)]
        data[b:b + len(run)] = run
    return bytes(data)


def check(command, path, output, broken):
    try:
        result = subprocess.run(command, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        broken.append(f"timeout: {' '.join(map(str, command))}")
        return "timeout"
    lines = result.stderr.decode(errors="replace").splitlines()
    if result.returncode == 0:
        if output and output.exists():
            raw = output.read_bytes()
            if raw[:6] != b"\x93NUMPY":
                broken.append(f"bad output from {path}")
        return "ok"
    if result.returncode != 2:
        broken.append(f"exit {result.returncode} for {path}: {lines[-1] if lines else ''}")
    elif len(lines) != 1 or not lines[0].startswith(f"vkvision: error: {path}"):
        broken.append(f"message for {path}: {lines!r}")
    if output and output.exists():
        broken.append(f"partial output after a failed run on {path}")
    return "refused"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cli")
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--run-mutants", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    checkpoints = sorted(FIXTURES.rglob("*.safetensors")) + sorted(FIXTURES.rglob("*.pth"))
    broken, outcomes = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        for fixture in checkpoints:
            good = fixture.read_bytes()
            for i in range(args.per_file):
                path = scratch / f"{fixture.parent.name}_{i}{fixture.suffix}"
                path.write_bytes(mutate(good, rng))
                outcome = check([args.cli, "inspect", "--weights", str(path)], path, None, broken)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                path.unlink()
        # .npy inputs through `run` on the smallest model (each run opens the device).
        weights = FIXTURES / "repmlpnet" / "official_deploy.pth"
        good = (FIXTURES / "repmlpnet" / "input.npy").read_bytes()
        for i in range(args.run_mutants):
            path, output = scratch / f"input_{i}.npy", scratch / f"output_{i}.npy"
            path.write_bytes(mutate(good, rng))
            outcome = check([args.cli, "run", "--weights", str(weights), "--input", str(path), "--output", str(output)],
                            path, output, broken)
            outcomes["run " + outcome] = outcomes.get("run " + outcome, 0) + 1
    for line in broken:
        print("BROKEN", line)
    total = sum(outcomes.values())
    print(f"{total} runs: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + f"; {len(broken)} broken promises")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
