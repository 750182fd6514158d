"""The count of one update's runs (datagol_pulumi.tally): exact under threads and processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

from datagol_pulumi import tally
from datagol_pulumi.tally import Tally

TARGET = "workspace w, extraction e"


def charge(t: Tally, urn: str, limit: int, runs: int = 1) -> bool:
    return t.charge(urn, [urn], {TARGET: [runs, runs, 0]}, limit)[1]


def test_threads_never_add_past_the_limit(tmp_path: Path) -> None:
    t = Tally(tmp_path / "u.json")
    accepted: list[bool] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for i in range(40):
            ok = charge(t, f"urn:{worker}:{i}", 300)
            with lock:
                accepted.append(ok)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert accepted.count(True) == 300 and len(accepted) == 480
    data = json.loads((tmp_path / "u.json").read_text())
    assert data["runs"] == 300 and len(data["urns"]) == 300
    assert data["targets"] == {TARGET: [300, 300, 0, 0]}


def _worker(path: str, worker: int, results: multiprocessing.Queue) -> None:
    t = Tally(Path(path))
    results.put(sum(charge(t, f"urn:{worker}:{i}", 150) for i in range(50)))


def test_processes_share_one_count_and_never_add_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    assert charge(Tally(path), "urn:parent", 150)  # a process alive for the whole update
    context = multiprocessing.get_context("spawn")  # separate interpreters, as providers are
    results: multiprocessing.Queue = context.Queue()
    workers = [context.Process(target=_worker, args=(str(path), w, results)) for w in range(4)]
    for worker in workers:
        worker.start()
    accepted = sum(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join()
    assert accepted == 149  # 150 with the parent's run
    assert json.loads(path.read_text())["runs"] == 150


def test_a_resource_is_counted_once_per_update(tmp_path: Path) -> None:
    t = Tally(tmp_path / "u.json")
    assert charge(t, "urn:a", 2, runs=2)
    # The engine may check a resource and then diff it (a targeted replacement): not twice,
    # and never refused for what it already counted.
    totals, added = t.charge("urn:a", ["a"], {TARGET: [2, 2, 0]}, 2)
    assert added and totals.runs == 2
    assert not charge(t, "urn:b", 2)


def test_a_file_left_by_an_earlier_update_on_the_same_address_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    path.write_text(
        json.dumps({"runs": 24, "urns": ["urn:old"], "pids": {dead.stdout.strip(): None}})
    )
    totals, added = Tally(path).charge("urn:new", ["new"], {TARGET: [1, 1, 0]}, 2)
    assert added and totals.runs == 1 and totals.urns == [tally.urn_key("urn:new")]


def test_a_longer_file_rewritten_shorter_holds_only_the_new_count(tmp_path: Path) -> None:
    # The text is written over the old one and cut at its end (tally._rewrite): nothing of a
    # longer earlier text may remain after it.
    path = tmp_path / "u.json"
    urns = [f"urn:old:{i}" for i in range(500)]
    path.write_text(json.dumps({"runs": 500, "urns": urns, "pids": {"999999999": None}}))
    Tally(path).charge("urn:new", ["new"], {TARGET: [1, 1, 0]}, 0)
    data = json.loads(path.read_text())
    assert data["runs"] == 1 and data["urns"] == [tally.urn_key("urn:new")]


def test_this_pid_with_another_start_time_is_an_earlier_process(tmp_path: Path) -> None:
    # This process's own start time is read once (tally._own_start): a file under its pid but
    # another start time was written by an earlier process that had the same pid.
    path = tmp_path / "u.json"
    me = str(os.getpid())
    path.write_text(json.dumps({"runs": 7, "urns": ["0" * 16], "pids": {me: "1"}}))
    totals, _ = Tally(path).charge("urn:new", ["new"], {TARGET: [1, 1, 0]}, 0)
    assert totals.runs == 1
    assert json.loads(path.read_text())["pids"] == {me: tally._start_time(os.getpid())}


def test_no_limit_counts_everything(tmp_path: Path) -> None:
    t = Tally()  # no engine address: this process only
    assert all(charge(t, f"urn:{i}", 0, runs=10) for i in range(100))
    assert t.charge("urn:x", [], {}, 0)[0].runs == 1000


def test_each_update_has_its_own_file(tmp_path: Path) -> None:
    assert tally.path_for("127.0.0.1:4000") != tally.path_for("127.0.0.1:4001")
    assert tally.for_update("127.0.0.1:4000") is tally.for_update("127.0.0.1:4000")


def test_the_file_keeps_a_short_key_per_resource_not_its_urn(tmp_path: Path) -> None:
    # Every charge rewrites the file: what it holds per counted resource is paid per charge.
    path = tmp_path / "u.json"
    t = Tally(path)
    urns = [
        f"urn:pulumi:dev::project::datagol:index:ExtractionRun::run-{i:04d}" for i in range(200)
    ]
    assert all(charge(t, urn, 0) for urn in urns)
    text = path.read_text()
    assert not any(urn in text for urn in urns[tally.KEPT_NAMES :])  # only the names shown
    assert json.loads(text)["urns"] == [tally.urn_key(urn) for urn in urns]
    # Counted once, under its key: at the limit, a resource counted before is not refused.
    assert t.charge(urns[7], [], {TARGET: [1, 1, 0]}, 200)[0].runs == 200


#: A provider process of an update at argv[1]: counts a run argv[2], says its file, and exits
#: (normally, as on the engine's SIGINT) when its stdin closes.
WRITER = """
import sys
from datagol_pulumi import tally
t = tally.for_update(sys.argv[1])
t.charge(sys.argv[2], [sys.argv[2]], {"w": [1, 1, 0]}, 0)
print(t.path, flush=True)
sys.stdin.read()
"""


def writer(tmp_path: Path, address: str, urn: str) -> tuple[subprocess.Popen, Path]:
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, address, urn],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    return process, Path(process.stdout.readline().strip())


def leave(process: subprocess.Popen) -> None:
    process.stdin.close()
    assert process.wait(timeout=30) == 0
    process.stdout.close()


def test_the_last_process_of_an_update_to_exit_removes_its_file(tmp_path: Path) -> None:
    first, path = writer(tmp_path, "127.0.0.1:7", "urn:a")
    second, same = writer(tmp_path, "127.0.0.1:7", "urn:b")
    assert same == path and path.parent.parent == tmp_path
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700  # the folder is this user's only
    assert json.loads(path.read_text())["runs"] == 2
    leave(first)
    data = json.loads(path.read_text())  # the update goes on: its count stays
    assert (data["runs"], list(data["pids"])) == (2, [str(second.pid)])
    leave(second)
    assert list(path.parent.iterdir()) == []


def test_an_update_removes_the_files_of_earlier_ones_and_makes_the_folder_private(
    tmp_path: Path,
) -> None:
    folder = tmp_path / f"datagol-pulumi-updates-{tally._user()}"
    folder.mkdir(mode=0o755)  # as 0.3.0 made it
    folder.chmod(0o755)
    killed = folder / "killed.json"  # its writer was killed before it could remove it
    killed.write_text(json.dumps({"runs": 3, "pids": {"999999999": None}}))
    live = folder / "live.json"  # an update still running
    live.write_text(json.dumps({"runs": 1, "pids": {str(os.getpid()): None}}))
    process, path = writer(tmp_path, "127.0.0.1:8", "urn:a")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in folder.iterdir()) == sorted(["live.json", path.name])
    leave(process)
    assert [p.name for p in folder.iterdir()] == ["live.json"]


def test_a_folder_that_is_not_this_users_own_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / f"datagol-pulumi-updates-{tally._user()}").symlink_to(elsewhere)
    result = subprocess.run(
        [sys.executable, "-c", WRITER, "127.0.0.1:9", "urn:a"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "is not a folder of this user: remove it, or set TMPDIR" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_one_process_of_an_update_says_its_summary_and_the_first_refusal_is_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "update.json"
    first, second = Tally(path), Tally(path)  # two provider processes of one update
    assert first.claim_summary() is None  # nothing counted: nothing to say
    first.charge("urn:a", ["a"], {"t": [1, 1, 0]}, 1)
    _, added = second.charge("urn:b", ["b"], {"t": [1, 1, 0]}, 1)
    assert not added
    assert second.refuse(2) and not first.refuse(3)  # the first refusal's count is kept
    said = second.claim_summary()
    assert said is not None and (said.runs, said.refused, said.names) == (1, 2, ["a"])
    assert first.claim_summary() is None and second.claim_summary() is None
    path.unlink()  # the update's end removed its file: a late process neither says nor creates
    assert first.claim_summary() is None and not path.exists()


def test_names_are_kept_in_the_order_a_person_reads_them(tmp_path: Path) -> None:
    tally = Tally(tmp_path / "update.json")
    for name in ("r10", "r9", "grp[k2]", "r1"):
        tally.charge(f"urn:{name}", [name], {"t": [1, 1, 0]}, 0)
    assert tally.claim_summary().names == ["grp[k2]", "r1", "r9", "r10"]  # type: ignore[union-attr]
