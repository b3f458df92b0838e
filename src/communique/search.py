"""Full-text search: a Pagefind index of the statement pages, one index per year.

Pagefind reads the final statement pages, so what is found is what readers see. Each year of
statements (a translation counts in its own year) gets an index of its own under
`pagefind/<year>/`; the search page loads the newest year's (which alone carries Pagefind's
script and WebAssembly) and merges the others into it in the browser with `mergeIndex`.
So indexing needs memory for the largest year only, and a build re-indexes only the years
whose pages changed: each year's index is cached under a digest of its pages, the Pagefind
version and the indexing options. Pagefind's output is put in a canonical order (see
`canonical_bundle`), so the same pages give the same bytes, built afresh or taken from the cache.

Only the statement pages a build publishes are indexed: drafts and statements under embargo
never reach them (except in a `--drafts` preview).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .models import Statement
from .output import statement_url
from .problems import ContentError, Problem
from .stamp import cache_root
from .write import bytes_digest

SEARCH_DIR = "pagefind"
"""Folder of the output that holds the indexes: `pagefind/<year>/`."""
YEARS_FILE = f"{SEARCH_DIR}/years.json"
"""The years that have an index, newest first; the search page reads it."""
CACHE_FORMAT = b"communique-search-3"
"""Part of every cache key: change it when the cached layout or the indexing options change."""
MANIFEST = "manifest.json"
"""In a cache entry: every file of the bundle with its digest."""
ENTRIES_KEPT = 2
"""Cache entries kept per year: a preview and a production build beside each other both hit."""
REQUIRED_FILES = ("pagefind-entry.json", "pagefind.js")
"""Files every usable bundle has."""
UNUSED_PREFIXES = ("pagefind-ui", "pagefind-modular-ui", "pagefind-component-ui", "pagefind-highlight")
"""Pagefind's ready-made interfaces: the search page is the theme's own, so these are left out."""
EXCLUDED = ".metadata dt, .cite"
"""What Pagefind leaves out of a statement page: the labels of its metadata ("Date", "Issued by")
and the citation block, which repeat on every statement what the page says already and would
crowd the excerpts."""
TIMEOUT_SECONDS = 3600
"""How long one year's indexing may take before the build gives up."""

Pages = Mapping[str, bytes]
"""Output path (`statements/<id>/index.html`) to the page's bytes."""

log = logging.getLogger(__name__)


def search_cache_dir(output: Path) -> Path:
    """Where the indexes are cached: `.communique-cache/search/` beside the output folder."""
    return cache_root(output) / "search"


def statement_pages_by_year(statements: Iterable[Statement], read: Callable[[str], bytes],
                            locate: Callable[[str], str] | None = None,
                            digests: Mapping[str, bytes] | None = None) -> dict[int, Pages]:
    """The rendered page of every statement (`read(path)` gives its bytes, `locate(path)` where
    the file is, if it is one, and `digests` the digests of their bytes, when known), grouped by
    the year of the statement's date. Pages are read when a year is indexed, so only the years
    being indexed are in memory."""
    by_year: dict[int, list[str]] = {}
    for statement in statements:
        by_year.setdefault(statement.date.year, []).append(statement_url(statement.id) + "index.html")
    return {year: PageFiles(paths, read, locate, digests) for year, paths in by_year.items()}


