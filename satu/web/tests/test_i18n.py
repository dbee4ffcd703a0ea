"""Indonesian is shipped: the catalogue is complete, compiled, and used by the
screens and the API for a user who chose it."""

import ast
import gettext
import json
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client as HttpClient

from satu.core.testing.helpers import make_user
from satu.parties.models import Client
from satu.parties.tests.factories import ClientFactory

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO_FILE = LOCALE_DIR / "id" / "LC_MESSAGES" / "django.po"
MO_FILE = LOCALE_DIR / "id" / "LC_MESSAGES" / "django.mo"
ENTRY_LINE = re.compile(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w*\}")
# Same exclusions as the documented `makemessages` call.
MAKEMESSAGES_IGNORE = [".venv/*", "tests/*", "*/tests/*", "var/*", "node_modules/*"]


def parse_po(path: Path) -> list[dict]:
    """The entries of a PO file: flags, msgctxt, msgid, msgid_plural, msgstr.

    Obsolete (`#~`) entries are skipped; msgstr is a dict keyed by plural
    index (None for a singular entry).
    """
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip() or line.startswith("#~"):
            if entry and "msgid" in entry:
                entries.append(entry)
            entry = None if not line.strip() else entry
            continue
        entry = entry or {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif m := ENTRY_LINE.match(line):
            keyword, index, text = m.groups()
            if keyword == "msgstr":
                field = ("msgstr", int(index) if index is not None else None)
                entry["msgstr"][field[1]] = ast.literal_eval(text)
            else:
                field = (keyword, None)
                entry[keyword] = ast.literal_eval(text)
        elif line.startswith('"'):
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += ast.literal_eval(line)
            else:
                entry[field[0]] += ast.literal_eval(line)
    return entries


def po_problems(entries: list[dict]) -> list[str]:
    """Entries that are fuzzy, untranslated, or lose a placeholder."""
    problems = []
    for e in entries[1:]:  # [0] is the header
        label = repr(e["msgid"])
        if "fuzzy" in e["flags"]:
            problems.append(f"fuzzy: {label}")
        if not e["msgstr"] or not all(e["msgstr"].values()):
            problems.append(f"untranslated: {label}")
            continue
        wanted = sorted(PLACEHOLDER.findall(e.get("msgid_plural", e["msgid"])))
        for text in e["msgstr"].values():
            got = sorted(PLACEHOLDER.findall(text))
            if got != wanted and got != sorted(PLACEHOLDER.findall(e["msgid"])):
                problems.append(f"placeholders {got} != {wanted}: {label}")
    return problems


def indonesian(user=None, **headers) -> HttpClient:
    client = HttpClient(**headers)
    if user is not None:
        client.force_login(user)
    return client


# ------------------------------------------------------------------ catalogue


def test_indonesian_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = parse_po(PO_FILE)

    header = entries[0]["msgstr"][None]
    assert "Language: id\n" in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    assert "fuzzy" not in entries[0]["flags"]
    assert len(entries) > 500
    assert po_problems(entries) == []


def test_shipped_mo_matches_the_po():
    """A fresh clone needs no gettext: the compiled file is in the repository
    and must say what the .po says (run `manage.py compilemessages -l id
    --ignore='.venv/*'` after editing the .po)."""
    with MO_FILE.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)._catalog

    for e in parse_po(PO_FILE)[1:]:
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            for index, text in e["msgstr"].items():
                assert catalog.get((msgid, index)) == text, msgid
        else:
            assert catalog.get(msgid) == e["msgstr"][None], msgid


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgmerge") is None,
    reason="GNU gettext is not installed",
)
def test_catalogue_covers_every_translatable_string_in_the_source(
    tmp_path, settings, monkeypatch
):
    """makemessages on a copy of the source adds no new, untranslated entry.

    On failure: run the documented `manage.py makemessages -l id ...`, then
    translate the new entries in locale/id/LC_MESSAGES/django.po and compile.
    """
    root = Path(settings.BASE_DIR)
    for package in ("config", "satu"):
        shutil.copytree(
            root / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns(
                "__pycache__", "static", "migrations", "*.pyc", "*.sqlite3"
            ),
        )
    copy = tmp_path / "locale" / "id" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(PO_FILE, copy)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command(
        "makemessages",
        locale=["id"],
        ignore_patterns=MAKEMESSAGES_IGNORE,
        verbosity=0,
    )

    new = [p for p in po_problems(parse_po(copy)) if not p.startswith("placeholders")]
    assert new == []


# ------------------------------------------------------------------ screens


