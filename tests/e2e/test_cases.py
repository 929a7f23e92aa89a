"""A case in a browser: opened in Support for Business, answered by support staff asking for
something, answered back, then closed as a duplicate by two staff at once; the partner sees
every step, and the contract's ledger shows the incident used and given back once."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from support.models import IncidentCredit, SupportContract

from .test_support_refusals import describe, last_incident_of_a_contract_on

pytestmark = pytest.mark.django_db(transaction=True)


def staff_tab(context, portal, case):
    tab = context.new_page()
    tab.goto(f"{portal}/admin/cases/case/{case.pk}/change/")
    return tab


def test_a_case_through_every_state_with_a_conversation_both_ways(
    page, browser, portal, sign_in_as, shot
):
    contract = last_incident_of_a_contract_on("admin@contoso.example")
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=20)
    sign_in_as(page, "admin@contoso.example")
    page.goto(f"{portal}/supportforbusiness/create")
    page.get_by_label("Product").select_option(label="Windows Server 2025")
    page.get_by_role("button", name="Next").click()
    describe(page, "Cluster node won't rejoin")
    page.get_by_role("button", name="Open incident").click()
    case = Case.objects.get(kind=Case.Kind.INCIDENT)
    expect(page.get_by_role("status")).to_contain_text(case.number)

    # The partner finds it in Cases: open, not answered yet, its target shown.
    page.goto(f"{portal}/dashboard/mpn/membership/benefits/technical")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("Number or title").fill("rejoin")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=case.number).click()
    expect(page.locator("dl.facts")).to_contain_text("Open")
    expect(page.locator("dl.facts")).to_contain_text("Due by")
    expect(page.get_by_text("No reply yet.")).to_be_visible()

    staff = browser.new_context()
    staff_page = staff.new_page()
    sign_in_as(staff_page, "support@benefits.example")
    staff_page.goto(f"{portal}/admin/cases/case/{case.pk}/change/")
    staff_page.get_by_label("Reply to the partner").fill("Which build is the node on?")
    staff_page.get_by_label("Ask the partner for something (waiting on you)").check()
    staff_page.locator("input[name=_continue]").click()
    expect(staff_page.locator("#content")).to_contain_text("Which build is the node on?")

    page.reload()
    expect(page.locator("dl.facts")).to_contain_text("Waiting on you")
    expect(page.locator("dl.facts")).to_contain_text("Met")
    expect(page.locator("ol.conversation")).to_contain_text("Which build is the node on?")
    page.get_by_label("Add a note").fill("Build 26100.2033, patched on Tuesday.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_contain_text("Note added.")
    expect(page.locator("dl.facts")).to_contain_text("In progress")
    expect(page.locator("ol.conversation")).to_contain_text("Build 26100.2033")
    shot(page, "case-in-progress")

    # Two staff close it as a duplicate at once: one incident comes back.
    tabs = [staff_tab(staff, portal, case), staff_tab(staff, portal, case)]
    for tab in tabs:
        tab.locator("select[name=state]").select_option("closed")
        tab.locator("select[name=resolution]").select_option("duplicate")
    for tab in tabs:
        tab.locator("input[name=_save]").click()
    for tab in tabs:
        tab.wait_for_load_state()
    assert IncidentCredit.objects.filter(case=case).count() == 1

    page.reload()
    expect(page.locator("dl.facts")).to_contain_text(re.compile("Closed · Duplicate"))
    expect(page.locator("dl.facts")).to_contain_text("Given back to the contract")
    expect(page.get_by_role("button", name="Add note")).to_have_count(0)
    page.get_by_role("link", name=re.compile("Contract ID ending")).click()
    expect(page.get_by_role("heading", name="Incident ledger")).to_be_visible()
    expect(page.get_by_text("Incidents remaining: 20 of 20.")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("+1")
    expect(rows.nth(0)).to_contain_text("Given back: Duplicate")
    expect(rows.nth(1)).to_contain_text(case.number)
    shot(page, "case-ledger")
    staff.close()


def test_an_action_pack_presales_request_uses_hours_and_the_page_shows_what_is_left(
    page, browser, portal, sign_in_as, shot
):
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(f"{portal}/dashboard/mpn/membership/benefits/technical")
    page.get_by_role("link", name="File a request, and see your hours").click()
    expect(page.locator("#hours-left")).to_contain_text("5 of 5 advisory hours")
    page.get_by_role("button", name="File request").click()  # nothing filled in
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_label("Title").fill("Landing zone for a retailer")
    page.get_by_label("Description").fill("Hub and spoke in two regions.")
    page.get_by_label("Product or technology").select_option(label="Azure")
    page.get_by_role("radio", name=re.compile("^Presales")).check()
    page.get_by_label("Country/region").fill("Japan")
    page.get_by_label("Preferred language").select_option("ja")
    page.get_by_role("button", name="File request").click()
    case = Case.objects.get(kind=Case.Kind.ADVISORY)
    expect(page.get_by_role("status")).to_contain_text(f"Request {case.number} filed.")
    expect(page.locator("dl.facts")).to_contain_text("Due by")

    staff = browser.new_context()
    staff_page = staff.new_page()
    sign_in_as(staff_page, "support@benefits.example")
    staff_page.goto(f"{portal}/admin/cases/case/{case.pk}/change/")
    staff_page.get_by_label("Hours spent (advisory requests)").fill("2")
    staff_page.get_by_label("Reply to the partner").fill("Let's meet on Thursday.")
    staff_page.locator("input[name=_save]").click()
    staff_page.wait_for_load_state()
    staff.close()

    page.goto(f"{portal}/dashboard/cases/advisory")
    expect(page.locator("#hours-left")).to_contain_text("3 of 5 advisory hours")
    row = page.locator("tbody tr").filter(has_text=case.number)
    expect(row).to_contain_text("Landing zone for a retailer")
    expect(row).to_contain_text("2")
    shot(page, "advisory-hours")

    # A Gold company's presales consultation uses none of its hours.
    gold = browser.new_context()
    contoso = gold.new_page()
    sign_in_as(contoso, "admin@contoso.example")
    contoso.goto(f"{portal}/dashboard/cases/advisory")
    expect(contoso.locator("#hours-left")).to_contain_text("50 of 50 advisory hours")
    expect(contoso.locator("#hours-left")).to_contain_text("Presales consultations are unlimited")
    contoso.get_by_label("Title").fill("Copilot rollout for a bank")
    contoso.get_by_label("Description").fill("Licensing and a pilot plan.")
    contoso.get_by_label("Product or technology").select_option(label="Azure")
    contoso.get_by_role("radio", name=re.compile("^Presales")).check()
    contoso.get_by_label("Country/region").fill("Germany")
    contoso.get_by_label("Preferred language").select_option("en")
    contoso.get_by_role("button", name="File request").click()
    presales = Case.objects.get(title="Copilot rollout for a bank")
    expect(contoso.get_by_role("status")).to_contain_text(presales.number)
    contoso.goto(f"{portal}/dashboard/cases/advisory")
    expect(contoso.locator("#hours-left")).to_contain_text("50 of 50 advisory hours")
    row = contoso.locator("tbody tr").filter(has_text=presales.number)
    expect(row).to_contain_text("None: presales")
    gold.close()