class PageFiles(Mapping[str, bytes]):
    """Pages by output path, read each time one is asked for."""

    def __init__(self, paths: list[str], read: Callable[[str], bytes],
                 locate: Callable[[str], str] | None = None,
                 digests: Mapping[str, bytes] | None = None) -> None:
        self._paths = dict.fromkeys(paths)
        self._read = read
        self.locate = locate
        """Where a page's file is, to be linked rather than copied for Pagefind to read."""
        self.digests = digests or {}
        """The digests of pages' bytes (see `write.bytes_digest`) known without reading them."""

    def __getitem__(self, path: str) -> bytes:
        if path not in self._paths:
            raise KeyError(path)
        return self._read(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


class Bundle(Mapping[str, bytes]):
    """One year's index files by name: made by this build, or files of a cache entry, each read
    (and checked against the digest the entry records) only when asked for. A build whose live
    site holds the same files links them without reading the cache at all."""

    def __init__(self, made: dict[str, bytes], entry: Path | None = None,
                 digests: dict[str, str] | None = None,
                 rebuild: Callable[[], dict[str, bytes]] | None = None) -> None:
        self._made = made
        self._entry = entry
        self._digests = digests or {}
        self._rebuild = rebuild
        """Indexes the year again, for when a cached file turns out to be damaged."""

    def __getitem__(self, name: str) -> bytes:
        if name in self._made or name not in self._digests:
            return self._made[name]
        assert self._entry is not None
        try:
            data = (self._entry / "bundle").joinpath(*_relative_parts(name)).read_bytes()
            if _digest(data) != self._digests[name]:
                raise ValueError(f"{name} was changed")
        except (OSError, ValueError) as error:
            log.warning("search cache entry %s is damaged (%s); indexing again", self._entry, error)
            shutil.rmtree(self._entry, ignore_errors=True)
            assert self._rebuild is not None
            self._made, self._digests = self._rebuild(), {}
            return self._made[name]
        return data

    def __iter__(self) -> Iterator[str]:
        return iter(self._digests or self._made)

    def __len__(self) -> int:
        return len(self._digests or self._made)

    def key(self, name: str) -> bytes:
        """The digest of a file's bytes, known without reading a cached file."""
        known = self._digests.get(name)
        return bytes.fromhex(known) if known is not None else bytes.fromhex(_digest(self[name]))


class SearchFiles(Mapping[str, bytes]):
    """The files of the search index by output path (see `Bundle`)."""

    def __init__(self, bundles: Mapping[int, Bundle], years: list[int]) -> None:
        """The files of the `bundles` of some or all of the `years` (newest first), and the
        list of years."""
        self._files: dict[str, tuple[Bundle, str]] = {}
        for year in years:
            bundle = bundles.get(year)
            if bundle is None:
                continue
            self._files.update((f"{SEARCH_DIR}/{year}/{name}", (bundle, name)) for name in bundle
                               if year == years[0] or not is_runtime(name))
        listing = Bundle({YEARS_FILE: (json.dumps({"version": 1, "years": years}) + "\n").encode()})
        self._files[YEARS_FILE] = (listing, YEARS_FILE)

    def __getitem__(self, path: str) -> bytes:
        bundle, name = self._files[path]
        return bundle[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __contains__(self, path: object) -> bool:  # without reading the file, as Mapping's would
        return path in self._files

    def __len__(self) -> int:
        return len(self._files)

    def key(self, path: str) -> bytes:
        """What the file's bytes follow from, for the build cache: the digest of its bytes."""
        bundle, name = self._files[path]
        return bundle.key(name)


def build_search_index(pages_by_year: Mapping[int, Pages], cache_dir: Path | None,
                       language: str = "en", *, jobs: int = 1, refresh: bool = False,
                       mirror: Path | None = None) -> SearchFiles:
    """Index each year's pages (or take the index from the cache); return the files to write.

    `language` is the language every index is built for (the site's): Pagefind would otherwise
    split a year by each page's `lang`, and the search page would find only the pages in the
    language of its own interface. `cache_dir` None builds every year afresh and caches nothing;
    `refresh` builds every year afresh and caches the result. Up to `jobs` years are indexed at
    once, each by a Pagefind process of its own, over the pages linked into `mirror` when given
    (see `mirror_site`), else into scratch folders.
    """
    with SearchIndexing(pages_by_year, cache_dir, language, jobs=jobs, refresh=refresh,
                        mirror=mirror) as indexing:
        return indexing.result()


class SearchIndexing:
    """`build_search_index` in threads of its own, started at once; a context manager that waits
    for them on leaving (and cancels what has not started, if an error is raised meanwhile).

    The years the cache lacks are indexed by `jobs` threads, each driving a Pagefind process,
    and the pages of the first `jobs` of them are linked for Pagefind (in the `mirror`, see
    `mirror_site`, or else in scratch folders) before the threads start, while the caller's
    other threads are not yet busy: in a thread beside a busy one, each of the hundreds of links
    a year takes waits for the interpreter, and Pagefind started many times later. The years the
    cache holds are opened by a thread of their own meanwhile, so that the caller can write their
    files (`cached`) while the others are indexed.
    """

    def __init__(self, pages_by_year: Mapping[int, Pages], cache_dir: Path | None,
                 language: str = "en", *, jobs: int = 1, refresh: bool = False,
                 mirror: Path | None = None, ahead: Mapping[int, IndexAhead] | None = None) -> None:
        """`ahead`: years whose indexing was started ahead of the pages' being written (see
        `IndexAhead`); each serves if the year's pages are those it indexes, and is waited for
        before anything else touches the year's folder of the mirror."""
        self.years = sorted(pages_by_year, reverse=True)
        self._pages, self._language = pages_by_year, language
        self._cache_dir, self._mirror = cache_dir, mirror
        self._entries: dict[int, Path | None] = {}
        self._scratches: dict[int, Path] = {}
        self._missing: list[int] = []
        taken: dict[int, Future[Bundle]] = {}
        self._clean_up = CleanUp()
        for year, started in (ahead or {}).items():
            if year not in pages_by_year:  # its folder of the mirror is about to go
                started.take(None, "", language)
        if mirror is not None:
            self._clean_up(prune_mirror, mirror, self.years)
        if self.years:
            self._pagefind = find_pagefind()
            self._version = pagefind_version(self._pagefind)
            for year in self.years:
                key = None if cache_dir is None else cache_key(pages_by_year[year], self._version, language)
                entry = self._entries[year] = None if cache_dir is None else cache_dir / f"{year}-{key}"
                early = (ahead or {}).get(year)
                if early is not None and (indexing := early.take(key, self._version, language)) is not None:
                    taken[year] = indexing
                    self._missing.append(year)
                    continue
                if refresh or entry is None or not entry.is_dir():
                    self._missing.append(year)
            try:
                for year in [year for year in self._missing if year not in taken][:max(1, jobs)]:
                    self._scratches[year] = self._site(year)
            except BaseException:
                self._remove_scratches()
                raise
        self._indexing = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="communique-search")
        self._opening = ThreadPoolExecutor(max_workers=1, thread_name_prefix="communique-search-cache")
        self._bundles = {year: taken.get(year) or self._indexing.submit(self._bundle, year, False)
                         for year in self._missing}
        self._bundles.update((year, self._opening.submit(self._bundle, year, True)) for year in self.years
                             if year not in self._bundles)

    def _site(self, year: int) -> Path:
        """The folder that holds the year's pages for Pagefind: the year's in the mirror, or a
        new scratch folder."""
        if self._mirror is not None:
            kept = mirror_site(self._pages[year], self._mirror / str(year))
            if kept is not None:
                return kept
        return scratch_site(self._pages[year], self._cache_dir)

    def _bundle(self, year: int, cached: bool) -> Bundle:
        scratch = self._scratches.pop(year, None)
        if scratch is None and not cached:
            scratch = self._site(year)
        return year_bundle(self._pagefind, self._version, self._pages[year], self._language,
                           self._entries[year], year, self._clean_up, cached=cached, scratch=scratch,
                           kept=scratch is not None and scratch.parent == self._mirror)

    def cached(self) -> SearchFiles:
        """The files of the years whose index the cache held, and the list of years."""
        return SearchFiles({year: future.result() for year, future in self._bundles.items()
                            if year not in self._missing}, self.years)

    def result(self) -> SearchFiles:
        """Every file of the search index."""
        return SearchFiles({year: future.result() for year, future in self._bundles.items()}, self.years)

    def _remove_scratches(self) -> None:
        for root in self._scratches.values():
            if root.parent != self._mirror:
                shutil.rmtree(root, ignore_errors=True)
        self._scratches.clear()

    def __enter__(self) -> SearchIndexing:
        return self

    def __exit__(self, *error: object) -> None:
        self._indexing.shutdown(wait=True, cancel_futures=True)
        self._opening.shutdown(wait=True, cancel_futures=True)
        self._remove_scratches()
        self._clean_up.wait()


class IndexAhead:
    """One year's index, started before the build lays out and writes the site: over the pages
    the build expects the year to have (the live site's, and the few it rendered at once, see
    `build.index_ahead`), linked into the year's folder of the `mirror` (see `mirror_site`).

    The build's `SearchIndexing` takes it (`take`) when the year's pages turn out to be exactly
    those, by their cache key; else it waits for it before touching the year's folder. A
    context manager that waits for it on leaving, and then drops the index from the cache if it
    was not taken: the cache holds only indexes of pages a build published."""

    def __init__(self, year: int, live: Mapping[str, tuple[str, bytes]], fresh: Mapping[str, bytes],
                 cache_dir: Path, language: str, mirror: Path) -> None:
        """`live`: the pages kept from the live site, by output path, with their file and the
        digest of their bytes; `fresh`: the pages rendered anew, with their bytes."""
        self.year = year
        self._cache_dir = cache_dir
        self._clean_up = CleanUp()
        self._future: Future[Bundle] | None = None
        self._taken = False
        pagefind = find_pagefind()
        self._version, self._language = pagefind_version(pagefind), language
        mirror.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".ahead-", dir=mirror))  # not a year's: see `prune_mirror`
        try:
            files = {path: file for path, (file, _) in live.items()}
            for number, (path, data) in enumerate(fresh.items()):
                files[path] = os.path.join(folder, f"{number}.html")
                Path(files[path]).write_bytes(data)
            digests = {path: digest for path, (_, digest) in live.items()}
            digests.update((path, bytes_digest(data)) for path, data in fresh.items())
            pages = PageFiles(sorted(files), lambda path: Path(files[path]).read_bytes(), files.__getitem__,
                              digests)
            self.key = cache_key(pages, self._version, language)
            self._entry = cache_dir / f"{year}-{self.key}"
            if self._entry.is_dir():
                return  # the build's indexing takes it from the cache
            site = mirror_site(pages, mirror / str(year))
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # the mirror holds links to the fresh pages
        if site is None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="communique-search-ahead")
        self._future = self._executor.submit(year_bundle, pagefind, self._version, pages, language,
                                             self._entry, year, self._clean_up, cached=False, scratch=site,
                                             kept=True, prune=False)

    def take(self, key: str | None, version: str, language: str) -> Future[Bundle] | None:
        """The indexing under way, if it is of the pages whose cache key is `key` (by the same
        Pagefind, for the same language); else None, once it has ended."""
        if self._future is None:
            return None
        if key == self.key and (version, language) == (self._version, self._language):
            self._taken = True
            # Once stored, the older entries of the year go, while the build goes on.
            self._future.add_done_callback(lambda _: self._clean_up(prune_cache, self._cache_dir, self.year))
            return self._future
        self._finish()
        return None

    def _finish(self) -> None:
        if self._future is not None:
            self._executor.shutdown(wait=True)
            if self._future.exception() is not None:
                log.info("search index of %s, indexed ahead: %s", self.year, self._future.exception())
        self._clean_up.wait()

    def __enter__(self) -> IndexAhead:
        return self

    def __exit__(self, *error: object) -> None:
        self._finish()
        if self._future is not None and not self._taken:
            shutil.rmtree(self._entry, ignore_errors=True)


