"""The knowledge base's text search and the wrap-up's rules. Pure: no I/O, no clock.

Search is PostgreSQL full-text search with the ``simple`` configuration (lowercase, no
stemming, no stop words) over text segmented here, because the embedded PostgreSQL the
tests and the demo use has neither zhparser nor pg_trgm, and PostgreSQL's own parser
takes a run of Chinese characters as one word ("如何办理信用卡挂失" would be found only
by exactly that). Each run of CJK characters is cut by jieba in search mode (every word,
and the dictionary's shorter words inside long ones: 信用卡 gives 信用 and 信用卡), and
followed by its characters one by one, adjacent, so a query word jieba cuts differently
still matches as a phrase of characters (``挂 <-> 失``). Other text is lowercase words of
letters and digits. A query is the same segmentation, every word required (AND), ranked
with ts_rank; punctuation (tsquery's ``& | ! ( ) : *`` among it) is never syntax, only a
separator.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import jieba

jieba.setLogLevel(logging.WARNING)  # it announces loading its dictionary on stderr at INFO

# CJK unified ideographs (with extension A and the compatibility block), kana and hangul:
# text without spaces between words, which only a dictionary can cut.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_RUN = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
_CJK_RUN = re.compile(f"[{_CJK}]+")
PREFIX_FROM = 3  # a Latin query word this long also finds longer words (one letter: every word)
MAX_QUERY_TERMS = 16  # more words than anyone types in a search box: the rest are ignored


def document_tokens(text: str) -> list[str]:
    """The words a text is found by, in order (as the tsvector's positions)."""
    out: list[str] = []
    for m in _RUN.finditer(text):
        cjk, word = m.group(1), m.group(2)
        if cjk:
            out += [w for w in jieba.cut_for_search(cjk) if w.strip()]
            if len(cjk) > 1:
                out += list(cjk)  # adjacent, for the phrase fallback
        else:
            out.append(word.lower())
    return out


def document(text: str) -> str:
    """The segmented text to give ``to_tsvector('simple', ...)``: tokens separated by spaces
    (each a run of letters, digits or CJK characters: the parser keeps each whole)."""
    return " ".join(document_tokens(text))


@dataclass(frozen=True)
class Term:
    """One word of a query: ``word`` as a lexeme, or (CJK of 2+ characters) the phrase of
    its characters ``chars``; ``prefix``: a Latin word of PREFIX_FROM letters or more also
    finds longer words it starts (refund finds refunds: 'simple' does not stem)."""

    word: str
    chars: str = ""  # space-separated characters, for phraseto_tsquery
    prefix: bool = False


def query_terms(query: str) -> list[Term]:
    """The words of what was typed in the search box, each required. Jieba's precise mode
    (not search mode) here: a query word is a whole word, and the document has it whole
    or as a phrase of its characters."""
    terms: list[Term] = []
    seen: set[str] = set()
    for m in _RUN.finditer(query):
        cjk, word = m.group(1), m.group(2)
        if cjk:
            for w in jieba.cut(cjk):
                if w.strip() and w not in seen:
                    seen.add(w)
                    terms.append(Term(w, " ".join(w) if len(w) > 1 else ""))
        elif word.lower() not in seen:
            seen.add(word.lower())
            terms.append(Term(word.lower(), prefix=len(word) >= PREFIX_FROM))
    return terms[:MAX_QUERY_TERMS]


def tsquery_sql(terms: list[Term]) -> tuple[str, list[str]]:
    """The SQL of the tsquery for ``terms`` and its parameters. Every user word goes in as a
    parameter of plainto_tsquery or phraseto_tsquery (which read no operators); a prefix
    match is a lexeme of letters and digits only (``_RUN`` made it so), quoted."""
    parts: list[str] = []
    params: list[str] = []
    for term in terms:
        if term.prefix:
            parts.append("to_tsquery('simple', %s)")
            params.append(f"'{term.word}':*")
        elif term.chars:
            parts.append("(plainto_tsquery('simple', %s) || phraseto_tsquery('simple', %s))")
            params += [term.word, term.chars]
        else:
            parts.append("plainto_tsquery('simple', %s)")
            params.append(term.word)
    return " && ".join(parts), params


def search_text(title: str, tags: list[str], body: str) -> tuple[str, str, str]:
    """An article's title, tags and body segmented (weighted A, A, B in the tsvector)."""
    return document(title), document(" ".join(tags)), document(body)


def has_cjk(text: str) -> bool:
    return _CJK_RUN.search(text) is not None


# --- wrap-up ------------------------------------------------------------------------------

# The codes a tenant that has defined none picks from (the console shows them in the
# user's language by code; the label here is the API's and the timeline's).
DEFAULT_CODES: tuple[tuple[str, str], ...] = (
    ("resolved", "Resolved"),
    ("follow_up", "Follow-up needed"),
    ("callback", "Callback promised"),
    ("escalated", "Escalated"),
    ("wrong_number", "Wrong number"),
)


def codes_for(defined: list[dict[str, object]], queue: str | None) -> list[dict[str, object]]:
    """The codes an agent picks from for a call of ``queue`` (None: any queue's): the
    tenant's that apply to every queue or name this one, in their order; the defaults when
    none does (a tenant that has defined none, or only other queues'), so that a call
    always has codes to give it (a required disposition must be possible)."""
    out = []
    for row in defined:
        queues = row.get("queues") or []
        if queue is None or not queues or queue in queues:  # type: ignore[operator]
            out.append({**row, "default": False})
    return out or [{"code": c, "label": label, "queues": [], "position": i, "default": True}
                   for i, (c, label) in enumerate(DEFAULT_CODES)]  # fmt: skip
