"""Countries (ISO 3166 through pycountry) and organisations, resolved from what editors write."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pycountry
import yaml

from .frontmatter import Node, decode_text, describe_hidden, hidden_characters, parse_yaml
from .models import Entity
from .problems import Problem, did_you_mean
from .slugs import ID_PATTERN, slugify

COUNTRIES_FILE = "countries.yaml"
ORGANISATIONS_FILE = "organisations.yaml"


@dataclass(slots=True)
class Registry:
    """Every known entity and the names that lead to it."""

    by_id: dict[str, Entity] = field(default_factory=dict)
    """Entities by id (`IT`, `european-union`)."""
    codes: dict[str, str] = field(default_factory=dict)
    """Upper-case ISO alpha-2 and alpha-3 codes to ids: tried first."""
    names: dict[str, str] = field(default_factory=dict)
    """Case-folded names, aliases and organisation ids to ids."""

    def add(self, entity: Entity, names: list[str]) -> None:
        """Register (or replace) an entity under its id, name and extra names."""
        self.by_id[entity.id] = entity
        if entity.kind == "country":
            self.codes[entity.id] = entity.id
            if entity.alpha3:
                self.codes[entity.alpha3] = entity.id
        for name in [entity.id, entity.name, *names]:
            self.names[name.casefold()] = entity.id

    def resolve(self, text: str) -> Entity | None:
        """The entity a code or name stands for, or None."""
        key = text.strip()
        if key in self.codes:
            return self.by_id[self.codes[key]]
        found = self.names.get(key.casefold())
        return self.by_id[found] if found else None

    def suggest(self, text: str) -> str | None:
        """A "did you mean" hint with the display names closest to `text`."""
        display = {name: self.by_id[eid].name for name, eid in self.names.items()}
        hint = did_you_mean(text.casefold(), display, cutoff=0.7, n=3)
        if hint is None:
            return None
        close = [display[name] for name in _quoted(hint)]
        unique = list(dict.fromkeys(close))
        return "did you mean " + " or ".join(unique) + "?"


def _quoted(hint: str) -> list[str]:
    return hint.split("'")[1::2]


@lru_cache(maxsize=1)
def _builtin() -> Registry:
    registry = Registry()
    data = resources.files("communique") / "data"
    display = yaml.load((data / "display_names.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader)
    aliases = yaml.load((data / "country_aliases.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader)
    for country in pycountry.countries:
        code = country.alpha_2
        name = display.get(code) or getattr(country, "common_name", None) or country.name
        extra = [country.name, getattr(country, "official_name", "") or "",
                 getattr(country, "common_name", "") or "", *aliases.get(code, [])]
        entity = Entity(code, "country", name, slugify(name), country.alpha_3)
        registry.add(entity, [n for n in extra if n])
    orgs = yaml.load((data / "organisations.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader)
    for org_id, spec in orgs.items():
        entity = Entity(org_id, "organisation", spec["name"], slugify(spec["name"]))
        registry.add(entity, list(spec.get("aliases", [])))
    return registry


def load_registry(content: Path, shown: str) -> tuple[Registry, list[Problem]]:
    """The built-in entities with the site's `countries.yaml` and `organisations.yaml` applied."""
    base = _builtin()
    registry = Registry(dict(base.by_id), dict(base.codes), dict(base.names))
    problems: list[Problem] = []
    for filename, apply in ((COUNTRIES_FILE, _apply_country), (ORGANISATIONS_FILE, _apply_org)):
        file = content / filename
        if not file.is_file():
            continue
        path = f"{shown}/{filename}"
        text, found = decode_text(path, file.read_bytes())
        problems += found
        if text is None:
            continue
        root, found = parse_yaml(path, text, first_line=1)
        problems += found
        if root is None:
            continue
        for key, (key_node, value) in root.entries.items():
            problems += apply(registry, path, key, key_node, value)
    return registry, problems


def _entry_fields(path: str, value: Node) -> tuple[str | None, list[str], list[Problem]]:
    """Read `{name: …, aliases: […]}`."""
    problems: list[Problem] = []
    if value.kind != "mapping":
        return None, [], [Problem(path, value.line, value.column,
                                  f"expected a mapping with 'name' and 'aliases', found {value.describe()}")]
    name: str | None = None
    aliases: list[str] = []
    for key, (key_node, item) in value.entries.items():
        if key == "name" and item.kind == "scalar" and item.text.strip():
            name = item.text.strip()
            hidden = hidden_characters(name)
            if hidden or not slugify(name):
                problems.append(Problem(path, item.line, item.column,
                                        f"'name' contains invisible or control characters "
                                        f"({describe_hidden(hidden)})" if hidden else
                                        f"'name' needs a letter or a digit: it names a page; found {name!r}",
                                        field="name"))
        elif key == "aliases" and item.kind == "sequence" and all(
            i.kind == "scalar" for i in item.items
        ):
            aliases = [i.text.strip() for i in item.items]
        elif key in ("name", "aliases"):
            problems.append(Problem(path, item.line, item.column,
                                    f"'{key}' must be {'text' if key == 'name' else 'a list of names'},"
                                    f" found {item.describe()}", field=key))
        else:
            problems.append(Problem(path, key_node.line, key_node.column, f"unknown key '{key}'",
                                    field=key, hint=did_you_mean(key, ["name", "aliases"])
                                    or "the keys are 'name' and 'aliases'"))
    return name, aliases, problems


def _apply_country(registry: Registry, path: str, key: str, key_node: Node, value: Node) -> list[Problem]:
    code = key.strip()
    if not (len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()):
        return [Problem(path, key_node.line, key_node.column,
                        f"expected a two-letter upper-case country code, found {code!r}",
                        hint="use the ISO 3166-1 alpha-2 code, or a user-assigned one such as XK")]
    name, aliases, problems = _entry_fields(path, value)
    existing = registry.by_id.get(code)
    if existing is None and name is None:
        problems.append(Problem(path, key_node.line, key_node.column,
                                f"country {code} is not in ISO 3166, so it needs a 'name'", field="name"))
        return problems
    entity = (replace(existing, name=name or existing.name, slug=slugify(name or existing.name))
              if existing else Entity(code, "country", name or code, slugify(name or code)))
    registry.add(entity, aliases)
    return problems


def _apply_org(registry: Registry, path: str, key: str, key_node: Node, value: Node) -> list[Problem]:
    if not ID_PATTERN.fullmatch(key):
        return [Problem(path, key_node.line, key_node.column,
                        f"expected an organisation id of lowercase a-z, 0-9 and hyphens, found {key!r}",
                        hint=f"try '{slugify(key)}'")]
    name, aliases, problems = _entry_fields(path, value)
    existing = registry.by_id.get(key)
    if name is None and existing is None:
        problems.append(Problem(path, key_node.line, key_node.column,
                                f"organisation '{key}' needs a 'name'", field="name"))
        return problems
    display = name or (existing.name if existing else key)
    registry.add(Entity(key, "organisation", display, slugify(display)), aliases)
    return problems
