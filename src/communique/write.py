"""Write the site: into a fresh folder beside the output, swapped in only when complete."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .problems import Problem


def unsafe_output(output: Path, content: Path, project: Path) -> Problem | None:
    """A problem when `output` is a folder the build must never replace."""
    out = output.resolve()
    protected = {
        "the content folder": content.resolve(),
        "the project folder": project.resolve(),
        "your home folder": Path.home().resolve(),
    }
    if out == Path(out.anchor):
        return Problem(str(output), None, None, "refusing to write the site to the root folder",
                       "output", "choose a new folder such as _site")
    for what, place in protected.items():
        if out == place or place.is_relative_to(out):
            relation = "is" if out == place else "contains"
            return Problem(str(output), None, None,
                           f"refusing to write the site there: the output folder {relation} {what}",
                           "output", "choose a folder of its own, such as _site")
    if out.is_relative_to(content.resolve()):
        return Problem(str(output), None, None,
                       "refusing to write the site inside the content folder", "output",
                       "choose a folder outside content/, such as _site")
    return None


def write_site(output: Path, files: dict[str, bytes], copies: Iterable[tuple[str, Path]]) -> None:
    """Write every file into a new folder, then put it in place of `output` in one step.

    Until the final rename the previous site is untouched; a failure before it leaves only a
    temporary folder, which is removed.
    """
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    try:
        made: set[Path] = set()
        for relative, data in sorted(files.items()):
            target = staging / relative
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_bytes(data)
        for relative, source in copies:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        os.chmod(staging, 0o755)
        swap_in(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_in(staging: Path, output: Path) -> None:
    """Replace `output` with `staging`: rename the old one aside, rename the new one in."""
    if not output.exists():
        staging.rename(output)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
    retired.rmdir()
    output.rename(retired)
    try:
        staging.rename(output)
    except BaseException:
        retired.rename(output)
        raise
    shutil.rmtree(retired, ignore_errors=True)
