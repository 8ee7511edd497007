#!/usr/bin/python3
"""One self-contained HTML page comparing `vkvision bench --json` records from any number of machines
(docs/REPORT.md): a table of every record, a latency bar plot (p50, p90 whisker), the per-layer device
time of the records that have layers side by side (matched by layer name), and each run's provenance.
No network and no JavaScript: inline CSS, SVG drawn here. Every string from the files is escaped (the
files may come from strangers).

Run: bench/report.py A.json B.json ... -o report.html [--baseline N|DEVICE-SUBSTRING] [--markdown out.md]
--baseline: the record the p50 ratios are taken against, by its number in the table (1 = the first
record, the default) or the first record whose device name contains the text (case-insensitive).
Reads schema 2 only; a schema-1 file, a newer schema, malformed JSON or a missing field is refused
with one line on stderr naming the file, and exit 2, before anything is written.
"""
import argparse
import html
import json
import math
import os
import sys

SCHEMA = "vkvision-bench"
SCHEMA_VERSION = 2
MIB = 1 << 20
TOP_LAYERS_PAGE = 15
TOP_LAYERS_MARKDOWN = 10
LOG_SCALE_RATIO = 20
WRAPPED_COLUMNS = {"device", "driver", "vkvision", "kernels"}  # the long free-text ones
# One colour per record, the same in both plots. Unusual exact values, so that tests/bench/report_test.py
# can find each record's bars in a screenshot by colour.
RECORD_COLOURS = ["#d9480f", "#1864ab", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#e67700", "#5c940d"]

# Field kinds, as the refusal names them ("field run.batch is not an integer").
STRING, INTEGER, NUMBER, BOOLEAN, OBJECT, ARRAY, OPTIONAL_STRING = "a string", "an integer", "a number", \
    "a boolean", "an object", "an array", "a string or null"
# The fields of a record this reader uses (the bench record schema 2), as dotted paths.
RECORD_FIELDS = {
    "created": STRING,
    "vkvision.version": STRING, "vkvision.commit": STRING, "vkvision.build_type": STRING,
    "vkvision.compiler": STRING,
    "host.cpu": STRING, "host.cores": INTEGER, "host.os": STRING, "host.kernel": STRING, "host.environment": OBJECT,
    "device.name": STRING, "device.type": STRING, "device.vendor_id": INTEGER, "device.device_id": INTEGER,
    "device.driver_name": STRING, "device.driver_info": STRING, "device.driver_version_decoded": STRING,
    "device.api_version": STRING, "device.subgroup_size": INTEGER, "device.memory_heaps": ARRAY,
    "device.unified_memory": BOOLEAN,
    "model.name": STRING, "model.source": STRING, "model.file": OPTIONAL_STRING, "model.sha256": OPTIONAL_STRING,
    "run.batch": INTEGER, "run.input_size": INTEGER, "run.precision": STRING, "run.kernels": STRING,
    "run.kernels_reason": STRING,
    "cold_start_ms.runtime_create": NUMBER, "cold_start_ms.model_load": NUMBER,
    "cold_start_ms.session_compile_empty_cache": NUMBER, "cold_start_ms.session_compile_warm_cache": NUMBER,
    "cold_start_ms.first_inference": NUMBER,
    "steady_state.warmup": INTEGER, "steady_state.min_iterations": INTEGER, "steady_state.min_seconds": NUMBER,
    "steady_state.iterations": INTEGER, "steady_state.p50_ms": NUMBER, "steady_state.p90_ms": NUMBER,
    "steady_state.images_per_second": NUMBER, "steady_state.gflop_per_second": NUMBER,
    "memory.weight_bytes": INTEGER, "memory.activation_bytes": INTEGER, "memory.peak_rss_bytes": INTEGER,
}
LAYER_FIELDS = {"name": STRING, "op": STRING, "output": STRING, "ms": NUMBER}
HEAP_FIELDS = {"bytes": INTEGER, "device_local": BOOLEAN}


class RefusedFile(Exception):
    """A file this reader will not use; the message is the one line main() prints."""


# ---- reading and checking --------------------------------------------------------------------------------

def has_type(value, kind):
    if kind == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == OPTIONAL_STRING:
        return value is None or isinstance(value, str)
    return isinstance(value, {STRING: str, BOOLEAN: bool, OBJECT: dict, ARRAY: list}[kind])


def field(record, path):
    """The value at a dotted path; KeyError if any part is missing."""
    value = record
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(path)
        value = value[key]
    return value


def check_fields(where, entry, fields):
    for path, kind in fields.items():
        try:
            value = field(entry, path)
        except KeyError:
            raise RefusedFile(f"{where}: missing field {path}") from None
        if not has_type(value, kind):
            raise RefusedFile(f"{where}: field {path} is not {kind}")


def check_record(where, record):
    if not isinstance(record, dict):
        raise RefusedFile(f"{where}: not a JSON object")
    check_fields(where, record, RECORD_FIELDS)
    for i, heap in enumerate(record["device"]["memory_heaps"]):
        check_fields(f"{where}: device.memory_heaps[{i}]", heap if isinstance(heap, dict) else {}, HEAP_FIELDS)
    if "layers" in record:
        if not isinstance(record["layers"], list):
            raise RefusedFile(f"{where}: field layers is not {ARRAY}")
        for i, entry in enumerate(record["layers"]):
            check_fields(f"{where}: layers[{i}]", entry if isinstance(entry, dict) else {}, LAYER_FIELDS)


def check_schema(path, document):
    """Refuses what is not a schema-2 vkvision bench file, in the words of the schema's contract."""
    if isinstance(document, dict) and "schema" not in document and "ms" in document and "model" in document:
        raise RefusedFile(f"{path}: a schema-1 vkvision bench record (no schema_version); "
                          "rerun vkvision bench to get schema 2")
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise RefusedFile(f'{path}: not a vkvision bench file (no "schema": "{SCHEMA}")')
    version = document.get("schema_version")
    if not has_type(version, INTEGER):
        raise RefusedFile(f"{path}: missing field schema_version")
    if version > SCHEMA_VERSION:
        raise RefusedFile(f"{path}: schema_version {version} is newer than this reader's {SCHEMA_VERSION}")
    if version < SCHEMA_VERSION:
        raise RefusedFile(f"{path}: schema_version {version} is older than this reader's {SCHEMA_VERSION}; "
                          "rerun vkvision bench to get schema 2")
    if not isinstance(document.get("records"), list) or not document["records"]:
        raise RefusedFile(f"{path}: missing field records (a non-empty array)")


def refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def load_records(path):
    """The records of one bench file, each checked; RefusedFile if the file is not usable."""
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f, parse_constant=refuse_constant)  # NaN, Infinity
    except OSError as error:
        raise RefusedFile(f"{path}: cannot read: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:  # json.JSONDecodeError is a ValueError
        raise RefusedFile(f"{path}: not valid JSON: {error}") from None
    check_schema(path, document)
    for i, record in enumerate(document["records"]):
        check_record(f"{path}: records[{i}]", record)
    return document["records"]


def choose_baseline(records, choice):
    """The index of the baseline record: a 1-based number, or the first device name containing the text."""
    if choice is None:
        return 0
    if choice.isdigit():
        if not 1 <= int(choice) <= len(records):
            raise RefusedFile(f"--baseline {choice}: there are {len(records)} records (1..{len(records)})")
        return int(choice) - 1
    for i, record in enumerate(records):
        if choice.lower() in record["device"]["name"].lower():
            return i
    raise RefusedFile(f"--baseline {choice}: no record's device name contains it")


# ---- what the table shows -------------------------------------------------------------------------------

def config_label(record):
    run = record["run"]
    return f'{record["model"]["name"]} b{run["batch"]} {run["precision"]} {run["kernels"]}'


def environment_differences(records):
    """Per record, the environment settings that differ between the records (e.g. LP_NUM_THREADS=1):
    what tells apart runs on one device."""
    keys = sorted({key for r in records for key in r["host"]["environment"]})
    varying = [k for k in keys if len({r["host"]["environment"].get(k) for r in records}) > 1]
    return [", ".join(f"{k}={r['host']['environment'].get(k, '(unset)')}" for k in varying) for r in records]


DIFFERENCE = "_environment_difference"  # set on each loaded record by mark_differences()


def mark_differences(records):
    for record, difference in zip(records, environment_differences(records)):
        record[DIFFERENCE] = difference


def device_label(record):
    difference = record.get(DIFFERENCE, "")
    return f'{record["device"]["name"]} [{difference}]' if difference else record["device"]["name"]


def driver_label(device):
    # driver_info is the vendor's own version string (NVIDIA "560.35.03", Mesa "Mesa 22.3.6 (LLVM
    # 15.0.6)"); the decoded number stands in where a driver leaves it empty.
    return f'{device["driver_name"]} {device["driver_info"] or device["driver_version_decoded"]}'


def record_label(number, record):
    return f'#{number} {device_label(record)}, {config_label(record)}'


def mib(count):
    return f"{count / MIB:.1f}"


def ratio_text(ratio):
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3g}x"  # 0.0122x, not 0.01x