class CleanUp:
    """Removals (`clean_up(remove, *args)`) done by threads of their own, so that the build
    need not wait for hundreds of files to go, until `wait` waits for them: the indexing ends
    with that, while the build still holds the output's lock. A removal asked for after that,
    or in another process than the one that made this (a process forked to write files, which
    ends as soon as it is done), is done at once."""

    def __init__(self) -> None:
        self._process = os.getpid()
        self._threads: list[threading.Thread] | None = []

    def __call__(self, remove: Callable[..., object], *args: object) -> None:
        if self._threads is None or os.getpid() != self._process:
            remove(*args)
            return
        thread = threading.Thread(target=remove, args=args, name="communique-search-cleanup")
        thread.start()
        self._threads.append(thread)

    def wait(self) -> None:
        """Wait for the removals under way; do any later one at once."""
        threads, self._threads = self._threads or [], None
        for thread in threads:
            thread.join()


def is_runtime(name: str) -> bool:
    """Whether a bundle file is Pagefind's program rather than index data.

    The browser runs the program of the index it loads first (the newest year's) and merges
    the other years' data into it, so the older years are written without it.
    """
    return name in ("pagefind.js", "pagefind-worker.js") or (name.startswith("wasm.") and "/" not in name)


def year_bundle(pagefind: Path, version: str, pages: Pages, language: str, entry: Path | None,
                year: int, clean_up: CleanUp, *, cached: bool = True, scratch: Path | None = None,
                kept: bool = False, prune: bool = True) -> Bundle:
    """One year's index: from the cache `entry` when it may be `cached` there and its files are,
    else built, from the pages in `scratch` if they are there already (see `scratch_site`; a
    folder of the mirror when `kept`, see `mirror_site`). Pagefind writes the bundle straight
    into the new cache entry's folder, so that its files are written once, and nothing of it is
    removed but what the search page does not use. Scratch folders and, if asked to `prune`,
    old cache entries are removed by `clean_up` (see `CleanUp`)."""
    def build(root: Path | None = None, disposable: bool = True) -> dict[str, bytes]:
        log.info("search index of %s: indexing %d page(s)", year, len(pages))
        root = root or scratch_site(pages, entry.parent if entry is not None else None)
        staging = new_cache_entry(entry) if entry is not None else None
        bundle_dir = (staging or root) / "bundle"
        if staging is None:  # Pagefind adds to a folder: none of a killed build's files may stay
            shutil.rmtree(bundle_dir, ignore_errors=True)
        try:
            bundle, settled = index_pages(pagefind, language, root, bundle_dir)
            if entry is not None and staging is not None and settled:
                staging = store_cache_entry(staging, entry, bundle)
        finally:
            if disposable:
                clean_up(shutil.rmtree, root, True)
            elif staging is None:
                clean_up(shutil.rmtree, bundle_dir, True)
            if staging is not None:
                clean_up(shutil.rmtree, staging, True)
        if entry is not None and prune:
            clean_up(prune_cache, entry.parent, year)
        return bundle

    if cached and entry is not None:
        digests = open_cache_entry(entry)
        if digests is not None:
            log.debug("search index of %s: cached", year)
            return Bundle({}, entry, digests, build)
    return Bundle(build(scratch, not kept))


