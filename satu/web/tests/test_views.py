"""Platform screens: access rules, what they show, and the calls they make."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from satu.core import custom_fields, features, jobs, tokens
from satu.core.models import ApiToken, AuditEntry, CustomField, FeatureToggle, Job
from satu.core.testing.helpers import make_user
from satu.parties.models import Client
from satu.parties.tests.factories import (
    ClientFactory,
    ContactFactory,
    ContactRoleFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db

SETTINGS_PAGES = [
    "/settings/modules/",
    "/settings/custom-fields/",
    "/settings/custom-fields/new/",
    "/settings/audit/",
]


def browser(user=None) -> HttpClient:
    client = HttpClient()
    if user is not None:
        client.force_login(user)
    return client


def htmx(client, method, url, data=None, target=None):
    headers = {"HX-Request": "true"}
    if target:
        headers["HX-Target"] = target
    return getattr(client, method)(url, data or {}, headers=headers)


def nav_names(html: str) -> list[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    return re.findall(r'data-nav="([^"]+)"', nav)


# ------------------------------------------------------------------ access


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/search/?q=ab",
        "/profile/",
        "/profile/tokens/",
        "/jobs/1/",
        *SETTINGS_PAGES,
    ],
)
def test_anonymous_user_is_sent_to_login(url):
    response = browser().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", SETTINGS_PAGES)
def test_sales_manager_may_not_open_settings(manager, url):
    response = browser(manager).get(url)

    assert response.status_code == 403
    assert "data-error-message" in response.content.decode()


def test_sales_manager_may_not_switch_modules(manager):
    response = browser(manager).post("/settings/modules/contacts/", {"enabled": "0"})

    assert response.status_code == 403
    assert FeatureToggle.objects.count() == 0


def test_sales_manager_may_not_edit_custom_fields(manager, admin_user):
    field = custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="tier",
        label="Tier",
        field_type="text",
    )

    response = browser(manager).post(
        f"/settings/custom-fields/{field.pk}/", {"label": "Hacked", "position": 0}
    )

    assert response.status_code == 403
    field.refresh_from_db()
    assert field.label == "Tier"


def test_sales_manager_sees_no_settings_menu(manager):
    html = browser(manager).get("/").content.decode()

    assert "/settings/" not in html
    names = nav_names(html)
    assert names[:4] == ["home", "client_list", "contact_list", "counterparty_list"]


def test_administrator_sees_the_settings_menu(admin_user):
    html = browser(admin_user).get("/").content.decode()

    for url in ("/settings/modules/", "/settings/custom-fields/", "/settings/audit/"):
        assert f'href="{url}"' in html


def test_unknown_page_answers_404_in_the_layout(manager):
    response = browser(manager).get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="topbar"' in html
    assert "data-error-message" in html


# ------------------------------------------------------------------ home


def test_home_counts_own_clients_by_status_and_month(
    manager, other_manager, django_assert_num_queries
):
    ClientFactory.create_batch(2, owner=manager, status=Client.Status.LEAD)
    old = ClientFactory(owner=manager, status=Client.Status.CLIENT)
    long_ago = timezone.now() - timedelta(days=400)
    Client.objects.filter(pk=old.pk).update(created_at=long_ago)
    ClientFactory(owner=manager, status=Client.Status.FORMER, is_archived=True)
    ClientFactory.create_batch(3, owner=other_manager, status=Client.Status.LEAD)
    mine = ClientFactory(owner=manager, status=Client.Status.PROSPECT, name="Mine Ltd")
    TimelineEntryFactory(client=mine, kind="client.created", summary="Created here")
    TimelineEntryFactory(
        client=ClientFactory(owner=other_manager), summary="Someone else's news"
    )
    client = browser(manager)
    client.get("/")  # warm the content type and permission caches

    # session, user, toggles, permissions (2), statuses, months, timeline
    with django_assert_num_queries(8):
        response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    counts = dict(
        re.findall(
            r'data-status="(\w+)">\s*<span class="stat-value">(\d+)</span>', html
        )
    )
    assert counts == {"lead": "2", "prospect": "1", "client": "1", "former": "0"}
    chart = json.loads(
        re.search(
            r'<script id="monthly-chart-data" type="application/json">(.*?)</script>',
            html,
            re.S,
        ).group(1)
    )
    assert len(chart["xAxis"]["data"]) == 12
    assert chart["series"][0]["data"] == [0] * 11 + [4]
    assert "Created here" in html
    assert "Someone else" not in html
    assert "vendor/echarts.min.js" in html


def test_home_without_client_rights_shows_no_client_numbers(db):
    clerk = make_user("clerk")

    response = browser(clerk).get("/")

    assert response.status_code == 200
    assert "monthly-chart-data" not in response.content.decode()


# ------------------------------------------------------------------ search


def test_live_search_lists_visible_records_only(manager, other_manager):
    ClientFactory(owner=manager, name="Sinar Jaya", search_text="sinar jaya")
    ClientFactory(owner=other_manager, name="Sinar Abadi", search_text="sinar abadi")
    contact = ContactFactory(
        first_name="Sinta",
        last_name="Dewi",
        search_text="sinta dewi",
        created_by=manager,
    )
    ContactRoleFactory(contact=contact, client=ClientFactory(owner=manager))

    response = htmx(
        browser(manager), "get", "/search/", {"q": "sin"}, target="search-results"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Sinar Jaya" in html
    assert "Sinar Abadi" not in html
    assert "Sinta Dewi" in html
    assert 'href="/search/?q=sin"' in html


def test_search_leaves_out_switched_off_modules(manager, admin_user):
    contact = ContactFactory(
        first_name="Sinta", search_text="sinta test", created_by=manager
    )
    ContactRoleFactory(contact=contact, client=ClientFactory(owner=manager))
    features.feature_set(code="contacts", enabled=False, actor=admin_user)

    html = browser(manager).get("/search/", {"q": "sinta"}).content.decode()

    assert 'data-group="contacts"' not in html
    assert 'data-group="clients"' in html


def test_full_search_page_for_short_query(manager):
    response = browser(manager).get("/search/", {"q": "a"})

    assert response.status_code == 200
    assert "Type at least two characters" in response.content.decode()


# ------------------------------------------------------------------ modules


def test_switching_contacts_off_removes_it_from_navigation(admin_user):
    client = browser(admin_user)

    response = htmx(client, "post", "/settings/modules/contacts/", {"enabled": "0"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-feature="contacts"' in html
    assert 'aria-checked="false"' in html
    assert 'hx-swap-oob="true"' in html
    assert "contact_list" not in nav_names(html)
    assert FeatureToggle.objects.get(code="contacts").enabled is False
    assert "contact_list" not in nav_names(client.get("/").content.decode())
    assert client.get("/contacts/").status_code == 404

    client.post("/settings/modules/contacts/", {"enabled": "1"})

    assert "contact_list" in nav_names(client.get("/").content.decode())
    assert client.get("/contacts/").status_code == 200


def test_modules_page_lists_registered_features(admin_user):
    features.feature_set(code="counterparties", enabled=False, actor=admin_user)

    html = browser(admin_user).get("/settings/modules/").content.decode()

    for feature in features.registered():
        assert f'data-feature="{feature.code}"' in html
    row = re.search(r'<tr id="feature-counterparties".*?</tr>', html, re.S).group(0)
    assert 'aria-checked="false"' in row


def test_switching_an_unknown_module_answers_404(admin_user):
    response = browser(admin_user).post("/settings/modules/nope/", {"enabled": "0"})

    assert response.status_code == 404
    assert "Unknown feature" in response.content.decode()
    assert FeatureToggle.objects.count() == 0


# ------------------------------------------------------------------ custom fields


def test_administrator_creates_a_choice_field(admin_user):
    response = browser(admin_user).post(
        "/settings/custom-fields/new/",
        {
            "object_type": "parties.client",
            "code": "tier",
            "label": "Tier",
            "field_type": "choice",
            "choices": "Gold\n\n Silver \nBronze",
            "position": "3",
            "required": "on",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/settings/custom-fields/?type=parties.client"
    field = CustomField.objects.get()
    assert (field.object_type, field.code, field.label, field.field_type) == (
        "parties.client",
        "tier",
        "Tier",
        "choice",
    )
    assert (field.choices, field.required, field.position, field.is_active) == (
        ["Gold", "Silver", "Bronze"],
        True,
        3,
        True,
    )


def test_bad_custom_field_shows_errors_per_field_and_creates_nothing(admin_user):
    response = browser(admin_user).post(
        "/settings/custom-fields/new/",
        {
            "object_type": "parties.client",
            "code": "Bad Code",
            "label": "X",
            "field_type": "choice",
            "choices": "",
            "position": "0",
        },
    )

    assert response.status_code == 422
    html = response.content.decode()
    code_block = re.search(
        r'<div class="field-code.*?</div>\s*</div>|'
        r'<div class="field-code.*?</ul>',
        html,
        re.S,
    ).group(0)
    assert "Use lower-case letters" in code_block
    choices_block = re.search(r'<div class="field-choices.*?</ul>', html, re.S).group(0)
    assert "A choice field needs at least one choice." in choices_block
    assert CustomField.objects.count() == 0


def test_duplicate_custom_field_code_is_refused(admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="tier",
        label="Tier",
        field_type="text",
    )

    response = browser(admin_user).post(
        "/settings/custom-fields/new/",
        {
            "object_type": "parties.client",
            "code": "tier",
            "label": "Again",
            "field_type": "text",
            "position": "0",
        },
    )

    assert response.status_code == 422
    assert "A field with this code already exists." in response.content.decode()
    assert CustomField.objects.count() == 1


def test_administrator_edits_a_custom_field(admin_user):
    field = custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.contact",
        code="hobby",
        label="Hobby",
        field_type="text",
    )
    client = browser(admin_user)
    assert client.get(f"/settings/custom-fields/{field.pk}/").status_code == 200

    response = client.post(
        f"/settings/custom-fields/{field.pk}/",
        {
            "label": "Hobbies",
            "position": "5",
            "code": "ignored",
            "field_type": "number",
        },
    )

    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.code, field.field_type, field.label, field.position) == (
        "hobby",
        "text",
        "Hobbies",
        5,
    )
    assert (field.required, field.is_active) == (False, False)


def test_custom_field_list_shows_fields_of_one_object_type(admin_user):
    for object_type, code in [("parties.client", "tier"), ("parties.contact", "hobby")]:
        custom_fields.custom_field_create(
            actor=admin_user,
            object_type=object_type,
            code=code,
            label=code.title(),
            field_type="text",
        )

    html = (
        browser(admin_user)
        .get("/settings/custom-fields/", {"type": "parties.contact"})
        .content.decode()
    )

    assert 'data-code="hobby"' in html
    assert 'data-code="tier"' not in html


def test_editing_a_missing_custom_field_answers_404(admin_user):
    assert browser(admin_user).get("/settings/custom-fields/999/").status_code == 404


# ------------------------------------------------------------------ audit


def test_audit_list_is_paginated_without_n_plus_one(db, django_assert_num_queries):
    administrator = make_user("boss", role="administrator")
    actors = [make_user(f"u{i}", role="sales_manager") for i in range(3)]
    for i in range(60):
        ClientFactory(owner=actors[i % 3])
    for i, client_record in enumerate(Client.objects.all()):
        from satu.core import audit

        audit.record(
            actor=actors[i % 3],
            subject=client_record,
            action="updated",
            changes={"name": ["Old", client_record.name]},
        )
    client = browser(administrator)
    client.get("/settings/audit/")

    # session, user, toggles, permissions (2), users, content types, count, page
    with django_assert_num_queries(9):
        response = client.get("/settings/audit/", {"page": "2"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr>") == 1 + 10
    assert "60 in all" in html


def test_audit_list_filters_by_actor_and_action(admin_user, manager):
    client_record = ClientFactory(owner=manager, name="Filter Me")
    from satu.core import audit

    audit.record(actor=manager, subject=client_record, action="archived")
    audit.record(actor=admin_user, subject=client_record, action="archived")
    audit.record(actor=manager, subject=client_record, action="updated")

    html = (
        browser(admin_user)
        .get("/settings/audit/", {"actor": manager.pk, "action": "archived"})
        .content.decode()
    )

    table = re.search(r'<table class="list" id="audit-table">.*?</table>', html, re.S)
    assert table.group(0).count("<tr>") == 2


def test_audit_list_rejects_reversed_dates(admin_user):
    response = browser(admin_user).get(
        "/settings/audit/", {"date_from": "2025-02-01", "date_to": "2025-01-01"}
    )

    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


# ------------------------------------------------------------------ profile


def test_profile_switches_language_and_time_zone(manager):
    client = browser(manager)

    response = client.post(
        "/profile/", {"language": "id", "time_zone": "Asia/Makassar"}
    )

    assert response.status_code == 302
    manager.refresh_from_db()
    assert (manager.language, manager.time_zone) == ("id", "Asia/Makassar")
    html = client.get("/profile/").content.decode()
    assert '<html lang="id">' in html
    assert AuditEntry.objects.filter(action="preferences_updated").count() == 1


def test_profile_refuses_unknown_time_zone(manager):
    response = browser(manager).post(
        "/profile/", {"language": "xx", "time_zone": "Mars/Base"}
    )

    assert response.status_code == 422
    manager.refresh_from_db()
    assert (manager.language, manager.time_zone) == ("en", "Asia/Jakarta")


def test_profile_offers_common_time_zones_first(manager):
    html = browser(manager).get("/profile/").content.decode()

    first = re.search(r'<optgroup label="([^"]+)">\s*<option value="([^"]+)"', html)
    assert first.groups() == ("Common", "Asia/Jakarta")


# ------------------------------------------------------------------ tokens


def test_token_is_shown_once_and_works(manager):
    client = browser(manager)

    response = client.post("/profile/tokens/new/", {"name": "Accounting"})

    assert response.status_code == 200
    raw = re.search(
        r'<code id="new-token">(satu_[^<]+)</code>', response.content.decode()
    )
    assert tokens.user_for_token(raw.group(1)) == manager
    again = client.get("/profile/tokens/").content.decode()
    assert raw.group(1) not in again
    assert "Accounting" in again


def test_token_without_name_is_refused(manager):
    response = browser(manager).post("/profile/tokens/new/", {"name": ""})

    assert response.status_code == 422
    assert ApiToken.objects.count() == 0


def test_token_revoke_only_touches_own_tokens(manager, other_manager):
    mine, _raw = tokens.api_token_create(user=manager, name="mine")
    theirs, _raw = tokens.api_token_create(user=other_manager, name="theirs")
    client = browser(manager)

    client.post(f"/profile/tokens/{theirs.pk}/revoke/")
    response = client.post(f"/profile/tokens/{mine.pk}/revoke/")

    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None


# ------------------------------------------------------------------ jobs


def _job(user, **values):
    return Job.objects.create(
        kind="test", title="Import clients", created_by=user, **values
    )


def test_running_job_partial_keeps_polling(manager):
    job = _job(manager, state=Job.State.RUNNING, progress=40, message="Row 40 of 100")

    response = htmx(browser(manager), "get", f"/jobs/{job.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="40"' in html
    assert "Row 40 of 100" in html


def test_finished_job_shows_result_link_and_stops_polling(manager):
    job = _job(
        manager,
        state=Job.State.DONE,
        progress=100,
        message="Done.",
        result_url="/clients/?imported=1",
    )

    html = browser(manager).get(f"/jobs/{job.pk}/").content.decode()

    assert 'hx-trigger="every 1s"' not in html
    assert 'href="/clients/?imported=1"' in html


def test_other_users_job_is_not_found(manager, other_manager):
    job = _job(other_manager)

    response = browser(manager).get(f"/jobs/{job.pk}/")

    assert response.status_code == 404
    assert "Job not found." in response.content.decode()


def test_htmx_domain_error_answers_with_message_for_the_toast(manager):
    response = htmx(browser(manager), "get", "/jobs/999/")

    assert response.status_code == 404
    html = response.content.decode()
    assert re.search(r"data-error-message[^>]*>Job not found.<", html)


def test_job_started_by_service_is_visible(manager, django_capture_on_commit_callbacks):
    jobs.register_handler("test.ok", lambda job, report: {"message": "All good"})
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_start(actor=manager, kind="test.ok", title="Quick")

    html = browser(manager).get(f"/jobs/{job.pk}/").content.decode()

    assert "All good" in html
    assert 'data-state="done"' in html


# ------------------------------------------------------------------ login


def test_login_is_refused_after_five_wrong_passwords(manager):
    client = browser()
    for _attempt in range(5):
        response = client.post("/login/", {"username": "manager", "password": "nope"})
        assert response.status_code == 200

    response = client.post(
        "/login/", {"username": "manager", "password": "pass-1234-word"}
    )

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_page_renders_in_layout():
    response = browser().get("/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'class="topbar"' not in html


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("500.html", "Something went wrong on our side"),
        ("400.html", "The request could not be understood."),
    ],
)
def test_error_pages_render_without_a_request(template, text):
    from django.template import loader

    html = loader.get_template(template).render()

    assert text in html
    assert 'class="topbar"' not in html