def summary_columns(records, baseline):
    """(heading, [cell text per record]) for the table, in order; the same for HTML and markdown."""
    base_p50 = records[baseline]["steady_state"]["p50_ms"]

    def ratio(i, r):
        text = ratio_text(r["steady_state"]["p50_ms"] / base_p50) if base_p50 > 0 else "-"
        return text + " (baseline)" if i == baseline else text

    columns = [
        ("#", lambda i, r: str(i + 1)),
        ("device", lambda i, r: device_label(r)),
        ("driver", lambda i, r: driver_label(r["device"])),
        ("vkvision", lambda i, r: f'{r["vkvision"]["version"]} ({r["vkvision"]["commit"]})'),
        ("model", lambda i, r: r["model"]["name"]),
        ("batch", lambda i, r: str(r["run"]["batch"])),
        ("precision", lambda i, r: r["run"]["precision"]),
        ("kernels", lambda i, r: r["run"]["kernels"]),
        ("p50 ms", lambda i, r: f'{r["steady_state"]["p50_ms"]:.2f}'),
        ("p90 ms", lambda i, r: f'{r["steady_state"]["p90_ms"]:.2f}'),
        ("images/s", lambda i, r: f'{r["steady_state"]["images_per_second"]:.1f}'),
        ("GFLOP/s", lambda i, r: f'{r["steady_state"]["gflop_per_second"]:.1f}'),
        ("weights MiB", lambda i, r: mib(r["memory"]["weight_bytes"])),
        ("activations MiB", lambda i, r: mib(r["memory"]["activation_bytes"])),
        ("peak RSS MiB", lambda i, r: mib(r["memory"]["peak_rss_bytes"])),
        ("p50 / baseline", ratio),
    ]
    return [(heading, [cell(i, r) for i, r in enumerate(records)]) for heading, cell in columns]


