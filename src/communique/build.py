"""The pipeline: load → parse each file → cross-check → index → render → write.

`check` is this same pipeline stopped before rendering and writing.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from jinja2 import Environment, TemplateError

from .cache import (
    DIGEST_SIZE,
    Checked,
    CheckedFiles,
    CheckedStore,
    FileDigest,
    KeyDigests,
    Manifest,
    ParsedEntry,
    ParsedStore,
    Spill,
    code_digest,
    compiled_templates,
    current_digest,
    global_key,
    holds_any,
    layout_digest,
    mirror_path,
    spare_path,
)
from .config import load_site
from .crosscheck import Assembly, Withheld, assemble, reassemble
from .discover import SourceFile, find_statement_files
from .entities import COUNTRIES_FILE, ORGANISATIONS_FILE, Registry, load_registry
from .fieldspec import probe
from .incremental import ParseCache, RenderCache
from .indexes import SiteIndex, build_index
from .models import Site, Statement
from .options import Options
from .output import File, Output, Renderer, statement_url
from .problems import ContentError, Problem, UsageError
from .progress import Progress, count
from .render import StatementPages, render_site
from .search import (
    SEARCH_DIR,
    IndexAhead,
    SearchIndexing,
    find_pagefind,
    search_cache_dir,
    statement_pages_by_year,
)
from .stamp import (
    RACY_NS,
    Freshness,
    Outcome,
    Stamp,
    cache_root,
    default_theme_dir,
    file_signature,
    freshness,
    inputs_stamp,
    save_stamp,
    up_to_date,
)
from .static import attachment_files, collisions, find_static_files
from .theme import make_environment, template_problem, theme_assets, theme_dirs
from .validate import ParsedFile, parse_statement_file, still_holds
from .workers import in_background, stream_out
from .write import (
    Made,
    Staged,
    Written,
    check_output_paths,
    folder_contents,
    keep_in_place,
    live_intact,
    output_lock,
    staged_site,
    unsafe_output,
    write_files,
)

COLLECTOR_THRESHOLDS = (50_000, 50, 100)
"""Collect cycles after this many allocations (rendering allocates much, and frees nearly all of
it by reference counting)."""


@dataclass(frozen=True, slots=True)
class CheckedSite:
    """The site read and checked: what rendering needs, and what was found on the way."""

    site: Site
    """Configuration."""
    assembly: Assembly
    """Published and withheld statements."""
    index: SiteIndex
    """The published statements, grouped."""
    problems: tuple[Problem, ...]
    """Warnings (errors stop before this exists)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build did."""

    outcome: Outcome
    """What it published and found."""
    unchanged: int = 0
    """How many files were linked unchanged from the previous site."""
    removed: int = 0
    """How many files of the previous site are gone."""
    up_to_date: bool = False
    """True when nothing had changed since the last build, which was kept as it was."""


def check_site(options: Options, cache: ParseCache | None = None,
               progress: Progress | None = None, writes: bool = False,
               spill: Spill | None = None) -> CheckedSite:
    """Load, parse and cross-check every input; raise `ContentError` listing every error.

    Parsed files are taken from the dev server's `cache` when given, else (and for the dev
    server's first build) from the store of earlier builds beside the output (see
    `cache.ParsedStore`), which a build `writes` to; the files missing from both are parsed by
    `options.jobs` processes. Their bodies are kept in a build's `spill` file, if given, and
    can be read until it is closed; else in memory.

    A build with a spill on disk takes the site as last checked whole when only a few published
    statements changed since (see `recheck`), and else stores what it checks for the next one
    (at once: the memory it takes is then given back before the pages are rendered, where a
    thread would have added it to theirs, 28 MB at 10,000 statements).
    """
    site, problems = load_site(options.content, options.content_shown, options.base_url)
    registry, found = load_registry(options.content, options.content_shown)
    problems += found
    if cache is not None:
        sources, found = cache.find_files(options.content, options.content_shown)
    else:
        sources, found = find_statement_files(options.content, options.content_shown)
    problems += found
    if site is None:
        raise ContentError(problems)
    if progress is not None:
        progress.stage(f"loading {count(len(sources), 'statement file')}")
    files = {source.relative: source.stem for source in sources}
    url_pattern = site.base_path + statement_url("{id}")
    inputs = inputs_digest(options.content, site, files)
    parsed: list[ParsedFile] = []
    checked_store: CheckedStore | None = None
    digests: dict[str, FileDigest] = {}  # of the statement files, as found
    if cache is not None:
        cache.start(options.content, sources)
    if cache is not None and cache.entries:
        results = []
        for source in sources:
            hit = cache.get(source)
            if hit is None:
                stamp = cache.stamp(source)  # before it is read
                hit = parse_statement_file(source, registry, files, url_pattern)
                cache.put(source, *hit, stamp)
            results.append(hit)
    else:
        # What parsing a file depends on besides its bytes (not the base URL's host: the dev
        # server and a build share the store).
        context = hashlib.blake2b(code_digest() + sources_digest(options.content, files), digest_size=16)
        context.update(repr((str(options.content.absolute()), options.content_shown, url_pattern)).encode())
        store = ParsedStore(options.output, context.digest(), read=not options.clean, write=writes,
                            spill=spill)
        stamps = [cache.stamp(source) for source in sources] if cache is not None else []  # before
        if cache is None and spill is not None and spill.on_disk and not options.drafts:
            # Everything a statement is made from but its own file (and its original's), and where
            # each file is.
            context.update(inputs + repr([(s.path, s.relative, s.absolute) for s in sources]).encode())
            checked_store = CheckedStore(options.output, context.digest(), store)
            rechecked = (recheck(checked_store, spill, sources, registry, files, url_pattern, site,
                                 options.now, inputs, problems, digests) if not options.clean else None)
            if rechecked is not None:
                return rechecked
        results = parse_files(sources, registry, files, url_pattern, options.jobs, store, digests)
        if cache is not None:
            for source, stamp, (result, found) in zip(sources, stamps, results, strict=True):
                cache.put(source, result, found, stamp)
    for result, found in results:
        parsed.append(result)
        problems += found
    found_by_id: dict[str, list[Problem]] = {}
    assembly, found = assemble(parsed, site, options.now, options.drafts, inputs,
                               cache.statements if cache is not None else None, found_by_id)
    problems += found
    if any(p.is_error for p in problems):
        raise ContentError(problems)
    index = build_index(assembly.published, cache.index if cache is not None else None)
    if cache is not None:
        cache.index = index
    elif checked_store is not None and writes:
        # Stored only when every problem `assemble` found is one of a file's fields (which `recheck`
        # finds again for the files it reads); any other is an error today.
        only_fields = len(found) == sum(len(found) for found in found_by_id.values())
        save_checked(checked_store, CheckedFiles(
            digests, {file.source.relative: file.probes for file in parsed if file.probes},
            {s.id: (s.translation_of, s.aliases) for s in assembly.published},
            {original: tuple(t.id for t in them) for original, them in index.translations.items()},
            frozenset(w.id for w in assembly.withheld),
            max((s.embargo for s in assembly.published if s.embargo is not None), default=None),
            min((w.until for w in assembly.withheld if w.until is not None), default=None),
        ), Checked(
            assembly.published, assembly.withheld, index,
            {file.source.relative: found for file, found in results if found}, found_by_id,
        ), {file.id: file.source.relative for file in parsed} if only_fields else None)
    return CheckedSite(site, assembly, index, tuple(problems))


def save_checked(store: CheckedStore, read: CheckedFiles, found: Checked,
                 relative_of: dict[str, str] | None) -> None:
    """Store what a whole check `read` and `found` (see `check_site`), whose statements' files
    are `relative_of` their ids; when that is None, or it cannot be stored, remove what the last
    one stored, which would not stand for it."""
    if relative_of is None or not store.save(read, found, relative_of):
        store.path.unlink(missing_ok=True)


MAX_RECHECKED = 16
"""A build reads again at most this many statement files changed since the last whole check
(see `recheck`); beyond, it checks them all."""


def recheck(store: CheckedStore, spill: Spill, sources: list[SourceFile], registry: Registry,
            files: dict[str, str], url_pattern: str, site: Site, now: dt.datetime, inputs: bytes,
            problems: list[Problem], digests: dict[str, FileDigest]) -> CheckedSite | None:
    """The site checked from the last whole check (of the same inputs, see `CheckedStore`), when
    the statement files changed since are few and were and still are published statements, in
    the same relations to the others (see `crosscheck.reassemble`): those, with their
    translations (whose fingerprints name their original's file), are read again and put in,
    and the groups made again, from the last ones where they can be (the bodies are then read
    from the parsed store's files, which the `spill` keeps open). None when anything else
    changed; then the site is checked whole. `inputs` is the digest of what every statement
    depends on besides its own file, `problems` are those found before the statement files
    were read; the statement files' digests found on the way are put in `digests`."""
    loaded = store.load()
    if loaded is None:
        return None
    prior, found_then = loaded
    if (prior.lifted is not None and prior.lifted > now) or (prior.lifts is not None and prior.lifts <= now):
        return None  # an embargo lifted in between (or the clock went back)
    racy_after = time.time_ns() - RACY_NS
    changed = []
    for source in sources:
        known = prior.files.get(source.relative)
        if known is None:
            return None
        digests[source.relative] = current_digest(source.absolute, known, racy_after)
        if digests[source.relative][0] != known[0]:
            changed.append(source.stem)
            if len(changed) > MAX_RECHECKED:
                return None
    if not all(probe(path) == found for looked_at in prior.probes.values() for path, found in looked_at):
        return None
    remade = set()
    for id_ in changed:
        if id_ not in prior.published:  # withheld, or not a statement
            return None
        remade.add(id_)
        remade.update(prior.translations.get(id_, ()))
    wanted = remade | {prior.published[id_][0] or id_ for id_ in remade}
    by_id = {source.stem: source for source in sources}
    parsed: dict[str, ParsedFile] = {}
    found_in: dict[str, list[Problem]] = {}
    for id_ in sorted(wanted):
        source = by_id[id_]
        parsed[id_], found = parse_statement_file(source, registry, files, url_pattern)
        if id_ not in changed and parsed[id_].digest != prior.files[source.relative][0]:
            return None  # changed since it was looked at
        if parsed[id_].invalid or any(p.is_error for p in found):
            return None
        if found:
            found_in[source.relative] = found
    reassembled = reassemble(parsed, sorted(remade), prior.published, prior.withheld, site, now, inputs)
    last = found_then(spill) if reassembled is not None else None
    if reassembled is None or last is None:
        return None
    remade_statements, found_by_id = reassembled
    statements = tuple(remade_statements.get(s.id, s) for s in last.published)
    for source in sources:  # in the order a whole check finds them
        problems += (found_in.get(source.relative, []) if source.stem in parsed
                     else last.read_problems.get(source.relative, []))
    for source in sources:
        problems += (found_by_id.get(source.stem, []) if source.stem in remade
                     else last.file_problems.get(source.stem, []))
    return CheckedSite(site, Assembly(statements, last.withheld), build_index(statements, last.index),
                       tuple(problems))


def parse_files(sources: list[SourceFile], registry: Registry, files: dict[str, str], url_pattern: str,
                jobs: int, store: ParsedStore,
                digests: dict[str, FileDigest] | None = None) -> list[tuple[ParsedFile, list[Problem]]]:
    """Parse every statement file whose bytes changed since the last build, or the other files
    it looked at (the others come from the `store`), sharing the work between `jobs`
    processes, shard by shard. `digests` holds the digests of files found already in this
    build, and is given the digest of every file."""
    known = store.load()
    racy_after = time.time_ns() - RACY_NS
    # A file the store does not know is parsed whatever its digest, which its worker takes from
    # the bytes it parses.
    seen = digests or {}
    current = {s.relative: current_digest(s.absolute, seen.get(s.relative) or (entry[0], entry[3]),
                                          racy_after)
               for s in sources if (entry := known.get(s.relative)) is not None}
    by_shard: dict[int, list[SourceFile]] = {}
    for source in sources:
        by_shard.setdefault(store.shard_of(source.relative), []).append(source)
    by_relative = {source.relative: source for source in sources}
    results = {relative: (entry[1], entry[2]) for relative, entry in known.items()
               if relative in current and entry[0] == current[relative][0]
               and still_holds(entry[1], by_relative[relative])}
    stale = sorted(n for n, group in by_shard.items() if any(s.relative not in results for s in group))

    def parse(shard: int) -> bytes:
        entries: dict[str, ParsedEntry] = {}
        for source in by_shard[shard]:
            # Signed before it is read (by this process, or by the calling one when the store
            # knew it): a change in between is seen next time.
            signature = (current[source.relative][1] if source.relative in current
                         else file_signature(source.absolute, racy_after))
            found = results.get(source.relative) or parse_statement_file(source, registry, files, url_pattern)
            # The digest of the bytes parsed; none for a file that could not be read, which the
            # next build reads again whatever its signature (no digest of a file is empty).
            entries[source.relative] = (found[0].digest, *found, signature if found[0].digest else None)
        return store.pack(shard, entries)

    def unpack(payload: bytes) -> None:
        entries = store.unpack(payload, placed=True)
        assert entries is not None, "packed by this build, in its context"
        results.update((relative, (entry[1], entry[2])) for relative, entry in entries.items())
        if digests is not None:
            digests.update((relative, (entry[0], entry[3])) for relative, entry in entries.items())

    if digests is not None:
        digests.update((relative, current[relative]) for relative in results)
    # Each shard is unpacked as it comes, so that no more than one is held in memory at a time.
    stream_out(stale, parse, unpack, jobs, size=len, min_share=1)
    return [results[source.relative] for source in sources]


def inputs_digest(content: Path, site: Site, files: dict[str, str]) -> bytes:
    """Digest of what every statement depends on besides its own file."""
    return hashlib.blake2b(repr(site).encode() + sources_digest(content, files), digest_size=16).digest()


def sources_digest(content: Path, files: dict[str, str]) -> bytes:
    """Digest of what every statement file is read with: the entity files and the list of
    statement files (which decides where body links lead)."""
    digest = hashlib.blake2b(digest_size=16)
    for name in (COUNTRIES_FILE, ORGANISATIONS_FILE):
        path = content / name
        digest.update(path.read_bytes() if path.is_file() else b"-")
    digest.update("\n".join(files).encode())
    return digest.digest()


def build_site(options: Options, project: Path | None = None, progress: Progress | None = None,
               fresh: Freshness | None = None) -> BuildResult:
    """Check everything, lay out every page, then render and write the site into a new folder
    that replaces the output in one swap. Files whose inputs did not change since the last
    build are linked from the live site instead of rendered (see `cache`), and when no input
    changed at all the site is left as it is (see `stamp`; `fresh` is the stamp if the caller
    took it already)."""
    refusal = unsafe_output(options.output, options.content, project or Path.cwd())
    if refusal:
        raise UsageError([refusal])
    progress = progress or Progress(None)
    fresh = fresh or freshness(options)
    if fresh.unchanged is not None:
        outcome = up_to_date(options, fresh.unchanged)
        return BuildResult(outcome, outcome.files, 0, up_to_date=True)
    with Spill(cache_root(options.output) / "build") as spill:
        return _build(options, progress, fresh, spill)


def _build(options: Options, progress: Progress, fresh: Freshness, spill: Spill) -> BuildResult:
    """`build_site` once it is known that something changed; statement bodies in `spill`.

    The site before the live one (the spare, see `write.staged_site`) is listed by another
    process while this one reads the content: the output is locked from the start, so that
    nothing changes it in between."""
    spare = spare_path(options.output)
    listing = (in_background(partial(folder_contents, spare)) if options.jobs > 1 and not options.clean
               and spare.is_dir() else nullcontext(None))
    with output_lock(options.output), listing as spare_contents, ExitStack() as indexing_ahead:
        checked = check_site(options, progress=progress, writes=True, spill=spill)
        collect_from_now_on()
        progress.stage("laying out the site")
        compiled = compiled_templates(options.output, fresh=options.clean)
        env, env_for = environments(checked.site, options.content, compiled)
        previous = Manifest.load(options.output)
        keys = global_key(checked.site, theme_dirs(checked.site, options.content), options.drafts)
        statements = {s.id: (s.fingerprint, s.shape) for s in checked.index.statements}
        statement_page = StatementPages(checked.index, Renderer(env), env_for)
        ahead = (index_ahead(checked, previous, statements, options, statement_page, indexing_ahead)
                 if options.search and not options.clean and previous.global_key == keys else {})
        output, copies = render_checked(checked, options.content, env, shown=options.content_shown,
                                        env_for=env_for, statement_page=statement_page)
        paths = [*output.thunks, *(name for name, _ in copies)]
        layout = layout_digest(paths)
        if options.clean or layout != previous.layout:  # else the last build checked the same paths
            check_output_paths(paths, options.output)
        if options.search:
            find_pagefind()  # before any thread: a missing Pagefind fails the build now
        else:  # the links it holds would keep pages this site no longer has on the disk
            shutil.rmtree(mirror_path(options.output), ignore_errors=True)
        reuse = {} if options.clean else previous.files
        # The site before the live one is brought up to date unless every file is to change.
        adopt = bool(reuse) and previous.global_key == keys
        with staged_site(options.output, previous.files, spare, adopt, spare_contents) as staged:
            edited = edited_fingerprints(previous, statements, layout) if adopt else None
            written = fill(staged, checked, output, copies,
                           KeyDigests(keys, (fingerprint for fingerprint, _ in statements.values())), options,
                           reuse, progress, edited, ahead)
            progress.stage("replacing the site")
        Manifest(written, keys, statements, layout).save(options.output)
        outcome = Outcome(len(checked.assembly.published), len(written), checked.problems,
                          tuple(withheld_summary(checked.assembly.withheld)))
        record_stamp(options, checked, fresh, outcome)
        progress.end_stage()
    unchanged = sum(1 for path, file in written.items()
                    if (old := previous.files.get(path)) is not None and old.inode == file.inode)
    return BuildResult(outcome, unchanged, len(previous.files.keys() - written.keys()))


def edited_fingerprints(previous: Manifest, statements: Mapping[str, tuple[bytes, bytes]],
                        layout: bytes) -> frozenset[bytes] | None:
    """When the published statements (by id, their fingerprints and shapes, see `Statement`)
    changed since the `previous` build in their text alone: the fingerprints they had then (cut
    to `DIGEST_SIZE` bytes). Then only the files whose keys named one of these can change (see
    `KeyDigests.file_key`): every other input of every file is as it was, and the site is laid
    out as it was. None when anything else changed."""
    if previous.layout != layout or previous.statements.keys() != statements.keys():
        return None
    changed = set()
    for id_, (fingerprint, shape) in statements.items():
        before, shaped = previous.statements[id_]
        if before == fingerprint:
            continue
        if shaped != shape:
            return None
        changed.add(before[:DIGEST_SIZE])
    return frozenset(changed)


def collect_from_now_on() -> None:
    """Turn the cyclic garbage collector back on if the command line turned it off for loading
    (see `cli.run`), out of sight of everything loaded so far (`gc.freeze`): the models live
    until the build ends, but rendering leaves cycles behind (the JSON encoder leaves one per
    indented document), about 25 MB at 10,000 statements. The frozen objects are not scanned,
    so collecting costs next to nothing, and forked children do not copy pages just to have
    them scanned."""
    if not gc.isenabled():
        gc.freeze()
        gc.set_threshold(*COLLECTOR_THRESHOLDS)
        gc.enable()


def fill(staged: Staged, checked: CheckedSite, output: Output, copies: list[tuple[str, Path]],
         keys: KeyDigests, options: Options, reuse: Mapping[str, Written],
         progress: Progress, edited: frozenset[bytes] | None = None,
         ahead: Mapping[int, IndexAhead] | None = None) -> dict[str, Written]:
    """Render and write every file into the new site, linking what did not change (with the
    fingerprints of the statements `edited` in their text alone, the key of a file that named
    none of them is taken from the last build, not worked out: see `edited_fingerprints`; such
    a file that the spare folder holds as the last build recorded it is kept there at once, as
    are the index files of the years the search cache holds: see `keep_in_place`).

    With search, the statement pages come first, and Pagefind indexes them (in processes of its
    own; a year indexed `ahead` over the same pages is taken as it is, see `index_ahead`) while
    the other pages are kept or rendered, and then while the index files of the years the cache
    holds are written: the two share the cores instead of taking turns. This process then
    renders no share of the pages (it would hold up the indexing, which it drives), nor before
    (the processes that render the rest would start with what it kept).
    """
    kept = kept_keys(output, reuse, edited)
    render, key = rendering(output, keys), file_keys(output, keys, kept)
    pages = ({statement_url(s.id) + "index.html" for s in checked.index.statements} if options.search
             else set())
    local = not options.search
    progress.stage(f"rendering {count(len(output.thunks), 'file')}")
    written = keep_in_place(staged, reuse, ((path, known) for path in pages if (known := kept(path))))
    written.update(write_files(staged, sorted(pages - written.keys()), render, key, reuse, options.jobs,
                               local))
    with (search_index(staged, checked, options, dict(written), ahead) if options.search
          else nullcontext()) as index:
        written.update(keep_in_place(staged, reuse, ((path, known) for path in output.thunks
                                                     if path not in pages and (known := kept(path)))))
        written.update(write_files(staged, sorted(output.thunks.keys() - pages - written.keys()), render, key,
                                   reuse, options.jobs, local))
        if index is not None:
            done = index.cached()
            same = keep_in_place(staged, reuse, ((path, done.key(path)) for path in done))
            written.update(same)
            written.update(write_files(staged, sorted(done.keys() - same.keys()), done.__getitem__, done.key,
                                       reuse, options.jobs))
            progress.stage("indexing the statements for search")
            files = index.result()
            rest = sorted(files.keys() - done.keys())
            written.update(write_files(staged, rest, files.__getitem__, files.key, reuse, options.jobs))
    progress.stage(f"copying {count(len(copies), 'file')}")
    sources = dict(copies)
    written.update(write_files(staged, sorted(sources), lambda name: sources[name].read_bytes(),
                               lambda name: file_stamp(sources[name]), reuse, 1))
    return written


def search_index(staged: Staged, checked: CheckedSite, options: Options,
                 pages_written: Mapping[str, Written],
                 ahead: Mapping[int, IndexAhead] | None = None) -> SearchIndexing:
    """The search index of the statement pages written so far (see `search`), started in the
    background, or taken from the years indexed `ahead` (see `index_ahead`)."""
    pages = statement_pages_by_year(checked.index.statements, staged.read, staged.locate,
                                    {path: file.digest for path, file in pages_written.items()})
    return SearchIndexing(pages, search_cache_dir(options.output), checked.site.language,
                          jobs=options.jobs, refresh=options.clean, mirror=mirror_path(options.output),
                          ahead=ahead)


def index_ahead(checked: CheckedSite, previous: Manifest, statements: Mapping[str, tuple[bytes, bytes]],
                options: Options, statement_page: Callable[[Statement], Callable[[], bytes]],
                stack: ExitStack) -> dict[int, IndexAhead]:
    """Start indexing the years whose pages an edit changes, before the site is laid out: when
    only the text of some `statements` (by id, their fingerprints and shapes) changed since the
    `previous` build (see `edited_fingerprints`; the caller checks that every file's other
    inputs are as they were), the pages that can change are those whose keys named one of them.
    They are rendered at once (by `statement_page`), and each of their years (no more than
    `options.jobs`) indexed over them and the live site's other pages of the year, left to
    `stack` to wait for (see `search.IndexAhead`). Indexing, which the build would otherwise
    start only once the whole site is laid out and its pages written, then runs beside that.

    It is a forecast, checked by the year's cache key once the build has written the pages (see
    `SearchIndexing`): a year whose pages turn out otherwise is indexed again. No year is started
    when anything else changed, nor one whose page in the live site is not the file the manifest
    records."""
    edited = edited_fingerprints(previous, statements, previous.layout)
    if not edited:
        return {}
    by_year: dict[int, list[tuple[str, Statement, Written]]] = {}
    for statement in checked.index.statements:
        path = statement_url(statement.id) + "index.html"
        old = previous.files.get(path)
        if old is None or len(old.key) < DIGEST_SIZE or old.pieces:
            return {}
        by_year.setdefault(statement.date.year, []).append((path, statement, old))
    years = sorted((year for year, pages in by_year.items()
                    if any(holds_any(old.key, edited) for _, _, old in pages)), reverse=True)
    if not years or len(years) > max(1, options.jobs):
        return {}
    ahead: dict[int, IndexAhead] = {}
    site = options.output.absolute()
    for year in years:
        live: dict[str, tuple[str, bytes]] = {}
        fresh: dict[str, bytes] = {}
        for path, statement, old in by_year[year]:
            if holds_any(old.key, edited):
                try:
                    fresh[path] = statement_page(statement)()
                except TemplateError:  # the build reports it
                    return ahead
            elif live_intact(site, path, old):
                live[path] = (os.path.join(site, path), old.digest)
            else:
                break
        else:
            ahead[year] = stack.enter_context(IndexAhead(year, live, fresh, search_cache_dir(options.output),
                                                         checked.site.language, mirror_path(options.output)))
    return ahead


def record_stamp(options: Options, checked: CheckedSite, fresh: Freshness, outcome: Outcome) -> None:
    """Stamp the inputs of the build just done, for the next one to compare (see `stamp`)."""
    extra_dirs = tuple(str(d.absolute()) for d in theme_dirs(checked.site, options.content)
                       if not d.absolute().is_relative_to(options.content.absolute())
                       and d != default_theme_dir())
    inputs = (fresh.inputs if extra_dirs == fresh.extra_dirs
              else inputs_stamp(options, extra_dirs, fresh.racy_after))
    save_stamp(options.output, Stamp(inputs, fresh.racy_after, extra_dirs,
                                     *validity(checked, options), outcome))


def validity(checked: CheckedSite, options: Options) -> tuple[float | None, float | None]:
    """The instants between which the same inputs give the same site: the last embargo to have
    lifted by `--now` and the first still to lift (in a preview, also the day's midnights, since
    drafts without a date are dated today)."""
    instants = [w.until for w in checked.assembly.withheld if w.until is not None]
    instants += [s.embargo for s in checked.assembly.published if s.embargo is not None]
    if options.drafts:
        midnight = dt.datetime.combine(options.now.date(), dt.time(), dt.UTC)
        instants += [midnight, midnight + dt.timedelta(days=1)]
    earlier = [i.timestamp() for i in instants if i <= options.now]
    later = [i.timestamp() for i in instants if i > options.now]
    return max(earlier, default=None), min(later, default=None)


def rendering(output: Output, keys: KeyDigests) -> Callable[[str], Made]:
    """Render the file at a path (in pieces if it is made so, each keyed piece known by the digest
    of its key); a template error becomes a `Problem`."""
    def render(path: str) -> Made:
        thunk = output.thunks[path]
        try:
            made = thunk.pieces() if isinstance(thunk, File) else thunk()
        except TemplateError as error:
            raise ContentError([template_problem(error)]) from error
        if isinstance(made, bytes):
            return made
        return (piece if isinstance(piece, bytes) else (keys.of(piece[0]), piece[1]) for piece in made)
    return render


def file_keys(output: Output, keys: KeyDigests,
              kept: Callable[[str], bytes | None] = lambda path: None) -> Callable[[str], bytes]:
    """The key of the file at a path (see `KeyDigests.file_key`; empty for a file without a
    key), or the key it keeps from the last build (`kept`, see `kept_keys`)."""
    def key(path: str) -> bytes:
        thunk = output.thunks[path]
        if not isinstance(thunk, File):
            return b""
        return kept(path) or keys.file_key(thunk.key())
    return key


def kept_keys(output: Output, previous: Mapping[str, Written] | None = None,
              edited: frozenset[bytes] | None = None) -> Callable[[str], bytes | None]:
    """The key that the file at a path keeps from the `previous` build without its being worked
    out, if any: with the fingerprints of the statements `edited` in their text alone since,
    that of a file whose key named none of them."""
    def kept(path: str) -> bytes | None:
        if edited is None or previous is None or not isinstance(output.thunks[path], File):
            return None
        old = previous.get(path)
        if old is not None and len(old.key) >= DIGEST_SIZE and not holds_any(old.key, edited):
            return old.key
        return None
    return kept


def file_stamp(path: Path) -> bytes:
    """The key of a file copied as it is: where it is, its size and its time."""
    info = path.stat()
    return f"{path.absolute()}\0{info.st_size}\0{info.st_mtime_ns}".encode()


def environments(site: Site, content: Path, compiled: Path | None = None, env: Environment | None = None
                 ) -> tuple[Environment, Callable[[str], Environment]]:
    """The Jinja environment of the site's language (`env` if given), and a function giving
    that of another interface language, made when first asked for. Templates are compiled once
    for all builds in the folder `compiled`, if given."""
    dirs = theme_dirs(site, content)
    env = env or make_environment(site, dirs, compiled=compiled)
    envs: dict[str, Environment] = {}

    def env_for(lang: str) -> Environment:
        if lang not in envs:
            envs[lang] = make_environment(site, dirs, lang, compiled)
        return envs[lang]

    return env, env_for


def render_checked(checked: CheckedSite, content: Path, env: Environment | None = None,
                   cache: RenderCache | None = None, shown: str = "content",
                   compiled: Path | None = None, env_for: Callable[[str], Environment] | None = None,
                   statement_page: StatementPages | None = None) -> tuple[Output, list[tuple[str, Path]]]:
    """Lay out every page (rendered when asked, see `render_all`) and list the files to copy:
    the theme's assets, the site's static files and the statements' attachments. The pages are
    rendered with `env` and `env_for` (see `environments`), made here if not given, the
    statement pages by `statement_page` if given (see `render_site`)."""
    dirs = theme_dirs(checked.site, content)
    if env is None or env_for is None:
        env, env_for = environments(checked.site, content, compiled, env)
    output = render_site(checked.index, checked.site, env, cache, env_for, statement_page)
    static, problems = find_static_files(content, shown)
    theme = [(name, path, f"theme asset {name}") for name, path in theme_assets(dirs)]
    copies = theme + attachment_files(checked.index.statements) + static
    problems += collisions(output.thunks, copies, {SEARCH_DIR + "/": "the search index"})
    if problems:
        raise ContentError(problems)
    return output, [(name, path) for name, path, _ in copies]


def render_all(output: Output) -> dict[str, bytes]:
    """Render every file; a template error becomes a `Problem`."""
    try:
        return output.render_all()
    except TemplateError as error:
        raise ContentError([template_problem(error)]) from error


def withheld_summary(withheld: tuple[Withheld, ...]) -> list[str]:
    """One line per withheld statement, for `check` and `build --verbose`."""
    lines = []
    for item in withheld:
        when = f" until {item.until.isoformat()}" if item.until else ""
        lines.append(f"{item.path}: withheld ({item.reason}{when})")
    return lines
