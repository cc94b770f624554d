"""Plain-text and HTML bodies from app/templates/mail/<kind>.{txt,html}."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
# HTML escaped, text not; a missing variable is a bug, not an empty line in someone's inbox
_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def compose(kind: str, subject: str, **context: Any) -> Composed:
    values = {"subject": subject, **context}
    return Composed(
        subject=subject,
        text=_env.get_template(f"{kind}.txt").render(values),
        html=_env.get_template(f"{kind}.html").render(values),
    )
