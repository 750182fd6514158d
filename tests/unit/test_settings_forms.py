"""Settings in every form docs/installation-configuration.md promises (issue 16, item 5): status lists written as a
YAML list (which reach the provider as JSON text), as a list, as a comma-separated string; and
customTimeouts with milliseconds."""

from __future__ import annotations

import pytest

from datagol_pulumi import ConfigurationError, Settings
from datagol_pulumi.resource import parse_duration


def load(config: dict) -> Settings:
    return Settings.load(config.get, {})


@pytest.mark.parametrize(
    "raw",
    [
        '["COMPLETED","DONE"]',  # a YAML list in the stack config, as `config.get` returns it
        '[ "completed", "Done" ]',
        ["COMPLETED", "DONE"],  # a Provider argument
        ("completed", "done"),
        "COMPLETED, DONE",  # the comma-separated string
        "completed,done,",
    ],
)
@pytest.mark.parametrize("key", ["successStatuses", "failureStatuses"])
def test_status_lists_in_every_form(key: str, raw: object) -> None:
    settings = load({f"datagol:{key}": raw})
    field = "success_statuses" if key == "successStatuses" else "failure_statuses"
    assert getattr(settings, field) == ("COMPLETED", "DONE")


def test_status_list_from_the_environment_as_json() -> None:
    settings = Settings.load({}.get, {"DATAGOL_SUCCESS_STATUSES": '["ok", "fine"]'})
    assert settings.success_statuses == ("OK", "FINE")


@pytest.mark.parametrize("raw", ['["DONE"', '[{"a": 1}]', "[[1]]"])
def test_a_status_list_that_is_not_a_list_of_values_is_refused(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="datagol:successStatuses must be a list"):
        load({"datagol:successStatuses": raw})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("1m500ms", 60.5),
        ("1h30m", 5400.0),
        ("90s", 90.0),
        ("1.5h", 5400.0),
        ("2m3s4ms", 123.004),
        ("250000us", 0.25),
        ("1000000000ns", 1.0),
    ],
)
def test_custom_timeouts_in_go_duration_form(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10", "5d", "m5", "1hh"])
def test_a_custom_timeout_that_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a duration"):
        parse_duration(text)
