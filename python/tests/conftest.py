"""Fixtures for the Python module's tests (ctest python_module runs them against build/python; the
install test against the installed package). VKVISION_EXPECT_MODULE_DIR: the package directory the
run must import (so that an installed-module run cannot silently test the build tree);
VKVISION_DATA_DIR: where models/ and samples/ are (the source tree, or PREFIX/share/vkvision)."""
import os
import pathlib

import pytest

import vkvision

HERE = pathlib.Path(__file__).resolve().parent


def pytest_sessionstart(session):
    expected = os.environ.get("VKVISION_EXPECT_MODULE_DIR")
    actual = pathlib.Path(vkvision.__file__).resolve().parent
    if expected and actual != pathlib.Path(expected).resolve():
        raise pytest.UsageError(f"imported vkvision from {actual}, expected {expected}")


@pytest.fixture(scope="session")
def data_dir():
    return pathlib.Path(os.environ.get("VKVISION_DATA_DIR", HERE.parent.parent))


@pytest.fixture(scope="session")
def runtime():
    """One device for the whole run, as an application would hold it; validation from
    VKVISION_VALIDATION (on under ctest)."""
    return vkvision.Runtime()


@pytest.fixture(autouse=True)
def no_validation_messages(runtime):
    """A validation message fails the test that caused it, as in the C++ suite."""
    before = len(runtime.validation_messages())
    yield
    assert runtime.validation_messages()[before:] == []


@pytest.fixture(scope="session")
def default_model(data_dir):
    return vkvision.Model.load(data_dir / "models" / "convnext_fmnist.safetensors")


def within_fp32_tolerance(actual, expected):
    """The C++ family tests' fp32 bound (tests/models/half_weights_tolerance.h): |a - b| <= 2e-4 +
    2e-4 |b| per logit. Returns the worst ratio to the bound (<= 1 passes)."""
    import numpy as np
    return float(np.max(np.abs(actual - expected) / (2e-4 + 2e-4 * np.abs(expected))))
