"""What the docs claim of the code holds: every resource of the plugin's schema is listed where
README.md and docs/ list them, and every message README.md and docs/ quote is one the code can
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
#: Quoted in the docs, said by the Pulumi CLI rather than by this package.
SAID_BY_PULUMI = {
    "^C received; cancelling",
    "update canceled",
    "6 unchanged",
    "Resource monitor has terminated, shutting down",  # the Python SDK's, after a failure
}


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
    """Every string the package's code holds but its docstrings, as pieces separated by NUL: a
    literal (implicit concatenation already joined), or the text of an f-string between two
    values."""
    pieces: list[str] = []
    for path in sorted((ROOT / "datagol_pulumi").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue
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


def quoted_messages() -> list[tuple[str, str]]:
    """(page, message): the "double-quoted" text of the pages' prose and tables (not inside
    code spans; a quote may run over a line break), and the messages of reliability.md's
    Troubleshooting table (the code spans of its first column)."""
    found = []
    for page in (README, *sorted((ROOT / "docs").glob("*.md"))):
        prose = " ".join(re.sub(r"```.*?```", "", page.read_text(), flags=re.S).split())
        quotes = re.findall(r'"([^"]+)"', re.sub(r"`[^`]*`", "\x01", prose))
        found += [(page.name, quote) for quote in quotes]
    _, troubleshooting = RELIABILITY.read_text().split("## Troubleshooting", 1)
    for line in troubleshooting.splitlines():
        if line.startswith("| `"):
            found += [(RELIABILITY.name, m) for m in re.findall(r"`([^`]+)`", line.split("|")[1])]
    return found


def test_every_message_the_docs_quote_is_one_the_code_says() -> None:
    quotes = quoted_messages()
    assert sum(page == RELIABILITY.name for page, _ in quotes) > 30  # both tables were read
    unsaid = [
        (page, quote, fragment.strip())
        for page, quote in quotes
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
