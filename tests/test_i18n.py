"""The theme's words come from message catalogs: every string, in every shipped language."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from communique import theme
from communique.config import load_site
from communique.i18n import Pretranslate, locales_dir, translations, ui_languages
from communique.models import STATEMENT_TYPES
from tests.conftest import FULL_SITE, NOW, ROOT, Result
from tests.htmltools import parse_page

ARABIC_SITE = ROOT / "tests" / "sites" / "arabic"
SHIPPED = {"en", "fr", "es", "it", "de", "ar"}


def template_messages() -> set[str | tuple[str, str]]:
    """Every message the default theme asks to translate, plus the words it translates by value."""
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "templates"),
        method_map=[("**.html", "jinja2.ext:babel_extract"), ("**.xml", "jinja2.ext:babel_extract")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(message if isinstance(message, str) else tuple(message))  # type: ignore[arg-type]
    return found | set(STATEMENT_TYPES.values())


def test_the_shipped_languages() -> None:
    assert ui_languages() == SHIPPED


@pytest.mark.parametrize("lang", sorted(SHIPPED - {"en"}))
def test_every_string_is_translated(lang: str) -> None:
    with (locales_dir() / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    wanted = template_messages()
    assert len(wanted) > 100
    missing = []
    for message in wanted:
        entry = catalog.get(message[0] if isinstance(message, tuple) else message)
        if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            missing.append(message)
    assert not missing, f"{lang} lacks {len(missing)}: {missing[:5]}"
    assert translations(lang).gettext("Skip to main content") != "Skip to main content"


def test_arabic_site_is_right_to_left(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(ARABIC_SITE, tmp_path / "content")
    assert cli("build", "--now", NOW, "--quiet").status == 0
    site = tmp_path / "_site"
    for page in site.rglob("*.html"):
        if page.parent.name.endswith("-en"):
            continue  # the English translation, below
        parsed = parse_page(page)
        assert parsed.find("html", lang="ar", dir="rtl"), page
    home = parse_page(site / "index.html")
    assert "انتقل إلى المحتوى الرئيسي" in home.text  # "Skip to main content"
    assert "أحدث البيانات" in home.text  # "Latest statements"
    statement = parse_page(site / "statements/2024-05-20-gulf-dialogue/index.html")
    assert "20 مايو 2024" in statement.text  # the date, in Arabic
    english = parse_page(site / "statements/2024-05-20-gulf-dialogue-en/index.html")
    assert english.find("html", lang="en", dir="ltr")  # a page in English has English words
    assert "Skip to main content" in english.text and "Issued by" in english.text


@pytest.mark.parametrize(("lang", "words"), [
    ("fr", ["Aller au contenu principal", "Dernières déclarations", "Par réunion"]),
    ("es", ["Ir al contenido principal", "Últimas declaraciones", "Por reunión"]),
    ("de", ["Zum Hauptinhalt springen", "Neueste Erklärungen", "Nach Treffen"]),
    ("it", ["Vai al contenuto principale", "Ultime dichiarazioni", "Per riunione"]),
])
def test_site_language_picks_the_catalog(cli: Callable[..., Result], tmp_path: Path, lang: str,
                                         words: list[str]) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    site_yaml = tmp_path / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("language: en", f"language: {lang}"))
    assert cli("build", "--now", NOW, "--quiet").status == 0
    home = parse_page(tmp_path / "_site/index.html")
    assert home.find("html", lang=lang)
    for word in words:
        assert word in home.text


def test_any_placeholder_name_is_a_variable() -> None:
    site, _ = load_site(FULL_SITE, "content")
    assert site is not None
    env = theme.make_environment(site, theme.theme_dirs(site, FULL_SITE), "fr")
    template = env.from_string('{{ _("%(string)s, %(eval_ctx)s", string="<b>", eval_ctx=1) }} '
                               '{{ _("Home") }}')
    assert template.render() == "&lt;b&gt;, 1 Accueil"


@pytest.mark.parametrize("lang", sorted(ui_languages() | {"en"}))
def test_words_translated_at_compile_time_match_gettext(lang: str, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    """`Pretranslate`, and `_` in one call, give every page the bytes the i18n extension's
    gettext gives."""
    def build(output: Path) -> dict[str, bytes]:
        from communique.cli import main

        assert main(["build", "--content", str(content), "--output", str(output), "--now", NOW,
                     "--quiet", "--no-search", "--jobs", "1"]) == 0
        return {str(p.relative_to(output)): p.read_bytes() for p in output.rglob("*") if p.is_file()}

    content = tmp_path / "content"
    shutil.copytree(FULL_SITE, content)
    site_yaml = content / "site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("language: en", f"language: {lang}"))
    compiled = build(tmp_path / "compiled")
    monkeypatch.setattr(Pretranslate, "filter_stream", lambda self, stream: stream)
    at_render = build(tmp_path / "rendered")
    assert compiled == at_render
    monkeypatch.setattr(theme, "direct_gettext", lambda env, catalog: None)
    assert build(tmp_path / "jinja") == compiled
    assert any(b"<nav" in page for page in compiled.values())
