"""datagol:maxTriggersPerUpdate: its default, and the variable that beats it for one command."""

from __future__ import annotations

import pytest

from datagol_pulumi.config import DEFAULT_MAX_TRIGGERS_PER_UPDATE, Settings
from datagol_pulumi.errors import ConfigurationError


def load(config: dict[str, object], env: dict[str, str]) -> Settings:
    return Settings.load(config.get, env)


def test_the_default_and_the_config() -> None:
    assert load({}, {}).max_triggers_per_update == DEFAULT_MAX_TRIGGERS_PER_UPDATE == 25
    assert load({"datagol:maxTriggersPerUpdate": "200"}, {}).max_triggers_per_update == 200
    assert load({"datagol:maxTriggersPerUpdate": 0}, {}).max_triggers_per_update == 0


def test_the_variable_beats_the_config_for_this_setting_only() -> None:
    env = {"DATAGOL_MAX_TRIGGERS_PER_UPDATE": "300", "DATAGOL_MAX_RETRIES": "9"}
    config = {"datagol:maxTriggersPerUpdate": "5", "datagol:maxRetries": "1"}
    settings = load(config, env)
    assert settings.max_triggers_per_update == 300
    assert settings.max_retries == 1  # every other variable only fills a gap
    assert load(config, {"DATAGOL_MAX_TRIGGERS_PER_UPDATE": ""}).max_triggers_per_update == 5


@pytest.mark.parametrize("value", ["-1", "2.5", "many"])
def test_a_bad_limit_is_refused_naming_where_to_fix_it(value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load({}, {"DATAGOL_MAX_TRIGGERS_PER_UPDATE": value})
    assert "datagol:maxTriggersPerUpdate must be a whole number of at least 0" in str(refused.value)
    assert "DATAGOL_MAX_TRIGGERS_PER_UPDATE" in str(refused.value)
