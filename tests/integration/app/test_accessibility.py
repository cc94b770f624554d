"""Every form control on every page has a label (explicit for=, or wrapping), every page has
one <main>, a language and a title: the checks a screen-reader user depends on first."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from app_support.client import BASE, signed_in
from fastapi.testclient import TestClient


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, dict[str, str]]] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.wrapped: set[int] = set()
        self.mains = 0
        self.lang = ""
        self.title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "title":
            self.title = True
        elif tag == "main":
            self.mains += 1
        elif tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            if self.open_labels:
                self.wrapped.add(len(self.controls))
            self.controls.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self) -> list[str]:
        return [
            f"<{tag} name={a.get('name')}>"
            for i, (tag, a) in enumerate(self.controls)
            if i not in self.wrapped
            and a.get("id") not in self.label_for
            and not a.get("aria-label")
        ]


PAGES = {
    "anonymous": ["/sign-in", "/forgot-password", "/reset-password?token=x"],
    "admin": ["/home", "/projects", "/projects/{w.project}", "/files/{w.file}", "/invoices",
              "/invoices/{w.draft_invoice}", "/admin/users", "/account"],
    "client": ["/home", "/files/{w.file}", "/invoices/{w.sent_invoice}"],
}  # fmt: skip


@pytest.mark.parametrize("role", list(PAGES))
def test_pages_are_labelled(app, world, role):
    client = (
        TestClient(app, base_url=BASE)
        if role == "anonymous"
        else signed_in(app, f"{role}@studio.test")
    )
    for template in PAGES[role]:
        path = template.format(w=world)
        response = client.get(path)
        assert response.status_code == 200, path
        audit = Audit()
        audit.feed(response.text)
        assert audit.unlabelled() == [], path
        assert audit.mains == 1 and audit.lang == "en" and audit.title, path
