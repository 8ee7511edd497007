#!/usr/bin/env python3
"""`vkvision bench --json` against docs/BENCH_FORMAT.md (ctest bench_schema): every documented
non-optional field is in every record with its documented JSON type, every field a record has is
documented (host.environment's keys are free-form), and the statistics are ordered.
Usage: bench_schema_test.py VKVISION_CLI BENCH_FORMAT_MD. Standard library only."""
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FREE_FORM = {"host.environment"}


def documented_fields(markdown):
    """{path: (type, optional)} from the `| field | type | meaning |` table."""
    fields, in_table = {}, False
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[:3] == ["field", "type", "meaning"]:
            in_table = True
            continue
        if not in_table:
            continue
        if not line.startswith("|"):
            break
        if set(cells[0]) <= set("-: "):
            continue
        fields[cells[0]] = (cells[1], "(optional)" in cells[2])
    return fields


def type_ok(value, type_name):
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return {
        "string": isinstance(value, str),
        "integer": is_int,
        "number": is_int or isinstance(value, float),
        "boolean": isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string or null": value is None or isinstance(value, str),
    }[type_name]


def walk(value, prefix=""):
    """(path, value) for every field in a record; an array's elements as name[]."""
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path, child
            if path not in FREE_FORM:
                yield from walk(child, path)
    elif isinstance(value, list):
        for element in value:
            if isinstance(element, (dict, list)):
                yield from walk(element, prefix + "[]")


def values_at(record, path):
    """Values at a documented path (several under name[]), or the first missing prefix."""
    current = [record]
    parts = re.findall(r"[^.\[\]]+(?:\[\])?", path)
    done = []
    for part in parts:
        key, is_array = part.removesuffix("[]"), part.endswith("[]")
        done.append(part)
        following = []
        for value in current:
            if not isinstance(value, dict) or key not in value:
                return None, ".".join(done).replace(".[]", "[]")
            following.extend(value[key] if is_array and isinstance(value[key], list) else [value[key]])
        current = following
    return current, None


def check_record(record, fields, errors, where):
    for path, (type_name, optional) in fields.items():
        values, missing = values_at(record, path)
        if values is None:
            missing_type = fields.get(missing)
            if missing_type is None or not missing_type[1]:
                if missing == path or missing_type is None:
                    errors.append(f"{where}: {path} missing")
            continue
        for value in values:
            if not type_ok(value, type_name):
                errors.append(f"{where}: {path} is {value!r}, not {type_name}")
    for path, _ in walk(record):
        if path not in fields:
            errors.append(f"{where}: {path} is not documented in BENCH_FORMAT.md")


def main():
    cli, markdown = sys.argv[1], Path(sys.argv[2]).read_text()
    fields = documented_fields(markdown)
    assert len(fields) > 50, f"only {len(fields)} fields parsed from the table"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        command = [cli, "bench", "--model", "convnext_atto", "--size", "32", "--iters", "3", "--warmup", "1",
                   "--per-layer", "--sweep", "batch=1,2", "--json", str(out)]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            sys.exit(f"bench failed ({run.returncode}): {run.stdout}{run.stderr}")
        if "p90" not in run.stdout:
            sys.exit("bench stdout lacks the p50/p90 line:\n" + run.stdout)
        report = json.loads(out.read_text())
    errors = []
    if report.get("schema") != "vkvision-bench" or report.get("schema_version") != 2:
        errors.append(f"schema/schema_version: {report.get('schema')!r} {report.get('schema_version')!r}")
    if set(report) != {"schema", "schema_version", "records"}:
        errors.append(f"top-level keys {sorted(report)}")
    records = report.get("records", [])
    if [r.get("run", {}).get("batch") for r in records] != [1, 2]:
        errors.append(f"expected 2 records, batch 1 then 2: {[r.get('run', {}).get('batch') for r in records]}")
    for index, record in enumerate(records):
        where = f"record {index}"
        check_record(record, fields, errors, where)
        steady = record.get("steady_state", {})
        try:
            if not (steady["min_ms"] <= steady["p50_ms"] <= steady["p90_ms"] <= steady["p99_ms"]
                    <= steady["max_ms"]):
                errors.append(f"{where}: min <= p50 <= p90 <= p99 <= max fails: {steady}")
            if steady["iterations"] < 3:
                errors.append(f"{where}: iterations {steady['iterations']} < --iters 3")
            if "layers" not in record or not record["layers"]:
                errors.append(f"{where}: --per-layer gave no layers")
        except KeyError as error:
            errors.append(f"{where}: steady_state lacks {error}")
    if errors:
        sys.exit("bench_schema: FAILED\n" + "\n".join(errors))
    print(f"bench_schema: {len(records)} records, {len(fields)} documented fields checked")


if __name__ == "__main__":
    main()