@pytest.mark.django_db
def test_indonesian_user_sees_home_page_in_indonesian():
    user = make_user("budi", role="sales_manager", language="id")

    html = indonesian(user).get("/").content.decode()

    assert '<html lang="id">' in html
    assert "<title>Beranda · Satu</title>" in html
    assert "<h1>Selamat datang, Budi</h1>" in html
    assert "Berikut perkembangan terbaru klien Anda." in html
    assert '<h2 id="status-title">Klien per status</h2>' in html
    assert '<a href="/clients/" data-nav="client_list">Klien</a>' in html
    assert '<button type="submit">Keluar</button>' in html
    assert "Welcome" not in html


@pytest.mark.django_db
def test_indonesian_user_sees_client_list_in_indonesian():
    user = make_user("budi", role="sales_manager", language="id")
    ClientFactory(name="PT Sinar Jaya", owner=user, status=Client.Status.PROSPECT)

    html = indonesian(user).get("/clients/").content.decode()

    assert "<h1>Klien</h1>" in html
    assert ">Klien baru</a>" in html
    assert '<option value="former">Mantan klien</option>' in html
    assert "<th>Nama</th><th>Status</th><th>Manajer</th>" in html
    assert '<span class="badge badge-prospect">Prospek</span>' in html
    assert 'placeholder="Nama, telepon, email, atau nomor pajak"' in html
    assert "New client" not in html


@pytest.mark.django_db
def test_login_page_follows_the_browser_language():
    html = indonesian(HTTP_ACCEPT_LANGUAGE="id").get("/login/").content.decode()
    english = indonesian(HTTP_ACCEPT_LANGUAGE="en").get("/login/").content.decode()

    assert "<title>Masuk · Satu</title>" in html
    assert ">Nama pengguna<input" in html
    assert ">Kata sandi<input" in html
    assert '<button type="submit" class="primary">Masuk</button>' in html
    assert '<button type="submit" class="primary">Log in</button>' in english


@pytest.mark.django_db
def test_login_throttle_message_in_indonesian(settings):
    settings.SATU_LOGIN_MAX_FAILURES = 1
    make_user("budi", language="id")
    browser = indonesian(HTTP_ACCEPT_LANGUAGE="id")
    browser.post("/login/", {"username": "budi", "password": "wrong"})

    response = browser.post("/login/", {"username": "budi", "password": "wrong"})

    assert (
        "Terlalu banyak percobaan masuk yang gagal. "
        "Tunggu beberapa menit lalu coba lagi."
    ) in response.content.decode()


@pytest.mark.django_db
def test_english_user_keeps_english():
    user = make_user("john", role="sales_manager", language="en")

    html = indonesian(user, HTTP_ACCEPT_LANGUAGE="id").get("/clients/").content.decode()

    assert '<html lang="en">' in html
    assert ">New client</a>" in html


# ------------------------------------------------------------------ API


@pytest.mark.django_db
def test_api_errors_speak_the_token_owners_language(api_client):
    user = make_user("budi", role="sales_manager", language="id")
    api_client.as_user(user)

    response = api_client.post(
        "/api/v1/clients",
        json.dumps({"name": "PT Maju", "phone": "12"}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "detail": "Beberapa isian tidak valid.",
        "fields": {
            "phone": ["Masukkan nomor telepon yang valid, mis. +62 21 555 0123."]
        },
    }
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_api_not_found_and_bad_json_in_indonesian(api_client):
    user = make_user("budi", role="sales_manager", language="id")
    api_client.as_user(user)

    missing = api_client.get("/api/v1/clients/999999")
    broken = api_client.post("/api/v1/clients", "{bad", content_type="application/json")

    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        "Klien tidak ditemukan.",
    )
    assert (broken.status_code, broken.json()["detail"]) == (
        400,
        "Isi permintaan bukan JSON yang valid.",
    )
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_api_session_call_speaks_the_users_language():
    user = make_user("budi", role="sales_manager", language="id")

    response = indonesian(user).get("/api/v1/clients/999999")

    assert response.json()["detail"] == "Klien tidak ditemukan."


@pytest.mark.django_db
def test_api_errors_stay_english_for_an_english_user(api_client):
    user = make_user("john", role="sales_manager", language="en")
    api_client.as_user(user)

    response = api_client.post(
        "/api/v1/clients",
        json.dumps({"name": "PT Maju", "phone": "12"}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="id",
    )

    assert response.json()["fields"] == {
        "phone": ["Enter a valid phone number, e.g. +62 21 555 0123."]
    }