def find_pagefind() -> Path:
    """The Pagefind program that the `pagefind[bin]` package installs (never a download)."""
    try:
        from pagefind.service import get_executable

        executable = get_executable()
    except (ImportError, FileNotFoundError):
        executable = None
    if executable is None or not executable.is_file():
        raise ContentError([Problem(SEARCH_DIR, None, None, "the search index needs Pagefind, which is not "
                                    "installed", "search", "pip install 'pagefind[bin]', or build with "
                                    "--no-search")])
    return executable


def pagefind_version(pagefind: Path) -> str:
    """`pagefind 1.5.2`: what the program says it is (part of the cache key)."""
    completed = _run([str(pagefind), "--version"], Path.cwd())
    return completed.stdout.strip()


def cache_key(pages: Mapping[str, bytes], version: str, language: str) -> str:
    """Digest of everything a year's index depends on: its pages, Pagefind and its options.

    A page counts by the digest of its bytes, which the build knows for the pages it has just
    written (so an unchanged year is found in the cache without reading its pages)."""
    known = pages.digests if isinstance(pages, PageFiles) else {}
    digest = hashlib.blake2b(CACHE_FORMAT, digest_size=20)
    for part in (version.encode(), language.encode(), EXCLUDED.encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    for path in sorted(pages):
        name = path.encode()
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(known.get(path) or bytes_digest(pages[path]))
    return digest.hexdigest()


SCRATCH_PREFIX = ".scratch-"
"""Names the scratch folders made in the search cache (see `scratch_site`)."""


def scratch_site(pages: Mapping[str, bytes], folder: Path | None = None) -> Path:
    """A scratch folder whose `site` holds the pages (hard links where they are files already),
    for Pagefind to index: in `folder` (the search cache, on the output's file system, where the
    links can be made; the system's temporary folder is often a file system in memory), or else
    in the system's temporary folder."""
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=folder))
    except OSError:
        root = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    locate = pages.locate if isinstance(pages, PageFiles) else None
    try:
        for path in sorted(pages):  # in the order of `mirror_site`, which Pagefind's index follows
            target = (root / "site").joinpath(*_relative_parts(path))
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if locate is None:
                    raise OSError("not a file")
                os.link(locate(path), target)  # Pagefind only reads its site folder
            except OSError:
                target.write_bytes(pages[path])
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def mirror_site(pages: Pages, root: Path) -> Path | None:
    """`root`, whose `site` folder is made to hold exactly the `pages`, as hard links to their
    files, for Pagefind to index: a link there already to the same file is kept, another one
    replaced. When the year's pages are not those the folder holds (a statement came, went or
    changed years), the folder is made again. Pagefind's index follows the order in which the
    file system lists the pages, which on some file systems (tmpfs) is the order they were
    linked in: they are always linked in the order of their paths, as `scratch_site` links them,
    so that the same pages give the same index however the folder came to hold them. None when
    a page is not a file, or the folder cannot be brought up to date (the caller makes a scratch
    folder instead).

    The mirror is kept from build to build (one per output folder, whose lock the build holds),
    so that indexing a year after an edit relinks the pages that changed, and removes nothing:
    the scratch folder of every year indexed, hundreds of folders removed as others were made,
    slowed the writing of the rest of the site, the file system searching past the freshly
    freed places for each new file."""
    locate = pages.locate if isinstance(pages, PageFiles) else None
    if locate is None:
        return None
    site = os.path.join(root, "site")
    try:
        wanted = {os.path.join(site, *_relative_parts(path)): locate(path) for path in sorted(pages)}
        held = {os.path.join(folder, name) for folder, _, names in os.walk(site) for name in names}
        if held != wanted.keys():
            shutil.rmtree(site, ignore_errors=True)
            if os.path.lexists(site):
                raise OSError(f"{site} could not be removed")
        for target, source in wanted.items():
            try:
                if os.path.samestat(os.stat(source), os.lstat(target)):
                    continue
                os.unlink(target)
            except FileNotFoundError:
                pass
            try:
                os.link(source, target)
            except FileNotFoundError:  # its folder is not there yet
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.link(source, target)
    except (OSError, ValueError) as error:
        # On another file system than the output, say: the scratch folder copies the pages instead.
        log.info("could not link the pages for Pagefind in %s (%s); using a scratch folder", root, error)
        shutil.rmtree(root, ignore_errors=True)
        return None
    return root