def layer_times(record):
    """Device ms per layer name (a name repeated within a record is summed) and each name's op."""
    times, ops = {}, {}
    for entry in record.get("layers", []):
        times[entry["name"]] = times.get(entry["name"], 0.0) + entry["ms"]
        ops.setdefault(entry["name"], entry["op"])
    return times, ops


def top_layers(records, count):
    """(indices of the records with layers, [(layer name, op, [(ms, share) or None per such record])]) for
    the `count` layers with the largest share of any one record's device time, largest first. Shares, not
    ms, rank and draw the layers: devices 100x apart in speed would otherwise show the fast one as empty
    bars, and the question is which layer takes a device more of its time than it takes the others."""
    with_layers = [i for i, r in enumerate(records) if r.get("layers")]
    tables = [layer_times(records[i]) for i in with_layers]
    largest, ops, shares = {}, {}, []
    for times, layer_ops in tables:
        total = sum(times.values()) or 1.0
        shares.append({name: (ms, ms / total) for name, ms in times.items()})
        for name, ms in times.items():
            largest[name] = max(largest.get(name, 0.0), ms / total)
            ops.setdefault(name, layer_ops[name])
    ranked = sorted(largest, key=lambda name: -largest[name])[:count]
    return with_layers, [(name, ops[name], [share.get(name) for share in shares]) for name in ranked]


