#!/usr/bin/python3
"""Tests of bench/report.py (ctest report_page and report_refusals, tests/bench/CMakeLists.txt).

page: strings from the files are escaped in the page and the markdown; a report of the sample
records (tests/bench/make_sample_records.py: three records, two with layers) references nothing on
the network, and headless Chromium (Debian's chromium, which tools/install_deps.sh installs) renders
it: the table rows and the SVG bars are in the rendered DOM, and the screenshot, decoded here (zlib +
struct), shows each record's bar colour over a plausible area and dark text where the table is.
Without chromium the test fails: CI installs it.
refusals: a schema-1 record, a too-new schema_version, malformed JSON (NaN included), a missing field
and a mistyped one are each refused with one line on stderr naming the file (and the field), exit 2,
and no page written.

Run: tests/bench/report_test.py page|refusals
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "..", "..", "bench", "report.py")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import make_sample_records  # noqa: E402
from report import RECORD_COLOURS  # noqa: E402

CHROMIUM_TIMEOUT_S = 60
WINDOW = (1280, 1600)
# The table sits in the top of the page (a heading, a line, three rows): the band checked for text.
TABLE_BAND = (60, 300)


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run_report(*arguments):
    return subprocess.run([sys.executable, REPORT, *arguments], capture_output=True, text=True, timeout=60)


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    fail("chromium not found: tools/install_deps.sh installs it (apt-get install chromium); this test needs it")


def chromium(page, *flags):
    """Runs headless Chromium on the page; returns its stdout. Its stderr (dbus and GPU noise) is ignored."""
    command = [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--force-color-profile=srgb", f"--window-size={WINDOW[0]},{WINDOW[1]}", *flags, "file://" + page]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        fail(f"chromium took over {CHROMIUM_TIMEOUT_S} s: {' '.join(command)}")
    if result.returncode != 0:
        fail(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


# ---- PNG decoding (8-bit RGB or RGBA, non-interlaced: what Chromium writes) -------------------------------

def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def unfilter(data, width, height, channels):
    """The PNG scanline filters undone (PNG spec section 9); returns rows of bytes."""
    stride, rows, previous, offset = width * channels, [], bytearray(width * channels), 0
    for _ in range(height):
        kind, line = data[offset], bytearray(data[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            line[x] = (line[x] + (0, left, up, (left + up) // 2, paeth(left, up, corner))[kind]) & 0xFF
        rows.append(line)
        previous = line
    return rows


def decode_png(path):
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    offset, idat, header = 8, b"", None
    while offset < len(blob):
        length, kind = struct.unpack(">I4s", blob[offset:offset + 8])
        body = blob[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or colour_type not in (2, 6) or interlace:
        fail(f"{path}: PNG depth {depth} colour type {colour_type} interlace {interlace}; expected 8-bit RGB(A)")
    channels = 3 if colour_type == 2 else 4
    return width, height, channels, unfilter(zlib.decompress(idat), width, height, channels)


def pixel_counts(rows, channels, first_row=0, last_row=None):
    """{(r, g, b): count} over rows [first_row, last_row)."""
    counts = {}
    for line in rows[first_row:last_row]:
        for x in range(0, len(line), channels):
            key = (line[x], line[x + 1], line[x + 2])
            counts[key] = counts.get(key, 0) + 1
    return counts


def rgb(hex_colour):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


# ---- the tests ----------------------------------------------------------------------------------------

def check_no_network_references(page_text):
    references = re.findall(r"https?://", page_text)
    if references:
        fail(f"the page references the network ({len(references)} http(s):// strings)")
    for tag in ("<script", "<link", "@import", "url("):
        if tag in page_text:
            fail(f"the page contains {tag!r}: it must be self-contained and need no JavaScript")


def check_dom(page, record_count, layer_records):
    dom = chromium(page, "--dump-dom")
    table = dom[dom.find('<table class="summary">'):]
    body_rows = table[table.find("<tbody>"):table.find("</tbody>")].count("<tr")
    if body_rows != record_count:
        fail(f"the rendered table has {body_rows} rows, expected {record_count}")
    for colour in RECORD_COLOURS[:record_count]:
        if f'fill="{colour}"' not in dom:
            fail(f"no SVG bar of colour {colour} in the rendered DOM")
    bars = dom.count("<rect")
    # latency bars + legend swatches + top-15 layer groups of one bar per record with layers
    expected = record_count + layer_records + 15 * layer_records
    if bars != expected:
        fail(f"{bars} <rect> in the rendered DOM, expected {expected}")


def check_screenshot(page, tmp, record_count):
    shot = os.path.join(tmp, "shot.png")
    chromium(page, f"--screenshot={shot}")
    width, height, channels, rows = decode_png(shot)
    if (width, height) != WINDOW:
        fail(f"screenshot is {width}x{height}, expected {WINDOW[0]}x{WINDOW[1]}")
    counts = pixel_counts(rows, channels)
    if len(counts) < 50:
        fail(f"the screenshot has {len(counts)} distinct colours: blank or not rendered")
    for i, colour in enumerate(RECORD_COLOURS[:record_count]):
        seen = counts.get(rgb(colour), 0)
        # each record's latency bar is at least ~25 px tall and several px wide, plus its layer bars
        if not 500 <= seen <= 0.25 * width * height:
            fail(f"record {i + 1}'s colour {colour} covers {seen} pixels, expected 500..{int(0.25 * width * height)}")
        print(f"record {i + 1} colour {colour}: {seen} pixels")
    band = pixel_counts(rows, channels, *TABLE_BAND)
    dark = sum(n for (r, g, b), n in band.items() if max(r, g, b) < 90)
    if dark < 2000:
        fail(f"only {dark} dark pixels in rows {TABLE_BAND} where the table is: no text rendered?")
    print(f"table band: {dark} dark pixels")


HOSTILE = '<script>alert(1)</script></svg><img src=x onerror=alert(2)> | "quoted" & more'


def check_escaping(tmp):
    """Strings from the files reach the page and the markdown as text, never as markup."""
    record = make_sample_records.lavapipe_records()[0]
    record["device"]["name"] = record["model"]["name"] = record["host"]["cpu"] = HOSTILE
    record["layers"][0]["name"] = record["layers"][0]["op"] = HOSTILE
    record["host"]["environment"] = {HOSTILE: HOSTILE}
    path, page, markdown = (os.path.join(tmp, "hostile" + suffix) for suffix in (".json", ".html", ".md"))
    with open(path, "w") as f:
        json.dump(make_sample_records.bench_file([record]), f)
    result = run_report(path, "-o", page, "--markdown", markdown)
    if result.returncode != 0:
        fail(f"report.py exited {result.returncode} on hostile strings: {result.stderr}")
    for output in (page, markdown):
        with open(output, encoding="utf-8") as f:
            text = f.read()
        for markup in ("<script", "<img", "</svg><img"):
            if markup in text:
                fail(f"{output}: a string from the file came through as markup ({markup!r})")
        if "&lt;script&gt;" not in text:
            fail(f"{output}: the hostile string is not there, escaped")


def test_page():
    with tempfile.TemporaryDirectory() as tmp:
        check_escaping(tmp)
        inputs = make_sample_records.write_samples(tmp)
        records = [r for path in inputs for r in json.load(open(path))["records"]]
        page, markdown = os.path.join(tmp, "report.html"), os.path.join(tmp, "report.md")
        result = run_report(*inputs, "-o", page, "--markdown", markdown)
        if result.returncode != 0:
            fail(f"report.py exited {result.returncode}: {result.stderr}")
        with open(page, encoding="utf-8") as f:
            check_no_network_references(f.read())
        with open(markdown, encoding="utf-8") as f:
            table_lines = [line for line in f if line.startswith("| ")]
        if len(table_lines) != 1 + len(records) + 1 + 10:
            fail(f"markdown has {len(table_lines)} table lines, expected {len(records)} records + 10 layers + headers")
        check_dom(page, len(records), sum(1 for r in records if r.get("layers")))
        check_screenshot(page, tmp, len(records))
    print("report_page: ok")


def expect_refusal(tmp, name, document, expected_line):
    """document: a JSON value, or a str written as is (malformed JSON)."""
    path, page = os.path.join(tmp, name), os.path.join(tmp, name + ".html")
    with open(path, "w") as f:
        f.write(document if isinstance(document, str) else json.dumps(document))
    result = run_report(path, "-o", page, "--markdown", page + ".md")
    lines = result.stderr.splitlines()
    if result.returncode != 2:
        fail(f"{name}: exit {result.returncode}, expected 2; stderr: {result.stderr}")
    if len(lines) != 1 or not re.fullmatch(expected_line, lines[0]):
        fail(f"{name}: stderr {lines!r}, expected one line matching {expected_line!r}")
    if os.path.exists(page) or os.path.exists(page + ".md"):
        fail(f"{name}: an output file was written despite the refusal")
    print(f"{name}: {lines[0]}")


def test_refusals():
    with tempfile.TemporaryDirectory() as tmp:
        good = make_sample_records.bench_file(make_sample_records.lavapipe_records())
        path = re.escape(tmp + os.sep)
        expect_refusal(tmp, "schema1.json", make_sample_records.schema1_record(),
                       path + r"schema1\.json: a schema-1 vkvision bench record \(no schema_version\); "
                       r"rerun vkvision bench to get schema 2")
        expect_refusal(tmp, "schema3.json", dict(good, schema_version=3),
                       path + r"schema3\.json: schema_version 3 is newer than this reader's 2")
        expect_refusal(tmp, "truncated.json", json.dumps(good)[:500], path + r"truncated\.json: not valid JSON: .*")
        nan = json.loads(json.dumps(good))
        nan["records"][0]["steady_state"]["p50_ms"] = float("nan")  # json.dumps writes NaN
        expect_refusal(tmp, "nan.json", json.dumps(nan),
                       path + r"nan\.json: not valid JSON: NaN is not a JSON number")
        missing = json.loads(json.dumps(good))
        del missing["records"][0]["steady_state"]["p90_ms"]
        expect_refusal(tmp, "missing.json", missing,
                       path + r"missing\.json: records\[0\]: missing field steady_state\.p90_ms")
        wrong = json.loads(json.dumps(good))
        wrong["records"][0]["steady_state"]["p50_ms"] = "330"
        expect_refusal(tmp, "string.json", wrong,
                       path + r"string\.json: records\[0\]: field steady_state\.p50_ms is not a number")
    print("report_refusals: ok")


if __name__ == "__main__":
    tests = {"page": test_page, "refusals": test_refusals}
    if len(sys.argv) != 2 or sys.argv[1] not in tests:
        sys.exit("usage: report_test.py page|refusals")
    tests[sys.argv[1]]()
