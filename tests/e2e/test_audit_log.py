"""A Global admin narrows the audit log to what they look for and downloads it as CSV, in the
language they read it in."""

import csv
import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import say
from .test_accessibility import activated

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # axe-core is injected as an inline script, which the portal's CSP rightly blocks.
    pytest.mark.browser_context_args(bypass_csp=True),
]


@pytest.mark.parametrize(("language", "locale"), [("en", "en-US"), ("ja", "ja-JP")])
def test_filter_the_log_and_download_what_it_shows(
    browser, portal, sign_in_as, axe, shot, tmp_path, language, locale
):
    activated()  # Activation requested by the Global admin, IDs revealed by the portal
    context = browser.new_context(locale=locale, accept_downloads=True, bypass_csp=True)
    page = sign_in_as(context.new_page(), "admin@contoso.example")
    page.goto(f"{portal}/dashboard/account/auditlog")

    role_granted = say(language, "Role granted")
    page.get_by_label(say(language, "What"), exact=True).select_option(label=role_granted)
    today = timezone.localdate().isoformat()
    page.get_by_label(say(language, "From"), exact=True).fill(today)
    page.get_by_role("button", name=say(language, "Filter"), exact=True).click()

    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    count = rows.count()
    for row in rows.all():
        expect(row.locator("td").nth(1)).to_have_text(role_granted)
    # The filters keep what was chosen; the details name roles in the reader's words.
    expect(page.get_by_label(say(language, "What"), exact=True)).to_have_value("role_granted")
    expect(page.get_by_label(say(language, "From"), exact=True)).to_have_value(today)
    expect(page.locator("table tbody")).to_contain_text(say(language, "Global admin"))
    axe(page)
    shot(page, f"audit-log-filtered-{language}")

    with page.expect_download() as download:
        page.get_by_role("link", name=say(language, "Export CSV")).click()
    path = tmp_path / "log.csv"
    download.value.save_as(path)
    header, *lines = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert header == [say(language, word) for word in ("When", "What", "Details", "Who")]
    assert len(lines) == count and {line[1] for line in lines} == {role_granted}

    # A day with nothing in it: the page says so, and the filters stay.
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    page.get_by_label(say(language, "From"), exact=True).fill(tomorrow)
    page.get_by_role("button", name=say(language, "Filter"), exact=True).click()
    expect(page.get_by_text(say(language, "Nothing matches these filters."))).to_be_visible()
    expect(page.get_by_label(say(language, "From"), exact=True)).to_have_value(tomorrow)
    context.close()