def share_text(entry):
    return "absent" if entry is None else f"{entry[0]:.3f} ms ({100 * entry[1]:.1f}%)"


def provenance_rows(record):
    """(label, text) pairs of where and how one record was measured."""
    vk, host, device, model = record["vkvision"], record["host"], record["device"], record["model"]
    steady, cold = record["steady_state"], record["cold_start_ms"]
    environment = ", ".join(f"{k}={v}" for k, v in sorted(host["environment"].items())) or "(none set)"
    heaps = ", ".join(f'{mib(h["bytes"])} MiB{" device-local" if h["device_local"] else ""}'
                      for h in device["memory_heaps"])
    return [
        ("created", record["created"]),
        ("vkvision", f'{vk["version"]}, commit {vk["commit"]}, {vk["build_type"]}, {vk["compiler"]}'),
        ("host", f'{host["cpu"]}, {host["cores"]} cores, {host["os"]}, {host["kernel"]}'),
        ("environment", environment),
        ("device", f'{device["name"]} ({device["type"]}), vendor 0x{device["vendor_id"]:04x}, '
                   f'device 0x{device["device_id"]:04x}'),
        ("driver", f'{device["driver_name"]} {device["driver_version_decoded"]} ({device["driver_info"]}), '
                   f'Vulkan {device["api_version"]}'),
        ("subgroup size", str(device["subgroup_size"])),
        ("memory heaps", heaps + (" (unified memory)" if device["unified_memory"] else "")),
        ("model", f'{model["name"]}, {model["source"]}' + (f', {model["file"]}' if model["file"] else "")
                  + (f', sha256 {model["sha256"]}' if model["sha256"] else "")),
        ("run", f'batch {record["run"]["batch"]}, {record["run"]["input_size"]}x{record["run"]["input_size"]}, '
                f'{record["run"]["precision"]}, {record["run"]["kernels"]} ({record["run"]["kernels_reason"]})'),
        ("cold start ms", f'runtime {cold["runtime_create"]:.1f}, model load {cold["model_load"]:.1f}, '
                          f'compile (empty cache) {cold["session_compile_empty_cache"]:.1f}, '
                          f'compile (warm cache) {cold["session_compile_warm_cache"]:.1f}, '
                          f'first inference {cold["first_inference"]:.1f}'),
        ("steady state", f'{steady["iterations"]} iterations after {steady["warmup"]} warm-up '
                         f'(at least {steady["min_iterations"]} and {steady["min_seconds"]:g} s)'),
    ]


# ---- HTML ----------------------------------------------------------------------------------------------

def e(value):
    return html.escape(str(value), quote=True)


def colour(index):
    return RECORD_COLOURS[index % len(RECORD_COLOURS)]


def html_table(records, baseline):
    columns = summary_columns(records, baseline)
    head = "".join(f"<th>{e(heading)}</th>" for heading, _ in columns)
    rows = []
    for i in range(len(records)):
        swatch = f'<span class="swatch" style="background:{colour(i)}"></span>'
        cells = "".join(f"<td{' class=wrap' if heading in WRAPPED_COLUMNS else ''}>{swatch if j == 0 else ''}"
                        f"{e(cells[i])}</td>" for j, (heading, cells) in enumerate(columns))
        rows.append(f'<tr{" class=baseline" if i == baseline else ""}>{cells}</tr>')
    return f'<table class="summary"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def truncate(text, length):
    return text if len(text) <= length else text[:length - 3] + "..."


def latency_scale(records, width):
    """x of a latency in ms, and the axis's caption: linear, or logarithmic when the p50s are more than
    LOG_SCALE_RATIO apart (a 100x faster device would otherwise be a bar one pixel long)."""
    lows = [r["steady_state"]["p50_ms"] for r in records]
    high = max(max(r["steady_state"]["p90_ms"] for r in records), max(lows)) or 1.0
    low = min(lows)
    if low <= 0 or high / low <= LOG_SCALE_RATIO:
        return (lambda ms: width * ms / high), f"linear, 0 to {high:.2f} ms"
    floor = low / 2  # the shortest bar is a visible length
    span = math.log(high / floor)
    return (lambda ms: width * math.log(max(ms, floor) / floor) / span), \
        f"logarithmic, {floor:.3g} to {high:.3g} ms"


