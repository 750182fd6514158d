"""B11 configurations: ``pulumi up --skip-preview`` creating N Extractions vs N trivial dynamic
resources that each POST the same Create Extraction body.

Both sides create in a fresh project and file backend against one emulator process, rotating,
REPS times each. The subject also reads Get Extractions of each element before its POST (the
check that one declaration never makes two configurations): that read is part of what it
costs. Every create must send exactly N POSTs with the same bodies on both sides.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from datagol_pulumi.extraction.body import to_dto
from datagol_pulumi.extraction.checks import check_extraction

from .common import WORKSPACE_ID, Result, Samples, emulator_process, log, rotate, wire_headers
from .pulumi_cli import Project

COUNT = 50
REPS = 3
TARGET = 1.25
HERE = Path(__file__).parent


def spec(index: int) -> dict:
    return {
        "workspace_id": WORKSPACE_ID,
        "title": f"Invoices {index}",
        "extraction_mode": "STANDARD",
        "element_type": "FILE",
        "element_id": f"file-{index}",
        "output_configuration": {"createNewWorkbook": True, "title": f"Lines {index}"},
        "primary_key_column_id": ["number"],
        "column_configuration": [{"name": "number", "uiDataType": "SINGLE_LINE_TEXT"}],
        "store_extracted_data": True,
        "schedule_type": "MANUAL",
    }


def _project(emu, label: str) -> Project:
    project = Project(emu.url)
    specs = {f"ext-{i:03d}": spec(i) for i in range(COUNT)}
    if label == "subject":
        (project.workdir / "__main__.py").write_text((HERE / "extractions_program.py").read_text())
        project.set_runs({}, extractions=specs)
    else:
        (project.workdir / "__main__.py").write_text(
            (HERE / "bare_extraction_program.py").read_text()
        )
        provider = HERE / "bare_extraction_provider.py"
        (project.workdir / provider.name).write_text(provider.read_text())
        bodies = {name: to_dto(check_extraction(s)[0]) for name, s in specs.items()}
        url = f"{emu.url}/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction"
        project.set_runs({}, bare={"url": url, "headers": wire_headers()}, bodies=bodies)
    return project


def run() -> Result:
    bodies: dict[str, Counter] = {}
    with emulator_process() as emu:

        def one(label: str) -> float:
            with _project(emu, label) as project:
                emu.control.clear_requests()
                emu.control.reset()
                seconds = project.up()
                posts = emu.control.requests(method="POST")
                if len(posts) != COUNT or any(p["status"] != 200 for p in posts):
                    raise RuntimeError(f"B11 {label}: {len(posts)} POSTs, expected {COUNT}")
                bodies[label] = Counter(json.dumps(p["body"], sort_keys=True) for p in posts)
                log(f"B11:   {label}: {seconds:.2f} s")
                return seconds

        log(f"B11: {REPS} creates of {COUNT} configurations per side, rotating")
        samples: dict[str, Samples] = rotate(
            REPS, {label: (lambda label=label: one(label)) for label in ("baseline", "subject")}
        )
    ratio = samples["subject"].median / samples["baseline"].median
    return Result(
        name="B11",
        measured=(
            f"`pulumi up` creating {COUNT} Extractions vs {COUNT} trivial dynamic resources "
            "sending the same Create Extraction POST"
        ),
        figures={
            "baseline": samples["baseline"].describe(),
            "subject": samples["subject"].describe(),
            "subject / baseline": f"{ratio:.3f}",
        },
        headline=f"subject / baseline wall at N={COUNT} (median/median)",
        value=ratio,
        target=TARGET,
        summary=(
            f"N={COUNT}: baseline {samples['baseline'].median:.2f} s, subject "
            f"{samples['subject'].median:.2f} s ({ratio:.2f})"
        ),
        checks={"both sides sent the same Create bodies": bodies["baseline"] == bodies["subject"]},
    )
