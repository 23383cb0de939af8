"""Numbers read from text, vectorized: integer ids exactly (never through float64, which rounds ids
above 2**53), and ratings as :func:`pandas.to_numeric` reads them. The common spelling (plain digits) is
converted in Arrow; only the other rows go through the slower general path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ID_TEXT = r"[+-]?[0-9]{1,19}(?:\.0*)?"  # "7", " 8 ", "7.0": whole numbers written as text
_PLAIN = r"^[0-9]{1,18}$"  # the common case: digits only, always inside int64


def _exact_slow(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Every accepted spelling (sign, spaces, ``7.0``), one Python int per row: for the rare rows."""
    stripped = text.astype(str).str.strip()
    ok = stripped.str.fullmatch(_ID_TEXT).fillna(False).astype(bool).to_numpy()
    digits = stripped.where(ok, "0").str.replace(r"\.0*$", "", regex=True)
    values = [int(d) for d in digits]
    inside = np.array([-(2**63) <= v < 2**63 for v in values], dtype=bool)
    bad = ~ok | ~inside
    exact = np.array([v if good else 0 for v, good in zip(values, ~bad)], dtype=np.int64)
    return exact, bad


def _convert_plain(text: pd.Series, pattern: str, arrow_type: pa.DataType, out: np.ndarray) -> np.ndarray:
    """Converts the rows matching ``pattern`` in Arrow into ``out``; returns their mask (all False when
    the column is not all strings, so that every row takes the general path)."""
    try:
        arrow = pa.array(text, type=pa.string(), from_pandas=True)
        plain = pc.fill_null(pc.match_substring_regex(arrow, pattern), False).to_numpy(zero_copy_only=False)
        out[plain] = pc.cast(arrow.filter(pa.array(plain)), arrow_type).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, TypeError, ValueError):
        return np.zeros(len(text), dtype=bool)
    return plain


def exact_ids(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Integer ids from strings, exactly.

    Returns ``(int64 values, bad mask)``; a bad entry (not a whole number, or beyond
    int64) has value 0 and ``True`` in the mask. Plain digit strings are converted in
    Arrow; only the other rows (signs, spaces, ``7.0``, garbage) go through Python.
    """
    values = np.zeros(len(text), dtype=np.int64)
    bad = np.zeros(len(text), dtype=bool)
    plain = _convert_plain(text, _PLAIN, pa.int64(), values)
    rest = np.flatnonzero(~plain)
    if len(rest):
        values[rest], bad[rest] = _exact_slow(text.iloc[rest])
    return values, pd.Series(bad, index=text.index)


_PLAIN_RATING = r"^[0-9]{1,15}$"  # whole numbers below 2**53: every parser gives the same float64


def numbers(text: pd.Series) -> np.ndarray:
    """float64 per row as ``pd.to_numeric(text.str.strip(), errors="coerce")`` gives it; NaN if not a number."""
    values = np.full(len(text), np.nan)
    plain = _convert_plain(text, _PLAIN_RATING, pa.float64(), values)
    rest = np.flatnonzero(~plain)
    if len(rest):
        parsed = pd.to_numeric(text.iloc[rest].str.strip(), errors="coerce")
        values[rest] = parsed.to_numpy(dtype="float64", na_value=np.nan)
    return values