def latency_svg(records):
    """One horizontal bar per record: p50, with a whisker to p90; labelled by device, then config."""
    row, label_width, bar_width, top = 34, 440, 560, 6
    x_of, caption = latency_scale(records, bar_width)
    width, height = label_width + bar_width + 160, top + row * len(records) + 22
    out = [f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="latency per record">']
    for i, record in enumerate(records):
        y = top + i * row
        p50, p90 = record["steady_state"]["p50_ms"], record["steady_state"]["p90_ms"]
        length, whisker = x_of(p50), max(x_of(p90), x_of(p50))
        middle = y + row / 2
        out.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">'
                   f'#{i + 1} {e(truncate(device_label(record), 64))}</text>'
                   f'<text class="small" x="{label_width - 6}" y="{y + 26}" text-anchor="end">'
                   f'{e(truncate(config_label(record), 80))}</text>')
        out.append(f'<rect x="{label_width}" y="{y + 5}" width="{length:.1f}" height="{row - 10}" fill="{colour(i)}">'
                   f'<title>{e(record_label(i + 1, record))}: p50 {p50:.3f} ms, p90 {p90:.3f} ms</title></rect>')
        out.append(f'<line x1="{label_width + length:.1f}" x2="{label_width + whisker:.1f}" y1="{middle}" '
                   f'y2="{middle}" stroke="#222" stroke-width="1.5"/>'
                   f'<line x1="{label_width + whisker:.1f}" x2="{label_width + whisker:.1f}" y1="{middle - 6}" '
                   f'y2="{middle + 6}" stroke="#222" stroke-width="1.5"/>')
        out.append(f'<text x="{label_width + whisker + 6:.1f}" y="{middle + 4}">{p50:.2f} ms (p90 {p90:.2f})</text>')
    out.append(f'<text class="small" x="{label_width}" y="{top + row * len(records) + 12}">axis: {e(caption)}'
               '</text></svg>')
    return "\n".join(out)


def layers_svg(records):
    """The top layers by their largest time on any record, one bar per record with layers in each group."""
    with_layers, ranked = top_layers(records, TOP_LAYERS_PAGE)
    bar, gap, label_width, bar_width, legend = 11, 9, 360, 560, 22 * len(with_layers) + 8
    group = bar * len(with_layers) + gap
    longest = max((entry[1] for _, _, times in ranked for entry in times if entry is not None), default=1.0) or 1.0
    width, height = label_width + bar_width + 130, legend + group * len(ranked) + 8
    out = [f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="per-layer device time">']
    for k, i in enumerate(with_layers):
        out.append(f'<rect x="8" y="{4 + 22 * k}" width="14" height="14" fill="{colour(i)}"/>'
                   f'<text x="28" y="{15 + 22 * k}">{e(record_label(i + 1, records[i]))}</text>')
    for g, (name, op, times) in enumerate(ranked):
        y = legend + g * group
        out.append(f'<text x="{label_width - 6}" y="{y + group / 2}" text-anchor="end">'
                   f'<title>{e(name)} ({e(op)})</title>{e(truncate(name, 52))}</text>')
        for k, (i, entry) in enumerate(zip(with_layers, times)):
            by = y + k * bar
            text = share_text(entry)
            length = 0.0 if entry is None else bar_width * entry[1] / longest
            out.append(f'<rect x="{label_width}" y="{by}" width="{length:.1f}" height="{bar - 2}" fill="{colour(i)}">'
                       f'<title>{e(name)} on #{i + 1}: {e(text)}</title></rect>'
                       f'<text class="small" x="{label_width + length + 4:.1f}" y="{by + bar - 3}">{e(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def provenance_html(records):
    parts = []
    for i, record in enumerate(records):
        rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in provenance_rows(record))
        parts.append(f'<details><summary><span class="swatch" style="background:{colour(i)}"></span>'
                     f'{e(record_label(i + 1, record))}</summary><table class="provenance">{rows}</table></details>')
    return "\n".join(parts)


STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 13px; color: #111; background: #fff;
       margin: 16px; }