def prune_mirror(mirror: Path, years: Iterable[int]) -> None:
    """Remove the folders of the `mirror` that are no longer a year's (see `mirror_site`)."""
    names = {str(year) for year in years}
    with contextlib.suppress(OSError):
        for folder in mirror.iterdir():
            if folder.name not in names:
                shutil.rmtree(folder, ignore_errors=True)


def index_pages(pagefind: Path, language: str, scratch: Path, bundle: Path) -> tuple[dict[str, bytes], bool]:
    """Run Pagefind over the pages put in the `scratch` folder by `scratch_site` or
    `mirror_site`, writing to the folder `bundle`, and read its files back in canonical form
    (see `canonical_bundle`); and whether the folder was then made to hold exactly those (not
    on a full disk, say: it is then no cache entry to keep)."""
    run_pagefind(pagefind, scratch / "site", bundle, language, scratch)
    written = read_bundle(bundle)
    files = canonical_bundle({name: data for name, data in written.items() if data is not None})
    missing = [name for name in REQUIRED_FILES if name not in files]
    if missing:
        raise ContentError([Problem(SEARCH_DIR, None, None, "Pagefind wrote no " + ", ".join(missing),
                                    "search", "build with --no-search to skip the search index")])
    try:
        for name in written:
            if name not in files:
                bundle.joinpath(*_relative_parts(name)).unlink()
        for name, data in files.items():
            if written.get(name) != data:
                bundle.joinpath(*_relative_parts(name)).write_bytes(data)
    except OSError as error:
        log.warning("could not cache the search index in %s: %s", bundle, error)
        return files, False
    return files, True


