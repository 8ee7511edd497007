#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/) from the test fixtures.

Seeds stay small (libFuzzer mutates faster on short inputs): the io fixtures' tiny checkpoints,
data.pkl pickles taken out of real fixtures, small .npy files and hand-made header variants, and for
family_detection the names and shapes of every fixture checkpoint as text. Needs only the standard
library. Run from anywhere: python3 tools/make_fuzz_seeds.py
"""
import collections
import io
import json
import pathlib
import pickle
import struct
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "fuzz" / "corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def safetensors(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes)."""
    header, blob = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob


class _Opaque:
    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class _NamesAndShapes(pickle.Unpickler):
    """Reads a torch.save pickle without torch: tensors become ('tensor', shape)."""

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *rest: ("tensor", tuple(size))
        if module == "torch._utils" and name.startswith("_rebuild_parameter"):
            return lambda data, *rest: data
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        return _Opaque

    def persistent_load(self, pid):
        return pid


def is_tensor(value):
    return isinstance(value, tuple) and len(value) == 2 and value[0] == "tensor"


def torch_shapes(path):
    with zipfile.ZipFile(path) as archive:
        pkl = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        root = _NamesAndShapes(io.BytesIO(archive.read(pkl))).load()
    state = root
    for wrapper in ("model", "state_dict", "model_ema"):
        inner = root.get(wrapper) if isinstance(root, dict) else None
        if isinstance(inner, dict) and any(is_tensor(v) for v in inner.values()):
            state = inner
            break
    shapes = {k: v[1] for k, v in state.items() if is_tensor(v)}
    if shapes and all(k.startswith("module.") for k in shapes):
        shapes = {k[7:]: v for k, v in shapes.items()}
    return shapes


def safetensors_shapes(path):
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    return {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}


def pickle_of(path):
    with zipfile.ZipFile(path) as archive:
        return archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))


def npy(shape, descr="<f4", version=1, values=None):
    count = 1
    for d in shape:
        count *= d
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    prefix = 12 if version >= 2 else 10
    header += " " * (63 - (prefix + len(header)) % 64) + "\n"
    size = struct.pack("<I", len(header)) if version >= 2 else struct.pack("<H", len(header))
    fmt = "<%d%s" % (count, "f" if descr == "<f4" else "d")
    body = struct.pack(fmt, *(values or [i / 8 for i in range(count)]))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode() + body


# --- Hand-made attacks (issue 11), kept as regression inputs that ctest replays ---------------------

def short_unicode(text):
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data


def tensor_pickle(shape, stride, offset=0, storage_numel=1, dtype="FloatStorage"):
    """A torch.save data.pkl holding {'w': _rebuild_tensor_v2(storage '0', offset, shape, stride)}."""
    def ints(values):
        out = b"("
        for v in values:
            out += b"\x8a\x08" + struct.pack("<q", v)  # LONG1 of 8 bytes: any int64
        return out + b"t"

    storage = (b"(" + short_unicode("storage") + b"ctorch\n" + dtype.encode() + b"\n" + short_unicode("0") +
               short_unicode("cpu") + b"\x8a\x08" + struct.pack("<q", storage_numel) + b"tQ")
    rebuild = (b"ctorch._utils\n_rebuild_tensor_v2\n(" + storage + b"\x8a\x08" + struct.pack("<q", offset) +
               ints(shape) + ints(stride) + b"\x89" + b"ccollections\nOrderedDict\n)R" + b"tR")
    return b"\x80\x02}" + short_unicode("w") + rebuild + b"s."


def torch_zip(pickle_bytes, storage_bytes):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        # a fixed timestamp, so re-running the script rewrites the same bytes
        for name, data in (("archive/data.pkl", pickle_bytes), ("archive/data/0", storage_bytes)):
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def npy_with_header(header, body=b""):
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body


