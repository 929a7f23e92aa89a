"""Support for Business: a refused write states its true reason, for the product chosen, and
keeps what was typed; the incidents list says what a person can read."""

import pytest
from django.utils import timezone

from cases.models import Case
from entitlements.rules import Benefit
from support import rules
from support.models import SupportContract

from .test_support import (
    CREATE,
    INCIDENTS,
    add,
    contract_for,
    expire,
    incident_fields,
    step2,
)

TYPED = {
    "title": "Azure SQL failover never completes",
    "description": "Since Tuesday the geo-replica stays in Seeding.",
    "contact_name": "Bob Kelly",
    "contact_phone": "+1 (425) 555-0100",
}


def last_incident_taken(contract):
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=0)


def test_the_tab_that_loses_the_last_incident_is_told_so_and_keeps_what_it_typed(
    sign_in, bob, signature_5_pack
):
    client = sign_in(bob)
    add(client, signature_5_pack)
    last_incident_taken(signature_5_pack)  # the other tab was first
    response = client.post(step2("Azure"), incident_fields(signature_5_pack.pk, **TYPED))
    assert response.status_code == 409
    page = response.content.decode()
    assert "This plan has no incidents remaining." in page
    assert "not on your account" not in page and "does not cover" not in page
    for typed in ("Azure SQL failover never completes", "+1 (425) 555-0100", "Bob Kelly"):
        assert f'value="{typed}"' in page
    assert "Since Tuesday the geo-replica stays in Seeding." in page
    assert '<details class="more step" id="add-contract" open>' in page  # one click away
    assert not Case.objects.exists()


def test_an_expired_plan_chosen_in_a_stale_tab_says_when_it_expired(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    expire(product_support)
    response = client.post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk, **TYPED)
    )
    page = response.content.decode()
    assert "This plan expired on" in page
    assert 'value="Azure SQL failover never completes"' in page


def test_a_plan_chosen_for_a_product_it_does_not_cover_says_which_rule(
    sign_in, bob, product_support
):
    client = sign_in(bob)
    add(client, product_support)
    response = client.post(step2("Windows Server", "2019"), incident_fields(product_support.pk))
    page = response.content.decode()
    assert (
        "This plan cannot be used for Windows Server 2019. Only the current and the previous "
        "version of an on-premises product are covered: now Windows Server 2025 and Windows "
        "Server 2022." in page
    )
    assert not Case.objects.exists()


def test_a_plan_not_on_the_account_is_refused_as_such(sign_in, bob, product_support):
    response = sign_in(bob).post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk)
    )
    page = response.content.decode()
    assert "That support plan is not on your account." in page
    assert "does not cover this product" not in page


def test_an_old_on_premises_version_names_the_rule_and_the_covered_versions(
    sign_in, bob, product_support
):
    client = sign_in(bob)
    add(client, product_support)
    page = client.get(step2("SQL Server", "2017")).content.decode()
    rule = (
        "Only the current and the previous version of an on-premises product are covered: "
        "now SQL Server 2022 and SQL Server 2019."
    )
    notice = page[page.index("None of the plans on your account covers") :]
    assert rule in notice[:600]  # said where the person reads, not only in the closed list
    unavailable = page[page.index("Would you like to see unavailable support plans?") :]
    assert f"Support plan cannot be used for the specified product. {rule}" in unavailable


def test_action_pack_says_it_includes_no_cloud_support(sign_in, bob):
    contract = contract_for(bob.partner.offers.get(), Benefit.PRODUCT_SUPPORT, bob)
    client = sign_in(bob)
    add(client, contract)
    page = client.get(step2("Azure")).content.decode()
    notice = page[page.index("None of the plans on your account covers Azure") :]
    assert "Microsoft Action Pack includes no cloud support." in notice[:400]


def test_adding_a_contract_for_a_product_it_does_not_cover_says_so(sign_in, bob, product_support):
    page = add(sign_in(bob), product_support, next_step=step2("Azure")).content.decode()
    assert "Contract added: Microsoft Product Support of Contoso Ltd." in page
    assert "It is usable" not in page
    assert (
        "It cannot be used for Azure. Microsoft Product Support covers on-premises products "
        "only; cloud products are covered by Signature Cloud Support." in page
    )


def test_adding_a_contract_for_an_old_version_says_which_versions_it_covers(
    sign_in, bob, product_support
):
    page = add(
        sign_in(bob), product_support, next_step=step2("Windows Server", "2019")
    ).content.decode()
    assert "It cannot be used for Windows Server 2019. Only the current and the previous" in page


def test_adding_a_contract_for_a_covered_product_says_it_is_usable_for_it(
    sign_in, bob, signature_5_pack
):
    page = add(sign_in(bob), signature_5_pack, next_step=step2("Azure")).content.decode()
    assert "It is usable for Azure: choose it under Types of support." in page


def test_the_csp_plan_refused_to_a_company_outside_csp_says_why(sign_in, bob):
    response = sign_in(bob).post(step2("Azure"), incident_fields("csp", **TYPED))
    page = response.content.decode()
    assert "That support plan is not on your account." in page
    assert 'value="Azure SQL failover never completes"' in page


