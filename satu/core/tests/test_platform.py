from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.utils import timezone

from satu.core import attachments, audit, features, jobs, tokens
from satu.core.errors import FeatureDisabled, NotFound, ValidationFailed
from satu.core.models import Attachment, AuditEntry, Job, LoginFailure
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%fake but signed\n"


def test_feature_toggle_cascades_to_children_and_is_audited(admin_user):
    features.register("demo.parent", "Parent")
    features.register("demo.child", "Child", parent="demo.parent")
    try:
        features.feature_set(code="demo.parent", enabled=False, actor=admin_user)
        state = features.enabled_map()
        assert (state["demo.parent"], state["demo.child"]) == (False, False)
        with pytest.raises(FeatureDisabled):
            features.require("demo.child")
        assert AuditEntry.objects.filter(action="switched_off").count() == 1
    finally:
        features._registry.pop("demo.parent")
        features._registry.pop("demo.child")


def test_unknown_feature_is_not_found(admin_user):
    with pytest.raises(NotFound):
        features.feature_set(code="nope", enabled=False, actor=admin_user)


def test_audit_diff_lists_only_changes():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}


def test_token_authenticates_until_revoked(manager):
    token, raw = tokens.api_token_create(user=manager, name="erp")
    assert raw.startswith("satu_") and token.key_hash != raw
    assert tokens.user_for_token(raw) == manager
    assert tokens.user_for_token(raw + "x") is None
    tokens.api_token_revoke(token_id=token.pk, actor=manager)
    assert tokens.user_for_token(raw) is None


def test_attachment_checks_type_size_and_visibility(manager, other_manager, settings):
    client = ClientFactory(owner=manager)
    pdf = SimpleUploadedFile("contract.pdf", PDF, content_type="application/pdf")

    attachment = attachments.attachment_add(
        actor=manager, object_type="parties.client", object_id=client.pk, uploaded=pdf
    )

    assert attachment.size == len(PDF)
    assert client.timeline.filter(kind="attachment.added").count() == 1
    assert (
        attachments.attachment_get(actor=manager, attachment_id=attachment.pk)
        == attachment
    )
    with pytest.raises(NotFound):
        attachments.attachment_get(actor=other_manager, attachment_id=attachment.pk)
    with pytest.raises(NotFound):
        attachments.attachment_add(
            actor=other_manager,
            object_type="parties.client",
            object_id=client.pk,
            uploaded=SimpleUploadedFile("c.pdf", PDF),
        )
    for name, content in [
        ("evil.exe", b"MZ"),
        ("fake.pdf", b"<html>"),
        ("empty.txt", b""),
    ]:
        with pytest.raises(ValidationFailed):
            attachments.attachment_add(
                actor=manager,
                object_type="parties.client",
                object_id=client.pk,
                uploaded=SimpleUploadedFile(name, content),
            )
    settings.SATU_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationFailed):
        attachments.attachment_add(
            actor=manager,
            object_type="parties.client",
            object_id=client.pk,
            uploaded=SimpleUploadedFile("big.pdf", PDF),
        )
    assert Attachment.objects.count() == 1


def test_job_reports_progress_and_result(manager, django_capture_on_commit_callbacks):
    seen = []

    def handler(job, report):
        report(50, "half way")
        seen.append(Job.objects.get(pk=job.pk).progress)
        return {"message": "all good", "count": 3}

    jobs.register_handler("test.sample", handler)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_start(actor=manager, kind="test.sample", title="Sample")

    job.refresh_from_db()
    assert seen == [50]
    assert (job.state, job.progress, job.message, job.result["count"]) == (
        "done",
        100,
        "all good",
        3,
    )


def test_failing_job_is_marked_failed(manager, django_capture_on_commit_callbacks):
    def handler(job, report):
        raise ValidationFailed("Row 3 is wrong")

    jobs.register_handler("test.failing", handler)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_start(actor=manager, kind="test.failing", title="Failing")
    job.refresh_from_db()
    assert (job.state, job.message) == ("failed", "Row 3 is wrong")


def test_login_is_throttled_after_repeated_failures(manager, settings):
    settings.SATU_LOGIN_MAX_FAILURES = 3
    browser = HttpClient()
    for _ in range(3):
        response = browser.post("/login/", {"username": "manager", "password": "wrong"})
        assert response.status_code == 200
    response = browser.post(
        "/login/", {"username": "manager", "password": "pass-1234-word"}
    )
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    LoginFailure.objects.update(at=timezone.now() - timedelta(hours=1))
    response = browser.post(
        "/login/", {"username": "manager", "password": "pass-1234-word"}
    )
    assert response.status_code == 302


def test_read_only_user_cannot_attach(director):
    from satu.core.errors import PermissionDenied

    client = ClientFactory()
    with pytest.raises(PermissionDenied):
        attachments.attachment_add(
            actor=director,
            object_type="parties.client",
            object_id=client.pk,
            uploaded=SimpleUploadedFile("c.pdf", PDF),
        )
    assert Attachment.objects.count() == 0
