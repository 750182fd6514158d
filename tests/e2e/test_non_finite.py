"""NaN and ±Infinity in rows and triggers (issue 21, item 5): refused at check, in the
preview and in `up`, naming where they stand, before any request (orjson sent them as null)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parent / "programs" / "non_finite.py"
FIX = "remove it, or give a finite number or a string"


@pytest.mark.parametrize(
    ("bad", "where", "said"),
    [
        ("nan", "rows", ("property rows[2].amount value", "rows[2].amount is NaN, which JSON")),
        (
            "-inf",
            "group",
            ("property runs.k.rows[0].unit price", "run 'k': rows[0].unit price is -Inf"),
        ),
        ("inf", "triggers", ("property triggers.batch", "triggers.batch is Infinity, which JSON")),
    ],
)
def test_nan_or_infinity_is_refused_naming_where_before_any_request(
    make_stack, bad: str, where: str, said: tuple[str, str]
) -> None:
    stack = make_stack([], program=PROGRAM, bad=bad, where=where)
    for command in (stack.preview, stack.up):
        result = command(check=False)
        assert result.returncode != 0
        for text in (*said, FIX):
            assert text in result.stdout, result.stdout
        assert stack.emulator.requests() == []
    assert stack.resources() == []
