"""What the docs claim of the code holds: every resource of the plugin's schema is listed where
README.md and docs/ list them, and every message docs/reliability.md quotes is one the code can
still say (a quote left behind by a reworded message misleads whoever greps for it)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from datagol_pulumi.plugin.schema import schema

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OVERVIEW = ROOT / "docs" / "_index.md"
PLUGIN_PAGE = ROOT / "docs" / "plugin.md"
RELIABILITY = ROOT / "docs" / "reliability.md"
NUMBERS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")

#: What a quote may leave out of a message: "...", a <placeholder>, a code span, N, a number,
#: " / " between alternatives, and example values the code fills in (an exception's class,
#: the reason a proxy gave).
ELIDED = re.compile(r"\.\.\.|…|<[^>]*>|\x01|\bN\b|\d+| / |\bKeyError\b|\bForbidden\b")
#: Quoted in reliability.md, said by the Pulumi CLI rather than by this package.
SAID_BY_PULUMI = {"^C received; cancelling", "update canceled"}


def resource_names() -> list[str]:
    return [token.split(":")[-1] for token in schema()["resources"]]


def test_every_resource_of_the_schema_is_listed_in_readme_and_the_overview() -> None:
    names = resource_names()
    assert {"ExtractionRun", "ExtractionRunGroup", "ExtractionRunCompletion"} <= set(names)
    for page in (README, OVERVIEW):
        bullets = re.findall(r"^- `(\w+)`", page.read_text(), flags=re.M)
        missing = [name for name in names if name not in bullets]
        assert missing == [], f"{page.name}: add a '- `Name`: ...' bullet for {missing}"
    # The overview counts them, and names the plugin's types.
    counted = re.search(r"^(\w+) resources\b", OVERVIEW.read_text(), flags=re.M)
    assert counted is not None and counted.group(1) == NUMBERS[len(names)], counted
    for page in (OVERVIEW, PLUGIN_PAGE):
        text = " ".join(page.read_text().split())
        missing = [token for token in schema()["resources"] if f"`{token}`" not in text]
        assert missing == [], f"{page.name} does not name {missing}"


@cache
def code_strings() -> str:
    """Every string the package's code holds, as pieces separated by NUL: a literal (implicit
    concatenation already joined), or the text of an f-string between two values."""
    pieces: list[str] = []
    for path in sorted((ROOT / "datagol_pulumi").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                pieces.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                pieces += [v.value for v in node.values if isinstance(v, ast.Constant)]
    return "\0" + "\0".join(pieces) + "\0"


def said(fragment: str) -> bool:
    """Whether the code can say ``fragment``: it is one piece of code_strings(), or pieces
    joined where one ends and the next starts (a message built from parts, or an f-string
    whose value the quote writes out); the first may start and the last end anywhere."""
    text, end = code_strings(), len(fragment)

    @cache
    def from_(i: int) -> bool:
        if i == end:
            return True
        for j in range(end, i, -1):
            piece = ("\0" if i else "") + fragment[i:j] + ("\0" if j < end else "")
            if piece in text and from_(j):
                return True
        return False

    return from_(0)


def quoted_messages() -> list[str]:
    """The "double-quoted" messages of reliability.md's prose and tables (not those inside code
    spans), and the messages of its Troubleshooting table (code spans in the first column)."""
    page = re.sub(r"```.*?```", "", RELIABILITY.read_text(), flags=re.S)
    found = []
    for line in page.splitlines():
        found += re.findall(r'"([^"]+)"', re.sub(r"`[^`]*`", "\x01", line))
    _, troubleshooting = page.split("## Troubleshooting", 1)
    for line in troubleshooting.splitlines():
        if line.startswith("| `"):
            found += re.findall(r"`([^`]+)`", line.split("|")[1])
    return found


def test_every_message_quoted_in_reliability_is_one_the_code_says() -> None:
    quotes = quoted_messages()
    assert len(quotes) > 30  # the fault table and the troubleshooting table were read
    unsaid = [
        (quote, fragment.strip())
        for quote in quotes
        if quote not in SAID_BY_PULUMI
        for fragment in ELIDED.split(quote)
        if len(fragment.strip()) >= 4 and not said(fragment.strip())
    ]
    assert unsaid == []


def test_a_reworded_message_is_not_said() -> None:
    # The checker itself: the 413's text as reliability.md once quoted it, and invented ones.
    assert said("DataGOL refused the request body as too large (")
    assert said("Set batch_size (or lower it) to send the rows in smaller requests.")
    assert not said("set or lower batch_size")
    assert not said("the job was sent twice")
    assert not said("nothing was sent at all")
