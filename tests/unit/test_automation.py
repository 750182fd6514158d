"""datagol_pulumi.automation.preview_then_up: up only after a preview that passed."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from datagol_pulumi.automation import PreviewFailed, preview_then_up


class FakeStack:
    """Records what was called; its preview prints ``lines`` and fails when ``fails``."""

    name = "prod"

    def __init__(self, lines: list[str], fails: bool) -> None:
        self.lines, self.fails, self.calls = lines, fails, []

    def preview(self, on_output: Any = None, on_event: Any = None) -> None:
        self.calls.append("preview")
        for line in self.lines:
            on_output(line)
        if self.fails:
            raise auto.CommandError(auto.CommandResult("\n".join(self.lines), "", 255))

    def up(self, **options: Any) -> str:
        self.calls.append(("up", options.get("parallel")))
        return "up-result"


def test_a_failed_preview_runs_no_up_and_keeps_its_errors() -> None:
    lines = [
        "Previewing update (prod):",
        "    error: Not sent: this update is over the limit of 25 DataGOL runs per update",
        "Resources:",
    ]
    stack = FakeStack(lines, fails=True)
    seen: list[str] = []
    with pytest.raises(PreviewFailed) as failed:
        preview_then_up(stack, on_output=seen.append)  # type: ignore[arg-type]
    assert stack.calls == ["preview"]
    assert seen == lines  # progress as it came
    assert str(failed.value) == (
        "The preview of stack prod failed, so up was not run and no DataGOL run was sent:\n"
        "    error: Not sent: this update is over the limit of 25 DataGOL runs per update"
    )
    assert failed.value.output == "\n".join(lines)


def test_a_preview_that_passed_is_followed_by_up_with_its_options() -> None:
    stack = FakeStack(["ok"], fails=False)
    assert preview_then_up(stack, parallel=4) == "up-result"  # type: ignore[arg-type]
    assert stack.calls == ["preview", ("up", 4)]