h1 { font-size: 20px; margin: 0 0 6px 0; } h2 { font-size: 16px; margin: 22px 0 6px 0; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 3px 6px; vertical-align: top; }
table.summary { font-size: 12px; } table.summary td, table.summary th { padding: 2px 4px; }
table.summary th { background: #e9ecef; }
table.summary td { white-space: nowrap; } table.summary td.wrap { white-space: normal; min-width: 90px; }
table.summary tr.baseline td { font-weight: bold; }
table.provenance th { text-align: left; background: #f1f3f5; font-weight: normal; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; }
svg.plot { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11px; background: #fff; display: block; }
svg.plot .small { font-size: 9px; fill: #333; }
details { margin: 4px 0; } summary { cursor: pointer; }
p.note { color: #333; max-width: 1100px; }
"""


def html_page(records, baseline, sources):
    _, ranked = top_layers(records, TOP_LAYERS_PAGE)
    layers = layers_svg(records) if ranked else '<p class="note">No record has per-layer times ' \
        '(run <code>vkvision bench --per-layer --json</code> to get them).</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>vkvision benchmark report</title>
<style>{STYLE}</style></head><body>
<h1>vkvision benchmark report</h1>
<p class="note">{len(records)} records from {e(", ".join(os.path.basename(s) for s in sources))}.
Latency is per inference of the batch; ratios are p50 over the baseline record's p50 (#{baseline + 1}, in bold).</p>
{html_table(records, baseline)}
<h2>Latency (bar: p50, whisker: p90)</h2>
{latency_svg(records)}
<h2>Per-layer device time, top {TOP_LAYERS_PAGE} layers by their largest share of any record's time</h2>
<p class="note">Bars are each layer's share of its record's summed device time (labels: ms and share), so
that devices far apart in speed stay comparable; layers are matched by name across records, and a layer
one record lacks is marked absent.</p>
{layers}
<h2>Provenance</h2>
{provenance_html(records)}
</body></html>
"""


# ---- markdown ------------------------------------------------------------------------------------------

def md(value):
    """A markdown table cell: HTML-escaped (GitHub renders HTML in markdown), pipes escaped."""
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("\n", " ")


def md_table(headings, rows):
    lines = ["| " + " | ".join(md(h) for h in headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]
    return lines


def markdown_page(records, baseline):
    columns = summary_columns(records, baseline)
    lines = md_table([h for h, _ in columns], [[cells[i] for _, cells in columns] for i in range(len(records))])
    with_layers, ranked = top_layers(records, TOP_LAYERS_MARKDOWN)
    if ranked:
        lines += ["", f"Per-layer device time, ms (share of the record's device time), top {TOP_LAYERS_MARKDOWN} "
                  "layers by their largest share of any record's:", ""]
        headings = ["layer", "op"] + [f"#{i + 1} {device_label(records[i])}" for i in with_layers]
        rows = [[name, op] + [share_text(entry) for entry in times] for name, op, times in ranked]
        lines += md_table(headings, rows)
    else:
        lines += ["", "No record has per-layer times."]
    return "\n".join(lines) + "\n"


# ---- command line --------------------------------------------------------------------------------------

def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="An HTML report comparing vkvision bench --json records.")
    parser.add_argument("files", nargs="+", help="vkvision bench --json files (schema 2)")
    parser.add_argument("-o", "--output", required=True, help="the HTML page to write")
    parser.add_argument("--baseline", help="record number (1 = first) or a device-name substring")
    parser.add_argument("--markdown", help="also write the tables as GitHub markdown here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    try:
        records = [record for path in args.files for record in load_records(path)]
        mark_differences(records)
        baseline = choose_baseline(records, args.baseline)
    except RefusedFile as error:
        print(error, file=sys.stderr)
        return 2
    page = html_page(records, baseline, args.files)
    markdown = markdown_page(records, baseline) if args.markdown else None
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(page)
    if markdown is not None:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