def run_pagefind(pagefind: Path, site: Path, bundle: Path, language: str, cwd: Path) -> None:
    """Run Pagefind over `site`, writing its bundle to `bundle`.

    It runs in an empty folder and without `PAGEFIND_*` variables, so no configuration file or
    variable of the caller's changes the index behind the cache's back.
    """
    _run([str(pagefind), "--site", str(site), "--output-path", str(bundle),
          "--force-language", language.lower(), "--exclude-selectors", EXCLUDED, "--silent"], cwd)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PAGEFIND_")}
    try:
        completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                                   errors="replace", check=False, timeout=TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ContentError([Problem(SEARCH_DIR, None, None, f"Pagefind could not run: {error}", "search",
                                    "build with --no-search to skip the search index")]) from error
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise ContentError([Problem(SEARCH_DIR, None, None,
                                    f"Pagefind failed with status {completed.returncode}: "
                                    + " / ".join(output), "search",
                                    "build with --no-search to skip the search index")])
    return completed


def read_bundle(bundle: Path) -> dict[str, bytes | None]:
    """Every file of the bundle by name: the bytes of those the search page uses (the index, the
    script and its WebAssembly), None for the others."""
    entry = json.loads((bundle / "pagefind-entry.json").read_bytes())
    wasm = {f"wasm.{lang.get('wasm') or 'unknown'}.pagefind" for lang in entry["languages"].values()}
    files: dict[str, bytes | None] = {}
    for name, path in _files_below(bundle):
        unused = name.startswith(UNUSED_PREFIXES) or (name.startswith("wasm.") and name not in wasm)
        files[name] = None if unused else Path(path).read_bytes()
    return files


def _files_below(folder: Path) -> Iterator[tuple[str, str]]:
    """Every file below `folder`: its name there (with `/`) and its path."""
    root = str(folder)
    for below, _, names in os.walk(root):
        prefix = below[len(root) + 1:].replace(os.sep, "/")
        for name in names:
            yield (f"{prefix}/{name}" if prefix else name), os.path.join(below, name)


def open_cache_entry(entry: Path) -> dict[str, str] | None:
    """The files of a cached bundle with the digests of their bytes, when it holds exactly the
    files its manifest lists (each is checked against its digest when read, see `Bundle`); None
    (and the entry removed) when it is missing, incomplete or altered."""
    if not entry.is_dir():
        return None
    try:
        manifest = json.loads((entry / MANIFEST).read_bytes())
        if not isinstance(manifest, dict) or not all(isinstance(d, str) for d in manifest.values()):
            raise ValueError("its manifest is not a list of files")
        for name in manifest:
            _relative_parts(name)
        bundle = entry / "bundle"
        on_disk = {name for name, _ in _files_below(bundle)}
        if on_disk != manifest.keys() or any(name not in manifest for name in REQUIRED_FILES):
            raise ValueError("its files are not the ones its manifest lists")
        os.utime(entry)
    except (OSError, ValueError, AttributeError, TypeError) as error:
        log.warning("search cache entry %s is damaged (%s); indexing again", entry, error)
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return manifest


