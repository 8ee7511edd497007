"""Per-layer device time as an SVG bar chart, from one record of the JSON `vkvision bench --per-layer --json`
writes (bench_json.load_record).
Plain SVG text: no plotting library needed, and the file diffs readably in git."""
import html
import os

# One colour per op family, so the eye finds where the time goes (GEMMs, depthwise, attention...).
COLOURS = {"linear": "#4477aa", "conv2d": "#66ccee", "depthwise_conv2d": "#228833", "window_attention": "#ee6677",
           "layer_norm": "#ccbb44", "spatial_mlp": "#aa3377"}
OTHER = "#bbbbbb"


def colour(op):
    base = op.split("+")[0]
    return COLOURS.get(base, OTHER)


def write_layer_plot(report, path, title):
    layers = report["layers"]
    total = sum(layer["ms"] for layer in layers)
    longest = max((layer["ms"] for layer in layers), default=1.0) or 1.0
    row, label_width, bar_width, top = 13, 330, 420, 46
    height = top + row * len(layers) + 40
    width = label_width + bar_width + 150
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="10">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="8" y="16" font-size="13" font-weight="bold">{html.escape(title)}: per-layer device time</text>',
           f'<text x="8" y="32">{html.escape(report["device"]["name"])}, {len(layers)} layers, '
           f'{report["run"]["dispatches"]} dispatches, {total:.1f} ms of device time in all</text>']
    for i, layer in enumerate(layers):
        y = top + i * row
        length = bar_width * layer["ms"] / longest
        rate = layer["gflop"] / (layer["ms"] * 1e-3) if layer["ms"] > 0 else 0.0
        name = layer["name"] if len(layer["name"]) <= 58 else layer["name"][:55] + "..."
        out.append(f'<text x="{label_width - 4}" y="{y + 9}" text-anchor="end">{html.escape(name)}</text>')
        out.append(f'<rect x="{label_width}" y="{y + 1}" width="{length:.1f}" height="{row - 3}" '
                   f'fill="{colour(layer["op"])}"><title>{html.escape(layer["op"])} {layer["output"]}</title></rect>')
        out.append(f'<text x="{label_width + length + 4:.1f}" y="{y + 9}">{layer["ms"]:.2f} ms, '
                   f'{rate:.1f} GFLOP/s</text>')
    y = top + row * len(layers) + 18
    x = 8
    for op, fill in list(COLOURS.items()) + [("other", OTHER)]:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{fill}"/>'
                   f'<text x="{x + 14}" y="{y}">{op}</text>')
        x += 14 + 7 * len(op) + 16
    out.append("</svg>")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
