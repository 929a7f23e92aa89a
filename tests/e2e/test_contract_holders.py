"""A Global admin finds who holds a contract, removes one holder and re-issues the IDs, in
each language, at a phone's width and a desktop's, with axe finding nothing serious."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from support.models import ContractLink, SupportContract

from .conftest import say
from .test_accessibility import activated

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # axe-core is injected as an inline script, which the portal's CSP rightly blocks.
    pytest.mark.browser_context_args(bypass_csp=True),
]


@pytest.mark.parametrize(
    ("language", "locale", "width"),
    [("en", "en-US", 1280), ("ja", "ja-JP", 390), ("zh-hans", "zh-CN", 390)],
)
def test_remove_a_holder_and_reissue_the_ids(
    browser, sign_in_as, axe, shot, language, locale, width
):
    contract = activated()
    outsider = User.objects.get(email="admin@fabrikam.example")
    agent = User.objects.get(email="agent@contoso.example")
    for user in (outsider, agent):
        ContractLink.objects.create(user=user, contract=contract)
    context = browser.new_context(
        locale=locale, viewport={"width": width, "height": 900}, bypass_csp=True
    )
    page = sign_in_as(context.new_page(), "admin@contoso.example")

    if width < 760:  # on a phone the navigation waits behind its Menu button
        page.get_by_text(say(language, "Menu"), exact=True).click()
    page.get_by_role("link", name=say(language, "Contract holders")).click()
    expect(page.locator("h1")).to_have_text(say(language, "Contract holders"))
    holders = page.locator(".holders li")
    expect(holders).to_have_count(2)
    no_sideways_scroll(page)
    axe(page)
    shot(page, f"contract-holders-{language}")

    holders.filter(has_text="admin@fabrikam.example").get_by_role("button").click()
    expect(page.locator(".holders li")).to_have_count(1)
    assert not ContractLink.objects.filter(user=outsider).exists()

    old = contract.access_id
    page.get_by_text(say(language, "Re-issue the Access ID and Contract ID")).click()
    page.get_by_role("button", name=say(language, "Re-issue the IDs")).click()
    no_holder = say(language, "No account holds this contract.")
    expect(page.get_by_text(no_holder, exact=True)).to_be_visible()
    contract = SupportContract.objects.get(pk=contract.pk)
    assert contract.access_id != old
    expect(page.get_by_text(contract.contract_id)).to_be_visible()
    no_sideways_scroll(page)
    axe(page)
    context.close()


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    )
