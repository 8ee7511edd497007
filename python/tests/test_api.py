"""The module's surface: devices, models, sessions, classify and profile, and every error path."""
import os
import pathlib
import re

import numpy as np
import pytest

import vkvision


def test_version_is_the_projects():
    assert re.fullmatch(r"\d+\.\d+\.\d+", vkvision.__version__)


def test_devices_lists_a_usable_device():
    devices = vkvision.devices()
    assert devices and any(device.usable for device in devices)
    for index, device in enumerate(devices):
        assert device.index == index and device.name and re.fullmatch(r"\d+\.\d+\.\d+", device.api_version)
        assert device.usable == (device.unsupported_reason == "")


def test_runtime_names_its_device(runtime):
    assert runtime.device.name == vkvision.devices()[runtime.device.index].name
    assert runtime.device.name in repr(runtime)


def test_models_lists_the_presets():
    names = {preset.name for preset in vkvision.models()}
    assert {"convnext_tiny", "swin_tiny_patch4_window7_224"} <= names


def test_load_reads_the_default_model(default_model):
    assert default_model.family == "convnext"
    assert default_model.num_classes == 10 and len(default_model.labels) == 10
    assert default_model.preprocessing.channels == 1


def test_classify_agrees_with_the_sample_names(default_model, data_dir, runtime):
    session = vkvision.Session(default_model, batch=3, device=runtime)  # 3: the last batch is partial
    samples = sorted((data_dir / "samples").glob("*.png"))
    assert len(samples) % 3 != 0
    rows = session.classify([str(path) for path in samples], top=3)
    assert len(rows) == len(samples)
    for path, row in zip(samples, rows):
        # 0000_ankle_boot.png -> "ankle boot", as tests/install/run.sh reads them
        assert row[0].label.lower() == path.stem.split("_", 1)[1].replace("_", " ")
        assert len(row) == 3 and row[0].probability >= row[1].probability >= row[2].probability


def test_run_equals_classify_and_top_k(default_model, data_dir, runtime):
    session = vkvision.Session(default_model, device=runtime)
    sample = data_dir / "samples" / "0000_ankle_boot.png"
    image = session.preprocess(sample)
    assert image.shape == (1, session.input_size, session.input_size) and image.dtype == np.float32
    np.testing.assert_array_equal(session.preprocess(vkvision.decode_image(sample)), image)
    logits = session.run(image[np.newaxis])
    assert logits.shape == (1, 10) and logits.dtype == np.float32
    best = vkvision.top_k(logits, 1, default_model.labels)[0][0]
    assert best.index == int(np.argmax(logits)) and best.label == "Ankle boot"
    assert session.classify([pathlib.Path(sample)], top=1)[0][0].index == best.index


def test_run_reads_any_layout_of_the_same_values(default_model, runtime):
    session = vkvision.Session(default_model, batch=2, device=runtime)
    shape = (2, 1, session.input_size, session.input_size)
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    expected = session.run(x)
    read_only = x.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(session.run(read_only), expected)
    fortran = np.asfortranarray(x)
    assert not fortran.flags.c_contiguous
    np.testing.assert_array_equal(session.run(fortran), expected)
    np.testing.assert_array_equal(session.run(np.ascontiguousarray(x[::-1])[::-1]), expected)
    assert np.all(np.isfinite(expected)) and not np.array_equal(expected[0], expected[1])


def test_wrong_inputs_name_the_expected_dtype_and_shape(default_model, runtime):
    session = vkvision.Session(default_model, device=runtime)
    size = session.input_size
    with pytest.raises(TypeError, match=rf"dtype float64; expected float32 with shape \(1, 1, {size}, {size}\)"):
        session.run(np.zeros((1, 1, size, size)))
    with pytest.raises(ValueError, match=rf"shape \(1, 3, {size}, {size}\); expected float32"):
        session.run(np.zeros((1, 3, size, size), np.float32))
    with pytest.raises(TypeError, match="must be a numpy.ndarray of float32.*not list"):
        session.run([[0.0]])
    with pytest.raises(TypeError, match="uint8"):
        session.preprocess(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"shape \(8, 8, 4\)"):
        session.preprocess(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(TypeError, match="path or a numpy.ndarray"):
        session.preprocess(42)
    with pytest.raises(ValueError, match="top must be at least 1"):
        session.classify([], top=0)


def test_library_errors_carry_the_one_line_message(tmp_path, default_model, runtime):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(vkvision.InputError, match=re.escape(str(bad))) as error:
        vkvision.Model.load(bad)
    assert isinstance(error.value, ValueError) and isinstance(error.value, vkvision.Error)
    assert "\n" not in str(error.value)
    with pytest.raises(vkvision.InputError, match="no_such_model"):
        vkvision.Model.preset("no_such_model")
    with pytest.raises(vkvision.InputError, match="missing.png"):
        vkvision.Session(default_model, device=runtime).classify([str(tmp_path / "missing.png")])
    with pytest.raises(vkvision.InputError):
        vkvision.Session(default_model, batch=0, device=runtime)
    with pytest.raises(ValueError, match="precision must be 'fp32' or 'fp16', not 'int8'"):
        vkvision.Session(default_model, precision="int8", device=runtime)
    with pytest.raises(ValueError, match="kernels must be"):
        vkvision.Session(default_model, kernels="fastest", device=runtime)
    with pytest.raises(TypeError, match="device must be None, a device index"):
        vkvision.Session(default_model, device="gpu0")


def test_a_device_that_does_not_exist_is_refused(default_model):
    with pytest.raises(vkvision.InputError, match="device 99 does not exist"):
        vkvision.Session(default_model, device=99)


def test_profile_has_a_row_per_layer(default_model, runtime):
    session = vkvision.Session(default_model, device=runtime)
    if not runtime.device.timestamps:
        pytest.skip(f"{runtime.device.name} has no timestamps")
    rows = session.profile()
    assert len(rows) == len(default_model.describe().strip().splitlines()) - 1 or len(rows) > 3
    assert all(row.name and row.op and row.milliseconds >= 0 and row.dispatches >= 0 for row in rows)
    assert sum(row.gflop for row in rows) > 0


def test_fp16_weights_stay_close(default_model, runtime):
    if not (runtime.device.storage_buffer_16bit or runtime.device.shader_float16):
        pytest.skip(f"{runtime.device.name} reads no half weights")
    x = np.random.default_rng(1).standard_normal((1, 1, 32, 32), dtype=np.float32)
    fp32 = vkvision.Session(default_model, device=runtime).run(x)
    fp16 = vkvision.Session(default_model, precision="fp16", device=runtime).run(x)
    assert np.argmax(fp16) == np.argmax(fp32) and np.max(np.abs(fp16 - fp32)) < 0.05 * np.max(np.abs(fp32))


def test_the_documented_example_prints_what_docs_api_md_says(data_dir, capsys):
    """docs/API.md's Python block, run as written (its paths taken from the data directory)."""
    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()
    example = re.search(r"## Python\n\n```python\n(.*?)```", text, re.S).group(1)
    expected = re.search(r"all three print the same three lines:\n\n```\n(.*?)```", text, re.S).group(1)
    for relative in ("models/convnext_fmnist.safetensors", "samples/0000_ankle_boot.png"):
        example = example.replace(f'"{relative}"', repr(str(data_dir / relative)))
    exec(compile(example, "docs/API.md", "exec"), {})
    assert capsys.readouterr().out == expected
