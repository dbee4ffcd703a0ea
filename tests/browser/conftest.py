"""Playwright fixtures for browser tests: Debian's Chromium, a page that
fails the test on any console or page error, and logging in through the form.

Browser tests are marked `@pytest.mark.browser` and
`@pytest.mark.django_db(transaction=True)` (the live server runs in a thread
and must see committed data).
"""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pass-1234-word"  # satu.core.testing.helpers.make_user's default


@pytest.fixture
def administrator(db):
    """A user in the administrator role (not a superuser), password PASSWORD."""
    from satu.core.testing.helpers import make_user

    return make_user("boss", role="administrator", password=PASSWORD)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


class BrowserErrors(list):
    """Console errors and uncaught page errors seen during a test.

    A test that provokes an error on purpose (a form answered 422) declares
    it with `allow("status of 422")`; anything else fails the test."""

    def __init__(self):
        super().__init__()
        self.allowed: list[str] = []

    def allow(self, fragment: str) -> None:
        self.allowed.append(fragment)

    def unexpected(self) -> list[str]:
        return [e for e in self if not any(a in e for a in self.allowed)]


@pytest.fixture
def browser_errors(request):
    errors = BrowserErrors()
    request.node._browser_errors = errors
    return errors


@pytest.fixture
def page(page, browser_errors):
    """pytest-playwright's page, watched for console and page errors."""
    page.set_default_timeout(10_000)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and browser_errors.append(f"console: {message.text}")
        ),
    )
    page.on("pageerror", lambda error: browser_errors.append(f"page error: {error}"))
    return page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    errors = getattr(item, "_browser_errors", None)
    errors = errors.unexpected() if errors is not None else []
    if errors:
        pytest.fail("Browser reported errors:\n" + "\n".join(errors), pytrace=False)
    return result


@pytest.fixture
def logged_in_page(page, live_server):
    """`logged_in_page(user)` logs the user in through the login form and
    returns the page, now on the start page."""

    def login(user, password: str = PASSWORD):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return login