def new_cache_entry(entry: Path) -> Path | None:
    """A new folder beside the cache `entry` to fill and then rename to it (see
    `store_cache_entry`); None when the cache cannot be written, which only loses the cache."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    except OSError as error:
        log.warning("could not cache the search index in %s: %s", entry.parent, error)
        return None


def store_cache_entry(staging: Path, entry: Path, files: Mapping[str, bytes]) -> Path | None:
    """Make the folder `staging`, whose `bundle` holds exactly the `files`, the cache `entry`:
    its manifest written, then renamed into place at once. What is left to remove: `staging`
    when it could not be renamed (another build stored the same entry first, or the disk is
    full, which only loses the cache), else None."""
    manifest = {name: _digest(data) for name, data in sorted(files.items())}
    try:
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        staging.rename(entry)
    except OSError as error:
        if not entry.is_dir():
            log.warning("could not cache the search index in %s: %s", entry.parent, error)
        return staging
    return None


def prune_cache(cache_dir: Path, year: int) -> None:
    """Keep the most recently used entries of `year`; remove the others, and the staging and
    scratch folders that a killed build left behind."""
    entries: list[tuple[float, Path]] = []
    stale: list[Path] = []
    abandoned = time.time() - TIMEOUT_SECONDS
    try:
        for path in cache_dir.iterdir():
            if path.name.startswith(f"{year}-"):
                entries.append((path.stat().st_mtime, path))
            elif path.name.startswith((f".{year}-", SCRATCH_PREFIX)) and path.stat().st_mtime < abandoned:
                stale.append(path)
    except OSError:
        return
    entries.sort(reverse=True)
    for old in [path for _, path in entries[ENTRIES_KEPT:]] + stale:
        shutil.rmtree(old, ignore_errors=True)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def _relative_parts(name: str) -> tuple[str, ...]:
    """The parts of a relative path that stays inside its folder; ValueError otherwise."""
    parts = tuple(name.split("/"))  # a leading `/`, or two in a row, give an empty part
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a relative path inside the folder: {name!r}")
    return parts


# Pagefind 1.5 writes its filters in hash-map order, which changes from run to run: the same pages
# give filter files (and so a metadata file, and file names) that differ in order only. The
# functions below put the filter values and the list of filters in order and rename the files
# after their new contents, so that the same pages always give the same bytes (SPEC §5). They
# read just enough of Pagefind's CBOR to reorder it; anything else is left as Pagefind wrote it.

PAGEFIND_MAGIC = b"pagefind_dcd"
"""What every decompressed Pagefind data file starts with."""


def canonical_bundle(files: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle with its filters in order and its filter and metadata files named after it."""
    try:
        entry = json.loads(files["pagefind-entry.json"])
        files = dict(files)
        for language in entry["languages"].values():
            meta_name = f"pagefind.{language['hash']}.pf_meta"
            meta = _unpack(files.pop(meta_name))
            renamed: dict[str, str] = {}
            for filter_hash in _filter_hashes(meta):
                data = _sorted_filter(_unpack(files.pop(f"filter/{filter_hash}.pf_filter")))
                new_hash = _short_name(filter_hash, data, renamed.values())
                files[f"filter/{new_hash}.pf_filter"] = _pack(data)
                renamed[filter_hash] = new_hash
            meta = _sorted_meta_filters(meta, renamed)
            language["hash"] = _short_name(language["hash"], meta, ())
            files[f"pagefind.{language['hash']}.pf_meta"] = _pack(meta)
        files["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    except (KeyError, ValueError, IndexError, TypeError, EOFError, zlib.error) as error:
        raise ContentError([Problem(SEARCH_DIR, None, None, f"this Pagefind wrote an index communique cannot "
                                    f"read ({error!r})", "search", "install pagefind[bin] 1.5, or build "
                                    "with --no-search")]) from error
    return dict(sorted(files.items()))


def _unpack(data: bytes) -> bytes:
    payload = gzip.decompress(data)
    if not payload.startswith(PAGEFIND_MAGIC):
        raise ValueError("not a Pagefind data file")
    return payload[len(PAGEFIND_MAGIC):]


def _pack(cbor: bytes) -> bytes:
    return gzip.compress(PAGEFIND_MAGIC + cbor, compresslevel=9, mtime=0)


def _short_name(old: str, data: bytes, taken: Iterable[str]) -> str:
    """`en_1a2b3c4`: the language part of Pagefind's name, then a digest of the contents."""
    prefix, digest = old.rpartition("_")[0], hashlib.blake2b(data, digest_size=16).hexdigest()
    size = len(old) - len(prefix) - 1
    while f"{prefix}_{digest[:size]}" in taken:
        size += 1
    return f"{prefix}_{digest[:size]}"


def _filter_hashes(meta: bytes) -> list[str]:
    """The file names of the filters that the metadata lists: `[[name, hash], …]`, its 4th item."""
    start, _end = _cbor_array_items(meta, 0)[3]
    return [_cbor_text(meta, _cbor_array_items(meta, a)[1][0]) for a, _ in _cbor_array_items(meta, start)]


def _sorted_meta_filters(meta: bytes, renamed: Mapping[str, str]) -> bytes:
    """The metadata with its list of filters in name order, pointing at the renamed files."""
    start, end = _cbor_array_items(meta, 0)[3]
    pairs = []
    for item, _ in _cbor_array_items(meta, start):
        (name_at, _), (hash_at, _) = _cbor_array_items(meta, item)
        pairs.append((_cbor_text(meta, name_at), renamed[_cbor_text(meta, hash_at)]))
    encoded = _cbor_head(4, len(pairs)) + b"".join(
        _cbor_head(4, 2) + _cbor_string(name) + _cbor_string(hash_) for name, hash_ in sorted(pairs))
    return meta[:start] + encoded + meta[end:]


def _sorted_filter(data: bytes) -> bytes:
    """A filter file `[name, [[value, [page, …]], …]]` with its values in order."""
    major, count, name_at = _cbor_read_head(data, 0)
    if major != 4 or count != 2:
        raise ValueError("a filter is not a pair of a name and its values")
    items = _cbor_array_items(data, _cbor_end(data, name_at))
    if not items:
        return data

    def value(item: tuple[int, int]) -> bytes:  # the item's first element, right after its head
        major, _, first = _cbor_read_head(data, item[0])
        if major != 4:
            raise ValueError(f"expected a CBOR array at byte {item[0]}")
        return _cbor_text(data, first).encode()

    ordered = b"".join(data[start:end] for start, end in sorted(items, key=value))
    return data[:items[0][0]] + ordered + data[items[-1][1]:]


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError("CBOR value too large")


def _cbor_string(text: str) -> bytes:
    data = text.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_read_head(data: bytes, at: int) -> tuple[int, int, int]:
    """(major type, argument, where the content starts) of the item at `at`."""
    major, info = data[at] >> 5, data[at] & 31
    if info < 24:
        return major, info, at + 1
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None or at + 1 + size > len(data):
        raise ValueError(f"unexpected CBOR at byte {at}")
    return major, int.from_bytes(data[at + 1:at + 1 + size], "big"), at + 1 + size


def _cbor_end(data: bytes, at: int) -> int:
    """Where the item at `at` ends."""
    major, value, at = _cbor_read_head(data, at)
    if major in (2, 3):
        at += value
    elif major in (4, 5):
        for _ in range(value * (2 if major == 5 else 1)):
            first = data[at]
            if first < 0x1c:  # an unsigned integer (a filter's page numbers): its head is all of it
                at += 1 if first < 0x18 else 1 + (1 << (first - 0x18))
            elif 0x60 <= first < 0x78:  # a short text (a value, a page's name): one byte, then it
                at += 1 + first - 0x60
            else:
                at = _cbor_end(data, at)
    elif major == 6:
        at = _cbor_end(data, at)
    if at > len(data):
        raise ValueError("truncated CBOR")
    return at


def _cbor_array_items(data: bytes, at: int) -> list[tuple[int, int]]:
    """(start, end) of each item of the array at `at`; the last end is where the array ends."""
    major, count, at = _cbor_read_head(data, at)
    if major != 4:
        raise ValueError(f"expected a CBOR array at byte {at}")
    items = []
    for _ in range(count):
        end = _cbor_end(data, at)
        items.append((at, end))
        at = end
    return items


def _cbor_text(data: bytes, at: int) -> str:
    major, size, at = _cbor_read_head(data, at)
    if major != 3:
        raise ValueError(f"expected a CBOR text at byte {at}")
    return data[at:at + size].decode()