def write_regressions():
    def regression(target, name, data):
        folder = ROOT / "fuzz" / "regressions" / target
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    one_float = struct.pack("<f", 1.0)
    # (last + 1) * element wrapped 2^64: shape 2 with stride 2^62 reaches element 2^62, times 4 bytes = 2^64.
    regression("torch_zip", "issue11_extent_wraps.pth", torch_zip(tensor_pickle([2], [1 << 62]), one_float * 4))
    # (shape - 1) * stride overflows int64 outright.
    regression("torch_zip", "issue11_stride_overflow.pth",
               torch_zip(tensor_pickle([1 << 40, 2], [1 << 40, 1]), one_float * 4))
    # A stride-0 view of one stored element claiming 2^28 elements (1 GiB as float32).
    regression("torch_zip", "issue11_stride0_broadcast.pth", torch_zip(tensor_pickle([1 << 28], [0]), one_float))
    # Offset past the storage, negative stride.
    regression("torch_zip", "issue11_offset_past_storage.pth", torch_zip(tensor_pickle([1], [1], offset=5), one_float))
    regression("torch_zip", "issue11_negative_stride.pth", torch_zip(tensor_pickle([2], [-1], offset=1), one_float * 2))
    # A tensor name with a newline.
    regression("torch_zip", "issue11_newline_name.pth",
               torch_zip(tensor_pickle([1], [1]).replace(short_unicode("w"), short_unicode("w\nfake line")), one_float))
    # Nesting: 100,000 tuples, lists and marks (1e5 overflowed the stack under ASan before).
    depth = 100_000
    regression("pickle", "issue11_nested_tuples.pkl", b"\x80\x02)" + b"\x85" * depth + b".")
    regression("pickle", "issue11_nested_lists.pkl", b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b".")
    regression("pickle", "issue11_nested_marks.pkl", b"\x80\x02" + b"(" * depth + b"N" + b"t" * depth + b".")
    # A list appended to itself through the memo: a cycle.
    regression("pickle", "issue11_self_reference.pkl", b"\x80\x02]q\x00h\x00a.")
    # npy: 10,000 dimensions; a batch of 2^62 + 1 that wraps the element count; a size past int64;
    # raw bytes in the dtype.
    dims = b", ".join([b"1"] * 10_000)
    regression("npy", "issue11_many_dimensions.npy",
               npy_with_header(b"{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + b"), }\n", one_float))
    regression("npy", "issue11_count_wraps.npy",
               npy_with_header(b"{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 1, 2, 2), }\n" % ((1 << 62) + 1),
                               one_float * 4))
    regression("npy", "issue11_size_past_int64.npy",
               npy_with_header(b"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n"))
    regression("npy", "issue11_raw_bytes_descr.npy",
               npy_with_header(b"{'descr': '<f4\n\x01\x7f', 'fortran_order': False, 'shape': (1,), }\n", one_float))
    # safetensors: a shape whose byte count wraps, a dimension past int64, deep JSON in the shape.
    regression("safetensors", "issue11_shape_bytes_wrap.safetensors",
               safetensors({"w": ("F32", [1 << 62, 4], one_float)}))
    deep = b"[" * 50_000 + b"]" * 50_000
    header = b'{"w": {"dtype": "F32", "shape": ' + deep + b', "data_offsets": [0, 4]}}'
    regression("safetensors", "issue11_deep_shape.safetensors", struct.pack("<Q", len(header)) + header + one_float)
    header = b'{"w\\n\\u0001": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    regression("safetensors", "issue11_control_name.safetensors", struct.pack("<Q", len(header)) + header + one_float)


def main():
    write_regressions()
    # safetensors: every dtype, metadata, an empty tensor, a scalar.
    f32 = struct.pack("<6f", *[i / 8 for i in range(6)])
    write("safetensors", "dtypes.safetensors", safetensors({
        "a.weight": ("F32", [2, 3], f32),
        "a.half": ("F16", [3], struct.pack("<3e", 0.5, -1.0, 2.0)),
        "a.bf16": ("BF16", [2], b"\x80\x3f\x00\x40"),
        "a.double": ("F64", [1], struct.pack("<d", 1.5)),
        "a.index": ("I64", [2], struct.pack("<2q", 0, 1)),
        "a.flag": ("BOOL", [2], b"\x01\x00"),
        "a.empty": ("F32", [0, 4], b""),
        "a.scalar": ("F32", [], struct.pack("<f", 3.0)),
    }, {"vkvision.input_size": "28", "vkvision.mean": "[0.5]"}))
    write("safetensors", "convnext_norms.safetensors", safetensors({
        name: ("F32", [4], struct.pack("<4f", 1, 2, 3, 4))
        for name in ("stem.1.weight", "stem.1.bias", "head.norm.weight", "head.norm.bias")
    }))

    # torch.save archives: the io fixtures (bare, wrapped, a transposed view, every storage type used).
    for name in ("bare.pth", "wrapped_model.pth", "wrapped_state_dict.pth"):
        write("torch_zip", name, (FIXTURES / "io" / name).read_bytes())

    # pickles: the io fixtures' and two real models' data.pkl.
    for path in [FIXTURES / "io" / "bare.pth", FIXTURES / "io" / "wrapped_model.pth",
                 FIXTURES / "repvgg" / "official_deploy.pth", FIXTURES / "swin" / "v2_timm.pth"]:
        write("pickle", path.parent.name + "_" + path.stem + ".pkl", pickle_of(path))

    # npy: the versions and dtypes read_npy takes, and real logits.
    write("npy", "f4_v1.npy", npy([2, 3]))
    write("npy", "f8_v2.npy", npy([1, 2, 2, 2], "<f8", 2))
    write("npy", "vector_v3.npy", npy([5], version=3))
    write("npy", "scalar.npy", npy([]))
    write("npy", "logits.npy", (FIXTURES / "repvgg" / "logits.npy").read_bytes())

    # image: two bytes choosing the eval transform (fuzz/image.cpp), then a fixture image.
    rgb_224_bicubic, grey_32_bilinear = b"\xcf\xdf", b"\x1f\xff"
    for name, transform in [("grey_28x28.png", grey_32_bilinear), ("rgb_37x23.png", rgb_224_bicubic),
                            ("rgba_7x5.png", rgb_224_bicubic), ("la_7x5.png", grey_32_bilinear),
                            ("palette_9x6.png", grey_32_bilinear), ("rgb_30x40.jpg", rgb_224_bicubic),
                            ("grey_progressive_9x7.jpg", rgb_224_bicubic)]:
        write("image", name, transform + (FIXTURES / "io" / name).read_bytes())

    # family detection: names and shapes of every fixture checkpoint and the bundled model.
    checkpoints = sorted(FIXTURES.rglob("*.pth")) + sorted(FIXTURES.rglob("*.safetensors"))
    checkpoints.append(ROOT / "models" / "convnext_fmnist.safetensors")
    for path in checkpoints:
        shapes = torch_shapes(path) if path.suffix == ".pth" else safetensors_shapes(path)
        text = "".join(name + "".join(" %d" % d for d in shape) + "\n" for name, shape in sorted(shapes.items()))
        write("family_detection", path.parent.name + "_" + path.stem + ".txt", text.encode())


if __name__ == "__main__":
    main()
