"""Reading `vkvision bench --json` files (docs/BENCH_FORMAT.md) for the scripts in bench/: schema 2,
and the bare schema-1 object older builds write (bench/compare --baseline and tools/compare_builds.sh
time such builds)."""
import json

SCHEMA_VERSION = 2


def load_records(path):
    """The records of a bench file, schema-1 files as one record with the schema-2 names the
    scripts use (steady_state.p50_ms from ms.median, which was the upper median)."""
    with open(path) as f:
        report = json.load(f)
    if "schema" not in report:
        return [{"device": {"name": report["device"], "driver_name": report["driver"], "driver_info": ""},
                 "run": {"dispatches": report["dispatches"], "input_size": report["input_size"],
                         "batch": report["batch"]},
                 "steady_state": {"p50_ms": report["ms"]["median"], "min_ms": report["ms"]["min"],
                                  "max_ms": report["ms"]["max"]},
                 **({"layers": report["layers"]} if "layers" in report else {})}]
    if report["schema"] != "vkvision-bench" or report["schema_version"] > SCHEMA_VERSION:
        raise ValueError(f"{path}: schema {report['schema']!r} version {report['schema_version']} is not one "
                         f"this reader knows (vkvision-bench {SCHEMA_VERSION})")
    return report["records"]


def load_record(path):
    """The single record of a bench file of one device and one sweep point."""
    records = load_records(path)
    if len(records) != 1:
        raise ValueError(f"{path}: {len(records)} records, expected one")
    return records[0]


def device_label(record):
    device = record["device"]
    return f"{device['name']} [{device['driver_name']} {device['driver_info']}]".replace(" ]", "]")
