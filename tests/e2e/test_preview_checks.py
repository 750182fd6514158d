"""The preview fails where `up` would, with nothing sent: settings, credentials, extraction ids.

Through the real CLI against the emulator, counting what it received: a refused preview sends
no POST (nothing that costs); the only requests are Get Extractions reads (free), one per
element. With ``datagol:skipPreviewReads`` the preview reads nothing, as before these checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from datagol_pulumi.emulator import Emulator
from tests.conftest import TOKEN, WORKSPACE_ID, reads, sent
from tests.e2e.conftest import ROOT, Stack, run, yaml_example_stack

EXAMPLE_YAML = ROOT / "examples" / "yaml"

WRONG = "tok-WRONG-7070"


def _failed_preview(stack: Stack) -> str:
    result = stack.preview(check=False)
    assert result.returncode != 0, result.stdout
    return result.stdout + result.stderr


def test_misspelled_key_is_refused_naming_the_valid_one(make_stack) -> None:
    stack = make_stack([run("a")])
    stack.pulumi("config", "set", "datagol:baseURL", stack.emulator.url)
    text = _failed_preview(stack)
    assert "unknown setting datagol:baseURL; did you mean datagol:baseUrl?" in text
    assert "Traceback" not in text
    assert stack.emulator.requests() == []


@pytest.mark.parametrize(
    ("suffix", "problem"),
    [
        ("/noCo/api/v2", "has a path"),
        ("?tenant=1", "has a query or a fragment"),
    ],
)
def test_base_url_beyond_host_and_port_is_refused_with_the_fix(
    make_stack, suffix: str, problem: str
) -> None:
    stack = make_stack([run("a")])
    stack.pulumi("config", "set", "datagol:baseUrl", stack.emulator.url + suffix)
    text = _failed_preview(stack)
    assert f"datagol:baseUrl {problem}" in text
    assert f"`pulumi config set datagol:baseUrl {stack.emulator.url}`" in text
    assert stack.emulator.requests() == []


def test_bad_port_is_refused(make_stack) -> None:
    stack = make_stack([run("a")])
    stack.pulumi("config", "set", "datagol:baseUrl", "http://127.0.0.1:notaport")
    text = _failed_preview(stack)
    assert "datagol:baseUrl has a port that is not a number from 1 to 65535" in text
    assert stack.emulator.requests() == []


def test_a_bad_setting_value_is_refused_at_preview(make_stack) -> None:
    stack = make_stack([run("a")])
    stack.pulumi("config", "set", "datagol:requestTimeout", "soon")
    text = _failed_preview(stack)
    assert "datagol:requestTimeout must be a number of seconds of at least 0.001" in text
    assert stack.emulator.requests() == []


def test_no_credentials_fail_a_preview_that_triggers_not_one_with_reads_off(make_stack) -> None:
    stack = make_stack([run("a")], token=None)
    text = _failed_preview(stack)
    assert "no credentials are configured, and this update triggers 1 run (a)" in text
    assert "`pulumi config set --secret datagol:token <token>`" in text
    assert "datagol:oauthRefreshToken" in text
    assert stack.emulator.requests() == []

    # Reads off (a pull request from a fork): the preview passes, nothing is asked, as before.
    stack.pulumi("config", "set", "datagol:skipPreviewReads", "true")
    stack.preview()
    assert stack.emulator.requests() == []


def test_refused_token_fails_the_preview_with_one_free_read(make_stack) -> None:
    stack = make_stack([run("a"), run("b")], token=WRONG)
    stack.emulator.configure(tokens=[TOKEN])
    text = _failed_preview(stack)
    assert "DataGOL refused the credentials" in text
    assert "datagol:token" in text and WRONG not in text
    assert sent(stack.emulator) == []
    statuses = [(r["method"], r["status"]) for r in stack.emulator.requests()]
    assert statuses and set(statuses) == {("GET", 401)}  # a read per element, at most

    stack.emulator.clear_requests()
    stack.pulumi("config", "set", "datagol:skipPreviewReads", "true")
    stack.preview()
    assert stack.emulator.requests() == []


def test_typo_in_an_extraction_id_among_good_ones(make_stack) -> None:
    stack = make_stack(
        [
            run("a", element_id="file-1"),
            run("b", element_id="file-1", extraction_id="2"),
            run("c", element_id="file-2", extraction_id="ext-22"),
        ]
    )
    stack.emulator.configure(
        element_extractions={
            "COLUMN/file-1": [{"id": "ext-1", "title": "Terms"}, {"id": 2, "title": "Two"}],
            "COLUMN/file-2": [{"id": "ext-1", "title": "Terms"}, {"id": "ext-2"}],
        }
    )
    text = _failed_preview(stack)
    assert (
        "resource 'c': property extraction_id value {ext-22} has a problem: DataGOL lists no "
        f"extraction configuration ext-22 for COLUMN file-2 in workspace {WORKSPACE_ID}; it "
        "lists: ext-1 (Terms), ext-2. Fix the id; nothing was sent" in text
    )
    assert "resource 'a'" not in text and "resource 'b'" not in text
    assert sent(stack.emulator) == []
    # At most one read per element, however many runs name it.
    paths = [r["path"] for r in reads(stack.emulator)]
    prefix = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction/COLUMN"
    assert sorted(set(paths)) == sorted(paths) and f"{prefix}/file-2" in paths

    # Reads off: the preview passes and asks nothing, as before these checks.
    stack.emulator.clear_requests()
    stack.pulumi("config", "set", "datagol:skipPreviewReads", "true")
    stack.preview()
    assert stack.emulator.requests() == []


def test_good_ids_pass_then_a_no_op_preview_reads_nothing(make_stack) -> None:
    stack = make_stack([run("a"), run("b", extraction_id="ext-2")])
    stack.emulator.configure(extractions=["ext-1", "ext-2"])
    stack.preview()
    assert sent(stack.emulator) == []
    assert len(reads(stack.emulator)) == 2
    stack.up()
    stack.emulator.clear_requests()

    stack.preview()
    assert stack.emulator.requests() == []  # a no-op: nothing read, nothing sent

    # A re-trigger reads its element again (a new process), and refuses a typo.
    stack.set_runs([run("a", triggers={"release": "2"}), run("b", extraction_id="ext-3")])
    text = _failed_preview(stack)
    assert "DataGOL lists no extraction configuration ext-3 for COLUMN el-b" in text
    assert sent(stack.emulator) == []


def test_unreadable_listing_is_a_warning_never_a_refusal(make_stack) -> None:
    stack = make_stack([run("a")])
    stack.emulator.add_fault(status=500, count=10)
    result = stack.preview()
    assert "extraction ids of COLUMN el-a" in result.stdout
    assert "not checked at preview" in result.stdout
    assert sent(stack.emulator) == []

    # The emulator's default world lists nothing for an element: a warning, and it passes.
    stack.emulator.clear_faults()
    result = stack.preview()
    assert "DataGOL lists no extraction configuration for it" in result.stdout


def test_plugin_face_refuses_the_same(tmp_path: Path, engine_bin: str, emulator) -> None:
    stack = yaml_example_stack(tmp_path, EXAMPLE_YAML, emulator)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    stack.pulumi("config", "set", "datagol:baseURL", emulator.url)
    text = _failed_preview(stack)
    assert "unknown setting datagol:baseURL; did you mean datagol:baseUrl?" in text
    assert emulator.requests() == []
    stack.pulumi("config", "rm", "datagol:baseURL")

    # A base URL with a path: refused with the fix, as on the Python face.
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url + "/noCo/api/v2")
    text = _failed_preview(stack)
    assert f"`pulumi config set datagol:baseUrl {emulator.url}`" in text
    assert emulator.requests() == []
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)

    # A refused token: one free read answered 401, nothing sent.
    emulator.configure(tokens=["another-token"])
    text = _failed_preview(stack)
    assert "DataGOL refused the credentials" in text
    assert sent(emulator) == [] and {r["status"] for r in emulator.requests()} == {401}
    emulator.configure(tokens=[TOKEN])
    emulator.clear_requests()

    # A typo in one id among good ones: refused naming the property, nothing sent.
    program = yaml.safe_load((stack.workdir / "Pulumi.yaml").read_text())
    ids = sorted(
        {
            spec["extractionId"]
            for res in program["resources"].values()
            for spec in [res["properties"], *(res["properties"].get("runs") or {}).values()]
            if isinstance(spec, dict) and "extractionId" in spec
        }
    )
    emulator.configure(extractions=[i for i in ids if i != "contract-terms"] + ["contract-term"])
    text = _failed_preview(stack)
    assert "extractionId" in text
    assert "DataGOL lists no extraction configuration contract-terms for FILE file-7781" in text
    assert sent(emulator) == []

    emulator.clear_requests()
    emulator.configure(extractions=ids)
    stack.preview()
    assert sent(emulator) == [] and reads(emulator)

    # No credentials: the plugin fails the preview alike; reads off, it passes.
    emulator.clear_requests()
    stack.pulumi("config", "rm", "datagol:token")
    text = _failed_preview(stack)
    assert "no credentials are configured" in text
    stack.pulumi("config", "set", "datagol:skipPreviewReads", "true")
    stack.preview()
    assert emulator.requests() == []


def test_automation_api_up_refuses_before_sending(engine_bin: str, tmp_path: Path) -> None:
    """`stack.up()` skips Pulumi's preview: the same checks run at its check step."""
    from pulumi import automation as auto

    import devtools.engine
    from datagol_pulumi import ExtractionRun

    extraction = {"id": "ext-1x"}

    def program() -> None:
        ExtractionRun(
            "only",
            workspace_id=WORKSPACE_ID,
            extraction_id=extraction["id"],
            element_type="COLUMN",
            element_id="el-only",
        )

    env = devtools.engine.offline_env(tmp_path / "engine", "auto-passphrase")
    root = tmp_path / "pulumi-root"
    root.mkdir()
    (root / "bin").symlink_to(engine_bin, target_is_directory=True)
    (tmp_path / "work").mkdir()
    with Emulator(tokens=[TOKEN], extractions=["ext-1"]) as emulator:
        stack = auto.create_stack(
            "auto",
            project_name="datagol-pulumi",
            program=program,
            opts=auto.LocalWorkspaceOptions(
                pulumi_command=auto.PulumiCommand(root=str(root)),
                env_vars=env,
                work_dir=str(tmp_path / "work"),
                project_settings=auto.ProjectSettings(name="datagol-pulumi", runtime="python"),
            ),
        )
        stack.set_config("datagol:baseUrl", auto.ConfigValue(emulator.url))
        stack.set_config("datagol:token", auto.ConfigValue(TOKEN, secret=True))
        stack.set_config("datagol:requestTimeOut", auto.ConfigValue("5"))
        with pytest.raises(auto.CommandError) as refused:
            stack.up()
        assert "did you mean datagol:requestTimeout?" in str(refused.value)
        assert emulator.requests() == []

        stack.remove_config("datagol:requestTimeOut")
        with pytest.raises(auto.CommandError) as refused:
            stack.up()
        assert "DataGOL lists no extraction configuration ext-1x for COLUMN el-only" in str(
            refused.value
        )
        assert sent(emulator) == [] and len(reads(emulator)) == 1

        extraction["id"] = "ext-1"
        assert stack.up().summary.result == "succeeded"
        assert [p["segments"][-2] for p in emulator.requests(method="POST")] == ["el-only"]