@pytest.mark.parametrize(
    "phone",
    ["call me maybe", "+1 425 555 0100 ext. 12", "12345", "1" * 16, "42+5555"],
)
def test_a_contact_phone_that_is_not_a_number_is_refused_and_kept(
    sign_in, bob, product_support, phone
):
    client = sign_in(bob)
    add(client, product_support)
    response = client.post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk, contact_phone=phone)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "Enter a phone number with digits, and only +, spaces, dashes or parentheses" in page
        or "A phone number has 6 to 15 digits." in page
    )
    assert f'value="{phone}"' in page
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("+1 (425) 555-0100", "+1 (425) 555-0100"), ("０３－１２３４－５６７８", "03-1234-5678")],
)
def test_a_contact_phone_as_people_write_it_is_accepted(sign_in, bob, product_support, typed, kept):
    client = sign_in(bob)
    add(client, product_support)
    response = client.post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk, contact_phone=typed)
    )
    assert response.status_code == 302
    assert Case.objects.get().contact_phone == kept


def test_the_support_type_chosen_in_step_1_is_kept_and_listed(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    url = step2("Windows Server", "2025").replace("support_type=technical", "support_type=setup")
    assert client.post(url, incident_fields(product_support.pk)).status_code == 302
    assert Case.objects.get().support_type == Case.SupportType.SETUP
    page = client.get(INCIDENTS).content.decode()
    assert "Setup: installing, configuring or upgrading" in page


def test_the_incidents_list_masks_the_contract_id_names_the_severity_and_the_time_zone(
    sign_in, bob, product_support, settings
):
    client = sign_in(bob)
    add(client, product_support)
    client.post(step2("Windows Server", "2025"), incident_fields(product_support.pk))
    page = client.get(INCIDENTS).content.decode()
    assert product_support.contract_id not in page
    assert f"Contract ID ending {product_support.contract_id[-4:]}" in page
    assert "B: moderate impact, first response within 4 hours" in page
    opened = timezone.localtime(Case.objects.get().opened_at)
    assert f"{opened:%H:%M}" in page or f"{opened:%-I:%M}" in page
    assert f" {settings.TIME_ZONE}</time>" in page


def test_what_was_typed_survives_adding_another_contract(
    sign_in, bob, signature_5_pack, alice, contoso
):
    client = sign_in(bob)
    add(client, signature_5_pack)
    last_incident_taken(signature_5_pack)
    refused = client.post(step2("Azure"), incident_fields(signature_5_pack.pk, **TYPED))
    page = refused.content.decode()
    assert 'name="draft-title" value="Azure SQL failover never completes"' in page
    unlimited = contract_for(
        contoso.offers.get(level="gold"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice
    )
    # The add-contract form as the page holds it: the IDs, and what step 3 holds.
    draft = {f"draft-{name}": value for name, value in incident_fields("", **TYPED).items()}
    wrong = client.post(
        "/supportforbusiness/contracts/add" + step2("Azure").removeprefix(CREATE),
        {**draft, "access_id": unlimited.access_id, "contract_id": "123456789"},
    )
    assert 'value="Azure SQL failover never completes"' in wrong.content.decode()
    page = client.post(
        "/supportforbusiness/contracts/add" + step2("Azure").removeprefix(CREATE),
        {**draft, "access_id": unlimited.access_id, "contract_id": unlimited.contract_id},
        follow=True,
    ).content.decode()
    assert "Contract added" in page
    assert f'name="plan" value="{unlimited.pk}"' in page
    assert 'value="Azure SQL failover never completes"' in page
    assert "Since Tuesday the geo-replica stays in Seeding." in page
    # Once: the next visit starts afresh.
    again = client.get(step2("Azure")).content.decode()
    assert "Azure SQL failover never completes" not in again


@pytest.mark.parametrize(
    ("benefit", "product", "action_pack", "rule"),
    [
        (Benefit.PRODUCT_SUPPORT, rules.ProductFacts("SQL Server 2022", False, True), False, ""),
        (
            Benefit.PRODUCT_SUPPORT,
            rules.ProductFacts("SQL Server 2017", False, False, ("SQL Server 2022", "SQL 2019")),
            False,
            "Only the current and the previous version of an on-premises product are covered: "
            "now SQL Server 2022 and SQL 2019.",
        ),
        (
            Benefit.PRODUCT_SUPPORT,
            rules.ProductFacts("Azure", True, True),
            True,
            "Microsoft Action Pack includes no cloud support.",
        ),
        (
            Benefit.SIGNATURE_CLOUD_SUPPORT,
            rules.ProductFacts("SQL Server 2022", False, True),
            False,
            "Signature Cloud Support covers cloud products only.",
        ),
        (Benefit.SIGNATURE_CLOUD_SUPPORT, rules.ProductFacts("Azure", True, True), False, ""),
    ],
)
def test_the_coverage_rule_is_named_for_the_product(benefit, product, action_pack, rule):
    assert rules.coverage_rule(benefit, product, action_pack) == rule


def test_support_staff_see_the_support_type_in_admin(sign_in, bob, support, product_support):
    client = sign_in(bob)
    add(client, product_support)
    url = step2("Windows Server", "2025").replace("support_type=technical", "support_type=setup")
    client.post(url, incident_fields(product_support.pk))
    incident = Case.objects.get()
    staff = sign_in(support)
    listing = staff.get("/admin/cases/case/").content.decode()
    assert "Setup: installing, configuring or upgrading" in listing
    detail = staff.get(f"/admin/cases/case/{incident.pk}/change/").content.decode()
    assert "Setup: installing, configuring or upgrading" in detail


def test_step_2_for_a_product_no_plan_covers_lists_no_plans_that_do(sign_in, bob):
    """ "Plans on your account that cover Azure." then "None of the plans … covers Azure."
    contradict each other: only the second is said."""
    contract = contract_for(bob.partner.offers.get(), Benefit.PRODUCT_SUPPORT, bob)
    client = sign_in(bob)
    add(client, contract)
    page = client.get(step2("Azure")).content.decode()
    assert "None of the plans on your account covers Azure" in page
    assert "Plans on your account that cover Azure" not in page
