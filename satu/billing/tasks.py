"""Background jobs of billing (django-tasks): e-mailing invoices."""

from django.conf import settings
from django.core.mail import EmailMessage
from django_tasks import task

from satu.billing import documents


@task()
def send_invoice_email(
    invoice_id: int, to: list[str], subject: str, message: str
) -> int:
    """Render the invoice's PDF and e-mail it to `to`; returns 1 when sent."""
    pdf, filename, invoice = documents.invoice_pdf(invoice_id=invoice_id)
    email = EmailMessage(
        subject=subject,
        body=message or documents.default_message(invoice),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=[invoice.company.email] if invoice.company.email else None,
    )
    email.attach(filename, pdf, "application/pdf")
    return email.send()
