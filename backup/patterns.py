"""restic's path patterns (--exclude, --iexclude, --include, --exclude-file, restore filters).

The rules, as restic's `filter` package has them:
- a pattern is split at `/` into parts, each matched against one path component with Go's
  filepath.Match (`*`, `?`, `[a-z]`, `[^a]`, `\\` escapes; never across `/`);
- a pattern starting with `/` is anchored at the root; any other pattern matches a run of
  consecutive components anywhere (`cache/tmp` matches `/srv/x/cache/tmp`);
- a pattern matches a path when it matches the path's first components, so a matched
  directory covers everything below it;
- `**` stands for any number of components (also none);
- a pattern starting with `!` takes back earlier matches; the last matching pattern wins;
- the case-insensitive variants lower-case pattern and path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_SPECIAL = re.compile(r"[\\\[\]*?]")


class PatternError(ValueError):
    pass


def _translate(part: str) -> re.Pattern[str]:
    """Go's filepath.Match for one component, as a regular expression."""
    out: list[str] = []
    i = 0
    while i < len(part):
        ch = part[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i + 1 == len(part):
                raise PatternError(f"{part!r}: trailing backslash")
            i += 1
            out.append(re.escape(part[i]))
        elif ch == "[":
            j = i + 1
            cls = ["["]
            if j < len(part) and part[j] == "^":
                cls.append("^")
                j += 1
            first = True
            while True:
                if j >= len(part):
                    raise PatternError(f"{part!r}: unterminated character class")
                c = part[j]
                if c == "]" and not first:
                    break
                first = False
                if c == "\\":
                    j += 1
                    if j >= len(part):
                        raise PatternError(f"{part!r}: trailing backslash")
                    c = part[j]
                cls.append(re.escape(c))
                if j + 2 < len(part) and part[j + 1] == "-" and part[j + 2] != "]":
                    hi = part[j + 2]
                    if hi == "\\":
                        j += 1
                        hi = part[j + 2] if j + 2 < len(part) else ""
                    if not hi or hi < c:
                        raise PatternError(f"{part!r}: bad range in character class")
                    cls.append("-" + re.escape(hi))
                    j += 2
                j += 1
            cls.append("]")
            out.append("".join(cls))
            i = j
        elif ch == "]":
            raise PatternError(f"{part!r}: unmatched ]")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("(?s:" + "".join(out) + r")\Z")


def _split(path: str) -> list[str]:
    parts = path.split("/")
    if parts[0] == "":
        parts[0] = "/"
    return parts


@dataclass(frozen=True)
class _Part:
    text: str  # "/" for the root of an anchored pattern, "" for `**`
    regex: re.Pattern[str] | None  # None: compare literally

    def matches(self, component: str) -> bool:
        if self.regex is None:
            return self.text == component
        return self.regex.match(component) is not None


@dataclass(frozen=True)
class Pattern:
    original: str
    parts: tuple[_Part, ...]
    negated: bool

    @classmethod
    def parse(cls, text: str) -> Pattern:
        negated = text.startswith("!")
        body = text[1:] if negated else text
        parts = []
        for p in _split(_clean(body)):
            if p == "**":
                parts.append(_Part("", None))
            elif _SPECIAL.search(p):
                parts.append(_Part(p, _translate(p)))
            else:
                parts.append(_Part(p, None))
        return cls(text, tuple(parts), negated)

    def _star(self) -> int | None:
        for i, part in enumerate(self.parts):
            if part.text == "" and part.regex is None:
                return i
        return None

    def match(self, comps: list[str]) -> bool:
        return _match(self.parts, comps)

    def child_may_match(self, comps: list[str]) -> bool:
        if self.parts[0].text != "/":
            return True
        star = self._star()
        if star is not None and len(comps) >= star:
            comps = comps[:star]
        n = min(len(comps), len(self.parts))
        return _match(self.parts[:n], comps)


_ANY = _Part("*", re.compile(r"(?s:[^/]*)\Z"))


def _match(parts: tuple[_Part, ...], comps: list[str]) -> bool:
    star = next((i for i, p in enumerate(parts) if p.text == "" and p.regex is None), None)
    if star is not None:
        # `**` becomes zero, one, two... `*` components
        for extra in range(len(comps) - len(parts) + 2):
            expanded = parts[:star] + (_ANY,) * extra + parts[star + 1 :]
            if _match(expanded, comps):
                return True
        return False
    if not parts:
        return not comps
    if len(parts) > len(comps):
        return False
    low, high = 0, len(comps) - len(parts)
    if parts[0].text == "/":
        high = 0
    elif comps[0] == "/":
        low = 1
    for offset in range(high, low - 1, -1):
        if all(parts[i].matches(comps[offset + i]) for i in range(len(parts) - 1, -1, -1)):
            return True
    return False


def _clean(path: str) -> str:
    # Go's filepath.Clean: "" → ".", no trailing slash, no "." or "x/.." components
    cleaned = os.path.normpath(path) if path else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


@lru_cache(maxsize=1024)
def _components(path: str) -> tuple[str, ...]:
    return tuple(_split(path))


class Matcher:
    """A list of patterns; `matches(path)` is restic's filter.List, `match_with_child` its
    ListWithChild (also: may something below this path match?)."""

    def __init__(self, patterns: Iterable[str], ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        texts = [p.lower() if ignore_case else p for p in patterns if p]
        self.patterns = [Pattern.parse(p) for p in texts]
        self.has_negation = any(p.negated for p in self.patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def match_with_child(self, path: str) -> tuple[bool, bool]:
        if not self.patterns:
            return False, False
        comps = list(_components(path.lower() if self.ignore_case else path))
        matched = child = False
        for pat in self.patterns:
            m = pat.match(comps)
            if pat.negated:
                matched = matched and not m
                child = child and not m
            else:
                matched = matched or m
                child = child or pat.child_may_match(comps)
                if matched and child and not self.has_negation:
                    break
        return matched, child

    def matches(self, path: str) -> bool:
        if not self.patterns:
            return False
        comps = list(_components(path.lower() if self.ignore_case else path))
        matched = False
        for pat in self.patterns:
            m = pat.match(comps)
            if pat.negated:
                matched = matched and not m
            else:
                matched = matched or m
                if matched and not self.has_negation:
                    break
        return matched


def validate(patterns: Iterable[str]) -> None:
    """Raise PatternError naming the first malformed pattern (restic refuses those too)."""
    for text in patterns:
        if text:
            try:
                Pattern.parse(text)
            except PatternError as e:
                raise PatternError(f"invalid pattern {text!r}: {e}") from None


def read_pattern_file(path: str) -> list[str]:
    """restic's --exclude-file: one pattern per line, `#` comments and blank lines skipped,
    surrounding spaces trimmed, $VARIABLES expanded."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(os.path.expandvars(line))
    return out
