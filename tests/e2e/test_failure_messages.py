"""One clear message per failure on every face (issue 22 item 7, issue 21 item 7): DataGOL's
``error.message`` and ``errorCodes`` shown, no Python or SDK traceback above them."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Stack, run
from tests.e2e.test_plugin_yaml import yaml_stack  # noqa: F401 - the fixture, shared

WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
ENVELOPE = {
    "success": False,
    "version": "2",
    "date": "2026-12-07T12:00:00Z",
    "error": {
        "statusCode": 400,
        "requestId": "log-4711",
        "message": "Extraction is disabled for this workspace",
        "details": "",
        "errorCodes": ["EXTRACTION_DISABLED"],
    },
    "data": None,
}
#: What a traceback or the SDK's frames look like in the CLI's output.
FRAMES = ("Traceback", 'File "', "__main__.py", "with_traceback", "site-packages")


def refuse_next_trigger(stack: Stack) -> None:
    stack.emulator.add_fault(status=400, body=ENVELOPE, method="POST", path_contains="/run")


def no_frames(text: str) -> None:
    for frame in FRAMES:
        assert frame not in text, text


def test_the_python_face_shows_datagols_message_and_codes_without_frames(make_stack) -> None:
    stack = make_stack([run("a")])
    refuse_next_trigger(stack)
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "HTTP 400: Extraction is disabled for this workspace (error codes: EXTRACTION_DISABLED)"
        in text
    )
    no_frames(text)

    # A completion's failure (the run was sent, its job failed), on the next up.
    stack.emulator.configure(failing_extractions=["ext-bad"], failure_reason="quota exceeded")
    stack.set_runs([run("b", extraction_id="ext-bad", **WAIT)])
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "finished with status FAILED" in text and "quota exceeded" in text, text
    no_frames(text)


def test_the_plugin_face_shows_datagols_message_and_codes_without_frames(
    yaml_stack: Any,  # noqa: F811 - the fixture imported above
) -> None:
    stack = yaml_stack
    stack.pulumi("config", "set", "datagol:maxTriggersPerUpdate", "10")
    refuse_next_trigger(stack)
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Extraction is disabled for this workspace (error codes: EXTRACTION_DISABLED)" in text
    no_frames(text)
