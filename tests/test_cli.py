"""The command line as users run it: build.py, the console script, `new`, usage errors, the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, VALID_FRONT, Result, statement


def test_build_py_is_communique_build(write_site: Callable[..., Path], tmp_path: Path) -> None:
    write_site({"statements/one.md": statement()})
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "--output", "out", "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out/statements/one/index.html").is_file()
    bad = subprocess.run([sys.executable, str(ROOT / "build.py"), "--no-such-flag"],
                         cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr


def test_usage_errors_exit_2(cli: Callable[..., Result]) -> None:
    assert cli("build", "--now", "2024-06-04T12:00:00").status == 2  # no offset
    assert cli("frobnicate").status == 2
    assert cli("check", "--format", "xml").status == 2


def test_missing_site_yaml(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "content/statements").mkdir(parents=True)
    result = cli("check")
    assert result.status == 1
    assert "content/site.yaml: error: the content folder has no site.yaml" in result.out


def test_new_writes_a_draft_that_passes_check(cli: Callable[..., Result],
                                              write_site: Callable[..., Path], tmp_path: Path) -> None:
    write_site({})
    result = cli("new", "Joint Statement on Côte d'Ivoire / Ghana \"talks\"", "--date", "2024-06-04")
    assert result.status == 0, result.err
    path = Path(result.out.strip())
    assert path.as_posix() == "content/statements/2024/joint-statement-on-cote-d-ivoire-ghana-talks.md"
    text = (tmp_path / path).read_text()
    assert "draft: true" in text and "# participants:" in text
    checked = cli("check")
    assert checked.status == 0, checked.out
    assert "warning: missing required field 'issuers'" in checked.out
    again = cli("new", "Joint Statement on Côte d'Ivoire / Ghana \"talks\"", "--date", "2024-06-04")
    assert again.out.strip().endswith("joint-statement-on-cote-d-ivoire-ghana-talks-2.md")
    assert (tmp_path / path).read_text() == text


@pytest.mark.parametrize(("title", "expected"), [
    ("中美联合声明", "zhong-mei-lian-he-sheng-ming"),
    ("بيان مشترك", "byn-mshtrk"),
    ("!!!", "statement"),
])
def test_new_ids_from_any_script(cli: Callable[..., Result], write_site: Callable[..., Path],
                                 title: str, expected: str) -> None:
    write_site({})
    result = cli("new", title, "--date", "2024")
    assert result.status == 0
    assert Path(result.out.strip()).stem == expected
    assert cli("check").status == 0


def test_new_refuses_a_taken_id(cli: Callable[..., Result], write_site: Callable[..., Path]) -> None:
    write_site({"statements/taken.md": statement()})
    result = cli("new", "Anything", "--id", "taken")
    assert result.status == 2 and "taken" in result.err


def test_new_with_every_option(cli: Callable[..., Result], write_site: Callable[..., Path]) -> None:
    write_site({})
    result = cli("new", "Readout", "--type", "readout", "--issuers", "US,Italy", "--meeting",
                 "G7 Foreign Ministers", "--host", "IT", "--date", "2024-04")
    assert result.status == 0
    checked = cli("check", "--drafts")
    assert checked.status == 0 and ": warning:" not in checked.out


def test_wheel_ships_the_default_theme(tmp_path: Path) -> None:
    """A non-editable install must find templates/ inside the package."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    wheel = next((tmp_path / "dist").glob("communique-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "installed")
    assert {"communique/templates/base.html", "communique/templates/static/style.css",
            "communique/data/organisations.yaml", "communique/py.typed"} <= names
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "installed")}
    site = subprocess.run(
        [sys.executable, "-c", "import communique.theme as t; print(t.default_theme_dir())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(site.stdout.strip()) == tmp_path / "installed/communique/templates"
    content = tmp_path / "content"
    (content / "statements").mkdir(parents=True)
    (content / "site.yaml").write_text("title: T\nbase_url: https://example.org/\n")
    (content / "statements/one.md").write_text(statement(VALID_FRONT))
    built = subprocess.run([sys.executable, "-m", "communique", "build", "--quiet"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "_site/static/style.css").is_file()
