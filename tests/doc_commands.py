"""Every shell command README.md and docs/*.md tell a user to type, and the test that runs it.

A command is a line of a fenced ``sh``/``bash``/``shell``/``console`` block (a ``$ `` prompt and
a trailing ``# comment`` dropped), or an inline code span of the prose that starts with a
command a user types (``pulumi``, ``make``, ``pip``, ...). ``COMMANDS`` says, one line per
command as the docs write it, either which tests run it (``tested``: pytest node ids, which
tests/unit/test_doc_commands.py checks exist) or why none can (``untested``: the reason).
A command added to the docs and not here fails that test; so does an entry no page uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What an inline code span must start with to be a command to type (not a name or a value).
COMMAND_WORDS = (
    "pulumi",
    "make",
    "pip",
    "npm",
    "python",
    "curl",
    "cp",
    "scripts/",
    ".venv/",
    ".ci/",
)
SHELL_FENCES = {"sh", "bash", "shell", "console"}


@dataclass(frozen=True)
class Command:
    """A command as a page writes it, and where."""

    text: str
    page: str
    line: int


@dataclass(frozen=True)
class Entry:
    """A command's tests (pytest node ids from the repo's root), or why it has none."""

    tests: tuple[str, ...] = ()
    untested: str = ""


def tested(*node_ids: str) -> Entry:
    return Entry(tests=node_ids)


def untested(reason: str) -> Entry:
    return Entry(untested=reason)


LIFECYCLE = "tests/e2e/test_lifecycle.py::test_full_lifecycle"
OPTIONS = "tests/e2e/test_resource_options.py::test_resource_options_end_to_end"
DEMO = "tests/e2e/test_demo.py::test_demo_keeps_its_stack_and_triggers_only_the_edited_run"
WHEEL = "tests/e2e/install/test_wheel.py::test_the_built_files_hold_what_users_need"
ON_WHEEL = "tests/e2e/install/test_wheel.py::test_a_python_program_on_the_installed_wheel"
ARCHIVE = "tests/e2e/install/test_plugin_archive.py::test_a_yaml_program_on_the_plugin_installed_from_the_archive"
ADD_YAML = "tests/e2e/install/test_package_add.py::test_a_yaml_project_pins_the_installed_plugin_by_package_add"
ADD_TS = "tests/e2e/install/test_package_add.py::test_a_typescript_project_gets_a_local_sdk_by_package_add"
GEN_SDK = "tests/e2e/test_doc_commands.py::test_gen_sdk_as_the_overview_writes_it"
SDK_TS = "tests/e2e/test_plugin_sdks.py::test_typescript_sdk_type_checks"
YAML = "tests/e2e/test_plugin_yaml.py::test_yaml_program_lifecycle"
POLICY = "tests/e2e/test_policy_pack.py::test_mandatory_policy_fails_preview_and_up"
POLICY_INSTALL = "tests/e2e/test_policy_pack.py::test_install_dependencies_makes_the_virtualenv"
BILL_POLICY = (
    "tests/e2e/test_policy_bill.py::test_the_organisations_limit_holds_when_the_stack_lifts_its_own"
)
SETTINGS = (
    "tests/e2e/test_provider_settings.py::test_rotation_config_file_rename_and_no_secret_in_clear"
)
SECRETS = (
    "tests/e2e/test_secrets.py::test_stack_yaml_secret_set_by_path_stays_secret_with_its_digests"
)
SHIPPED_PACK = (
    "tests/e2e/install/test_archives.py::test_the_shipped_policy_pack_runs_as_the_docs_say"
)
EMULATOR_BLOCK = "tests/e2e/test_doc_commands.py::test_the_emulator_as_development_md_starts_it"
SUITE = "runs the test suite itself (every test here); a test cannot run the suite it is part of"
HOST_RUNS = "says what the language host runs for a plugin or policy pack, not a command to type"
BENCH = "a benchmark (minutes of measuring, results in bench/RESULTS.md), not a check: by hand"

# fmt: off
#: Each command as the docs write it (whitespace collapsed) -> the tests that run it, or why not.
COMMANDS: dict[str, Entry] = {
    # README.md: the two commands, the demo, building and installing
    "make demo": tested(DEMO),  # scripts/demo, after `make setup`
    "make demo-reset": tested(DEMO),  # scripts/demo --fresh
    "make test": untested(SUITE),
    "make test EXTRA_PYTHONS=3.12": untested(SUITE),
    ".ci/run": untested(SUITE),
    "make lint": untested("ruff check and format --check, run before every commit and by .ci/run"),
    "make lint test": untested(SUITE),
    "make dist": tested(WHEEL),  # the recipe: scripts/dist
    "scripts/dist": tested(WHEEL),
    "pip install": tested(ON_WHEEL),
    "pip install dist/datagol_pulumi-0.3.0-py3-none-any.whl": tested(ON_WHEEL),
    "pip install datagol-pulumi": untested("not on PyPI yet, as the page says"),
    "pulumi plugin install resource datagol 0.3.0 --file dist/pulumi-resource-datagol-v0.3.0-linux-amd64.tar.gz": tested(ARCHIVE),
    "pulumi plugin install resource datagol 0.3.0 --server <url with ${VERSION}>": untested("needs a release mirror; the download by the pluginDownloadURL option is tested (test_a_program_naming_the_release_gets_the_plugin_from_it)"),
    "pulumi package add": tested(ADD_YAML, ADD_TS),
    "pulumi package add datagol@0.3.0": tested(ADD_TS),
    "pulumi package add ./unpacked/pulumi-resource-datagol": tested(ADD_YAML),
    "npm install ./sdks/datagol-datagol": untested("needs @pulumi/pulumi from the npm registry; test_package_add runs what it does offline, the SDK's postinstall with the pinned tsc"),
    "pulumi package gen-sdk": tested(GEN_SDK, SDK_TS),
    'pulumi package gen-sdk "$(command -v pulumi-resource-datagol)" --language nodejs --out sdk': tested(GEN_SDK),
    'PATH="$(scripts/ensure-lang-hosts | tail -n1)/codegen:$PATH" pulumi package gen-sdk "$(command -v pulumi-resource-datagol)" --language nodejs --out sdk': tested(GEN_SDK),
    "make lang-hosts": tested(YAML),  # the recipe: scripts/ensure-lang-hosts
    "scripts/ensure-lang-hosts": tested(YAML, GEN_SDK),
    "npm ci": tested(SDK_TS),  # of tools/ts-check, devtools.lang_hosts.ts_toolchain
    "python -m datagol_pulumi.plugin.schema": tested("tests/unit/test_doc_commands.py::test_the_schema_module_prints_the_plugins_schema"),
    # the Pulumi CLI on a stack
    "pulumi up": tested(LIFECYCLE),
    "pulumi preview": tested(LIFECYCLE),
    "pulumi refresh": tested(LIFECYCLE),
    "pulumi destroy": tested(LIFECYCLE),
    "pulumi up --skip-preview": tested("tests/e2e/test_bill.py::test_an_update_without_preview_sends_at_most_the_limit_and_the_next_one_the_rest"),
    "pulumi preview --diff": tested(YAML),
    "pulumi import": tested(OPTIONS, "tests/contract/test_plugin.py::test_import_is_refused_with_the_reason_and_sends_nothing"),
    "pulumi stack export": tested(SECRETS, "tests/e2e/test_lifecycle.py::test_secret_token_reaches_the_service_and_nothing_else"),
    "pulumi stack export --show-secrets": tested(SECRETS),  # Stack.resources()
    "pulumi config get": untested("named for the rights --show-secrets needs, not a step to take"),
    "pulumi config set --secret datagol:token <token>": tested("tests/e2e/test_lifecycle.py::test_secret_token_reaches_the_service_and_nothing_else"),
    'pulumi config set --secret datagol:token "$(cat file)"': tested("tests/e2e/test_doc_commands.py::test_a_token_set_from_a_file_as_the_error_says_is_accepted"),
    "pulumi config set --secret datagol:token <new>": tested(SETTINGS),
    "pulumi up --config-file other.yaml": tested(SETTINGS),
    "pulumi config set --path 'datagol:successStatuses[0]' DONE": tested("tests/e2e/test_shared_credentials.py::test_success_statuses_set_as_a_yaml_list_end_the_wait"),
    "pulumi config set --secret datagol:oauthRefreshToken <token>": tested("tests/e2e/test_credentials.py::test_oauth_secrets_are_used_and_never_stored"),
    "pulumi state unprotect <urn>": tested(OPTIONS),
    "pulumi up --replace <urn>": tested(OPTIONS),
    "pulumi up --target <urn>": tested(OPTIONS),
    "pulumi up --refresh": tested(OPTIONS, "tests/e2e/test_extraction.py::test_extraction_lifecycle_through_the_cli"),
    "pulumi preview --refresh --diff": tested("tests/e2e/test_extraction.py::test_extraction_lifecycle_through_the_cli"),
    "DATAGOL_MAX_TRIGGERS_PER_UPDATE=800 pulumi up": tested("tests/e2e/test_bill.py::test_over_the_limit_fails_at_preview_across_tenants_and_the_variable_raises_it"),
    # policy packs and plugins (docs/cost.md, docs/development.md)
    "cp -r policy-pack /tmp/datagol-policy && (cd /tmp/datagol-policy && pulumi install)": tested(BILL_POLICY),
    "pulumi preview --policy-pack /tmp/datagol-policy --policy-pack-config policy-config.json": tested(BILL_POLICY),
    "pulumi install": tested(POLICY_INSTALL),
    "pulumi preview --policy-pack <dir>": tested(POLICY),
    "pulumi plugin run": tested("tests/e2e/test_policy_pack.py::test_run_plugin_streams_output_and_forwards_the_exit_code"),
    "python <folder> ARGS": untested(HOST_RUNS),
    "python -m pulumi.run.plugin <package>": untested(HOST_RUNS),
    "python -u -m pulumi.policy ARGS <folder>": untested(HOST_RUNS),
    # docs/development.md: the emulator and the offline engine
    ".venv/bin/datagol-emulator --port 18787 --token dev-token --job-seconds 2": tested(EMULATOR_BLOCK),
    "pulumi config set datagol:baseUrl http://127.0.0.1:18787": tested(EMULATOR_BLOCK),
    "pulumi config set --secret datagol:token dev-token": tested(EMULATOR_BLOCK),
    "curl -s http://127.0.0.1:18787/_emulator/requests": tested(EMULATOR_BLOCK),
    "scripts/ensure-pulumi": tested(LIFECYCLE),  # the engine_bin fixture
    'PATH="$(scripts/ensure-pulumi | tail -n1):$PWD/.venv/bin:$PATH"': tested(DEMO),  # scripts/demo
    ". scripts/engine-env.sh .state": tested(DEMO, LIFECYCLE),  # devtools.engine.offline_env
    # docs/benchmarks.md
    "make bench": untested(BENCH),
    "python -m bench B5 B6": untested(BENCH),
    "python -m bench B8": untested(BENCH),
    "python -m bench B8 --no-record": untested(BENCH),
    # docs/cost.md: the seeding recipe (the test seeds "dev prod" of the same project)
    "DATAGOL_MAX_TRIGGERS_PER_UPDATE=200 python examples/automation/seed.py dev staging prod": tested(
        "tests/e2e/test_automation_seeding.py::test_the_seeding_recipe_sends_nothing_for_a_stack_over_the_limit"
    ),
    "python -m bench.b8_before_after d541411 8": untested(BENCH),
    "python -m bench.b8_before_after 24b4b83 6": untested(BENCH),
    "python -m bench B11": untested(BENCH),
    "python -m bench B12": untested(BENCH),
    "BENCH_B10_BASELINE=18fc2b4 python -m bench B10": untested(BENCH),
    "pulumi config rm datagol:<key>": tested("tests/e2e/test_preview_checks.py::test_plugin_face_refuses_the_same"),
    "tar -xzf dist/datagol-policy-pack-v0.3.0.tar.gz -C /tmp && (cd /tmp/datagol-policy-pack && pulumi install)": tested(SHIPPED_PACK),
    "pulumi preview --policy-pack /tmp/datagol-policy-pack --policy-pack-config policy-config.json": tested(SHIPPED_PACK),
}
# fmt: on


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _is_command(span: str) -> bool:
    """Whether a code span is a command to type: it starts (after VAR=value assignments) with
    one of COMMAND_WORDS (or ``.``, to source a file) and has arguments, or is a script's path
    (``.ci/run``)."""
    words = span.split()
    rest = [w for w in words if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", w)] or [""]
    first = rest[0]
    if any(word.endswith("/") and first.startswith(word) for word in COMMAND_WORDS):
        return True
    return len(rest) > 1 and (first in COMMAND_WORDS or first == ".")


def _normal(text: str) -> str:
    return " ".join(text.split())


def commands(page: Path) -> list[Command]:
    """The commands of one page, in order (a command repeated is listed each time)."""
    found: list[Command] = []
    name = page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else page.name
    fence: str | None = None
    pending = ""
    prose: list[tuple[int, str]] = []

    def spans() -> None:
        # A code span may continue on the next line of its paragraph.
        text = "\n".join(line for _, line in prose)
        for match in re.finditer(r"`([^`]+)`", text):
            if _is_command(match.group(1)):
                number = prose[0][0] + text.count("\n", 0, match.start())
                found.append(Command(_normal(match.group(1)), name, number))
        prose.clear()

    for number, raw in enumerate(page.read_text().splitlines(), 1):
        line = raw.strip()
        if line.startswith("```"):
            spans()
            fence = line[3:].strip().lower() if fence is None else None
            continue
        if fence is None:
            if line:
                prose.append((number, line))
            else:
                spans()
            continue
        if fence not in SHELL_FENCES:
            continue
        line = re.sub(r"(^|\s)#.*$", "", line.removeprefix("$ ")).strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        if pending + line:
            found.append(Command(_normal(pending + line), name, number))
        pending = ""
    spans()
    return found


def documented() -> list[Command]:
    """Every command of README.md and docs/*.md."""
    return [command for page in pages() for command in commands(page)]
