"""The docs say what the code does: every provider setting of the plugin's schema is in
docs/installation-configuration.md with the same description, variable and default (the
generated SDKs show the schema's text in editors), and every relative link of README.md and
docs/ leads to a file and heading that exist."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from datagol_pulumi.config import KEYS, Settings
from datagol_pulumi.plugin.schema import schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONFIG_PAGE = DOCS / "installation-configuration.md"


def settings_rows() -> dict[str, list[str]]:
    """The settings table: config key (with " (secret)") -> its cells."""
    rows: dict[str, list[str]] = {}
    for line in CONFIG_PAGE.read_text().splitlines():
        if line.startswith("| `datagol:"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert len(cells) == 4, line
            rows[cells[0]] = cells
    return rows


def shown(value: object) -> set[str]:
    """How a default may be written in the table."""
    if value is None:
        return {"none", "system CAs"}
    if isinstance(value, tuple):
        return {", ".join(value)}
    if isinstance(value, bool):
        return {f"`{str(value).lower()}`"}
    if isinstance(value, float) and value.is_integer():
        return {f"`{int(value)}`"}
    return {f"`{value}`"}


def test_every_setting_is_documented_as_the_schema_describes_it() -> None:
    variables = schema()["config"]["variables"]
    rows = settings_rows()
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    # One row per setting, in the order of config.KEYS, and no other.
    expected_keys = [f"`datagol:{k.name}`" + (" (secret)" if k.secret else "") for k in KEYS]
    assert list(rows) == expected_keys
    assert list(variables) == [k.name for k in KEYS]
    for key in KEYS:
        first, variable, default, meaning = rows[expected_keys[KEYS.index(key)]]
        assert variable == f"`{key.field}` / `{key.env}`", key.name
        assert default in shown(defaults[key.field]), (key.name, default)
        described = f"{meaning}." + ("" if default == "none" else f" Default: {default}.")
        assert variables[key.name]["description"] == (
            f"{described} Config datagol:{key.name}; environment {key.env}."
        ), key.name
        assert bool(variables[key.name].get("secret")) == key.secret, key.name


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found, fence = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"#+ (.*)", line)):
            found.add(slug(m.group(1)))
    return found


def test_relative_links_lead_somewhere() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    assert {p.name for p in pages} >= {
        "README.md",
        "_index.md",
        "installation-configuration.md",
        "reliability.md",
        "benchmarks.md",
    }
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []
