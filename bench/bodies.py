"""Statement bodies of about 400 words: paragraphs, a list, sometimes a table, a heading, a footnote."""

from __future__ import annotations

import random

from vocabulary import (
    FRENCH_OBJECTS,
    FRENCH_SUBJECTS,
    FRENCH_TAILS,
    FRENCH_VERBS,
    HEADINGS,
    LIST_ITEMS,
    OBJECTS,
    REGIONS,
    SUBJECT_PHRASES,
    TABLE_HEADERS,
    TAILS,
    VERBS,
)

BODY_WORDS = 400
"""About how many words a body has on average."""
PARAGRAPH_WORDS = 310
"""Paragraphs stop once they reach this; the list, table and last paragraph make up the rest."""


def english_body(rng: random.Random, topics: tuple[str, ...], partners: tuple[str, ...]) -> str:
    """A Markdown body on `topics`, naming `partners` (display names) in its table."""
    blocks: list[str] = []
    words = 0
    has_footnote = rng.random() < 0.2
    while words < PARAGRAPH_WORDS:
        paragraph = _paragraph(rng, topics)
        if has_footnote and len(blocks) == 1:
            paragraph += "[^1]"
        blocks.append(paragraph)
        words += len(paragraph.split())
        if len(blocks) == 2:
            blocks.append(_bullet_list(rng, topics))
        elif len(blocks) == 4 and rng.random() < 0.6:
            blocks.append(_table(rng, topics, partners))
        elif len(blocks) == 6 and rng.random() < 0.4:
            blocks.append(f"## {rng.choice(HEADINGS)}")
    if has_footnote:
        blocks.append("[^1]: Figures are indicative and subject to national procedures.")
    return "\n\n".join(blocks) + "\n"


def french_body(rng: random.Random) -> str:
    """A French body of about the same length, for translations."""
    paragraphs: list[str] = []
    words = 0
    while words < PARAGRAPH_WORDS:
        paragraph = " ".join(_french_sentence(rng) for _ in range(rng.randint(3, 5)))
        paragraphs.append(paragraph)
        words += len(paragraph.split())
    return "\n\n".join(paragraphs) + "\n"


def _words(topic: str) -> str:
    return topic.replace("-", " ")


def _sentence(rng: random.Random, topics: tuple[str, ...]) -> str:
    thing = rng.choice(OBJECTS).format(topic=_words(rng.choice(topics)))
    tail = rng.choice(TAILS).format(region=rng.choice(REGIONS))
    return f"{rng.choice(SUBJECT_PHRASES)} {rng.choice(VERBS)} {thing}{tail}."


def _paragraph(rng: random.Random, topics: tuple[str, ...]) -> str:
    return " ".join(_sentence(rng, topics) for _ in range(rng.randint(3, 5)))


def _bullet_list(rng: random.Random, topics: tuple[str, ...]) -> str:
    marker = "1." if rng.random() < 0.3 else "-"
    items = [item.format(topic=_words(rng.choice(topics)), region=rng.choice(REGIONS))
             for item in rng.sample(LIST_ITEMS, rng.randint(3, 6))]
    lines = [f"{marker} {item};" for item in items]
    return "Participants agreed to:\n\n" + "\n".join(lines)


def _table(rng: random.Random, topics: tuple[str, ...], partners: tuple[str, ...]) -> str:
    rows = ["| " + " | ".join(TABLE_HEADERS) + " |", "| --- | --- | ---: | ---: |"]
    for _ in range(rng.randint(3, 6)):
        cells = (_words(rng.choice(topics)).capitalize(), rng.choice(partners),
                 str(rng.randint(1, 900)), str(rng.randint(2000, 2030)))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _french_sentence(rng: random.Random) -> str:
    return (f"{rng.choice(FRENCH_SUBJECTS)} {rng.choice(FRENCH_VERBS)} "
            f"{rng.choice(FRENCH_OBJECTS)}{rng.choice(FRENCH_TAILS)}.")
