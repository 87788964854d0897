"""Inputs and expected outputs of the example models, shared by the client-flavour tests."""

from __future__ import annotations

import numpy as np

# datatype -> numpy dtype of the `dtypes` model's in_<datatype>/out_<datatype> pairs
DTYPES: dict[str, type] = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": np.object_,
}


def simple_inputs(rows: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """INPUT0, INPUT1 for `simple` (INT32 [rows, 16]), distinct per seed."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-1000, 1000, size=(rows, 16), dtype=np.int32)
    b = rng.integers(-1000, 1000, size=(rows, 16), dtype=np.int32)
    return a, b


def dtype_values(datatype: str, shape: tuple[int, int] = (2, 3)) -> np.ndarray:
    """Values for in_<datatype> that exercise each type's range (finite, no NUL bytes, integers
    within ±(2^53 - 1) so that the JSON form is exact as well)."""
    n = shape[0] * shape[1]
    if datatype == "BOOL":
        return np.array([i % 3 == 0 for i in range(n)], dtype=np.bool_).reshape(shape)
    if datatype == "BYTES":
        words = [b"alpha", b"", "\u00e9t\u00e9 \u2603".encode(), b"a b,c", b"12345678901234567890", b"{\"json\": 1}"]
        return np.array([words[i % len(words)] for i in range(n)], dtype=np.object_).reshape(shape)
    dt = np.dtype(DTYPES[datatype])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        # JSON numbers are exact up to ±(2^53 - 1); beyond that is issue 12 gap 9
        lo = max(int(info.min), -(2**53 - 1))
        hi = min(int(info.max), 2**53 - 1)
        vals = [lo, hi, 0, 1, lo + 1, hi - 1]
        if dt.kind == "i":
            vals[3] = -1
        return np.array([vals[i % len(vals)] for i in range(n)], dtype=dt).reshape(shape)
    # floats: extremes of the type, fractions, negative zero
    finfo = np.finfo(dt)
    vals = [float(finfo.max), float(finfo.tiny), -1.5, 0.1, -0.0, 3.0]
    return np.array([vals[i % len(vals)] for i in range(n)], dtype=dt).reshape(shape)


def assert_same(actual: np.ndarray | None, expected: np.ndarray, label: str) -> None:
    assert actual is not None, f"{label}: missing from the response"
    assert actual.shape == expected.shape, f"{label}: shape {actual.shape}, expected {expected.shape}"
    if expected.dtype == np.object_:
        assert actual.dtype == np.object_, f"{label}: dtype {actual.dtype}, expected BYTES (object)"
        assert actual.tolist() == expected.tolist(), f"{label}: {actual.tolist()} != {expected.tolist()}"
        return
    assert actual.dtype == expected.dtype, f"{label}: dtype {actual.dtype}, expected {expected.dtype}"
    # bit-exact for numbers (also tells -0.0 from 0.0)
    assert actual.tobytes() == expected.tobytes(), f"{label}: {actual.tolist()} != {expected.tolist()}"
