"""Write the synthetic corpus as a communique content folder and, on request, as a Hugo site.

    python bench/synth.py                          # 1,000 and 10,000 statements into bench/work/
    python bench/synth.py --sizes 500 --hugo --out /tmp/sites --seed 7

`<out>/<size>/content` is the communique content folder, `<out>/<size>/hugo` the Hugo site and
`<out>/<size>/hugo-every-family` its twin that writes every family communique writes (see
`hugo_site.write_hugo_twin`). The same size and seed always give the same files.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from corpus import DEFAULT_SEED, Corpus, Statement, generate_corpus
from hugo_site import write_hugo_site, write_hugo_twin

SITE_YAML = """\
title: Joint Statements
base_url: https://example.org/statements/
language: en
description: Synthetic joint statements, communiqués and declarations for benchmarking.
"""


def _codes(codes: tuple[str, ...]) -> str:
    return "[" + ", ".join(codes) + "]"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def communique_front_matter(s: Statement) -> list[str]:
    """The YAML lines of a statement's front matter (a translation gives only what differs)."""
    lines = [f"title: {_quote(s.title)}"]
    if s.translation_of:
        return [*lines, f"lang: {s.lang}", f"translation_of: {s.translation_of}"]
    lines += [f"date: {s.date}", f"type: {s.type}", f"issuers: {_codes(s.issuers)}"]
    if s.meeting:
        lines += ["meeting:", f"  name: {_quote(s.meeting.name)}",
                  f"  location: {_quote(s.meeting.location)}", f"  hosts: {_codes(s.meeting.hosts)}"]
    lines.append(f"participants: {_codes(s.participants)}")
    if s.observers:
        lines.append(f"observers: {_codes(s.observers)}")
    if s.people:
        lines.append("people:")
        lines += [f"  - {{name: {_quote(p.name)}, role: {_quote(p.role)}, country: {p.country}}}"
                  for p in s.people]
    lines.append(f"topics: {_codes(s.topics)}")
    for key in ("summary", "release_note", "source"):
        if (value := getattr(s, key)) is not None:
            lines.append(f"{key}: {_quote(value)}")
    if s.corrections:
        lines.append("corrections:")
        lines += [f"  - {{date: {day}, note: {_quote(note)}}}" for day, note in s.corrections]
    return lines


def communique_path(content: Path, statement: Statement) -> Path:
    """Where a statement's file lives in a communique content folder."""
    return content / "statements" / str(statement.year) / f"{statement.id}.md"


def write_communique_statement(content: Path, statement: Statement) -> None:
    """Write (or overwrite) one statement file."""
    text = "---\n" + "\n".join(communique_front_matter(statement)) + "\n---\n" + statement.body
    path = communique_path(content, statement)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_communique_site(corpus: Corpus, content: Path) -> None:
    """A fresh communique content folder holding the whole corpus."""
    shutil.rmtree(content, ignore_errors=True)
    content.mkdir(parents=True)
    (content / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    for statement in corpus.statements:
        write_communique_statement(content, statement)


def write_sites(size: int, root: Path, *, hugo: bool, seed: int = DEFAULT_SEED) -> Corpus:
    """`root/<size>/content` (and `root/<size>/hugo` and its twin if asked); return the corpus."""
    corpus = generate_corpus(size, seed)
    write_communique_site(corpus, root / str(size) / "content")
    if hugo:
        write_hugo_site(corpus, root / str(size) / "hugo")
        write_hugo_twin(corpus, root / str(size) / "hugo-every-family")
    return corpus


def main() -> None:
    """Parse the options and write the sites."""
    parser = argparse.ArgumentParser(description="Write synthetic statement sites.")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated statement counts")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "work",
                        help="folder to write <size>/content (and <size>/hugo) into")
    parser.add_argument("--hugo", action="store_true", help="also write the corpus as a Hugo site")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = write_sites(size, args.out, hugo=args.hugo, seed=args.seed)
        print(f"{size}: {len(corpus.statements)} files in {args.out / str(size)}")


if __name__ == "__main__":
    main()
