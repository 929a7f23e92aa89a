"""Support for Business: add a contract once, see its plans, open incidents that count down."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from cases.models import Case
from entitlements.models import Role
from entitlements.rules import Benefit
from support import services
from support.models import ContractLink, ProductVersion, SupportContract

from .factories import OfferFactory, UserFactory, contract_for

CREATE = "/supportforbusiness/create"
ADD = "/supportforbusiness/contracts/add"
INCIDENTS = "/supportforbusiness/incidents"


def version(product, name=""):
    return ProductVersion.objects.get(product__name=product, name=name)


def expire(contract):
    contract.starts_on = timezone.localdate() - datetime.timedelta(days=365)
    contract.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    contract.save()


def step2(product, name=""):
    return f"{CREATE}?version={version(product, name).pk}&support_type=technical"


def add(client, contract, *, access_id=None, contract_id=None, next_step=""):
    return client.post(
        ADD + next_step.removeprefix(CREATE),
        {
            "access_id": access_id or contract.access_id,
            "contract_id": contract_id or contract.contract_id,
        },
        follow=True,
    )


def incident_fields(plan, **extra):
    return {
        "plan": plan,
        "title": "Cluster node won't join",
        "description": "Event 1135 after patching.",
        "severity": "B",
        "contact_name": "Bob",
        "contact_email": "bob@fabrikam.example",
        **extra,
    }


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get(CREATE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["alice", "nora", "bob", "carol"])
def test_any_signed_in_account_may_use_the_portal(request, db, sign_in, who):
    response = sign_in(request.getfixturevalue(who)).get(CREATE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Windows Server 2025" in page and "SQL Server 2017" in page
    assert "SharePoint Server Subscription Edition" in page and "Azure" in page


def test_the_contract_id_is_masked_like_a_password(sign_in, bob):
    page = sign_in(bob).get(CREATE).content.decode()
    assert 'type="password" name="contract_id"' in page
    assert "Do you need to purchase or add more support plans?" in page


def test_another_companys_account_adds_the_contract_with_both_ids(sign_in, bob, product_support):
    client = sign_in(bob)
    response = add(client, product_support, next_step=step2("Windows Server", "2025"))
    page = response.content.decode()
    assert "Contract added: Microsoft Product Support of Contoso Ltd." in page
    assert ContractLink.objects.filter(user=bob, contract=product_support).exists()
    # Once added, the plan is there without the IDs.
    page = client.get(step2("Windows Server", "2025")).content.decode()
    assert "Types of support" in page
    assert f'name="plan" value="{product_support.pk}"' in page
    assert "20</td>" in page


def test_wrong_ids_get_one_error_that_reveals_nothing(sign_in, bob, product_support):
    client = sign_in(bob)
    right_access = add(client, product_support, contract_id="123456789")
    both_wrong = add(client, product_support, access_id="987654321", contract_id="123456789")
    assert right_access.status_code == both_wrong.status_code == 400
    message = "No contract has this Access ID and Contract ID together."
    assert message in right_access.content.decode()
    assert message in both_wrong.content.decode()
    assert not ContractLink.objects.exists()


def test_ids_that_are_not_nine_digits_are_explained(sign_in, bob):
    response = sign_in(bob).post(ADD, {"access_id": "12-34", "contract_id": "abc"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The Access ID is 9 digits" in page and "The Contract ID is 9 digits" in page


def test_wrong_tries_are_limited_per_account(sign_in, bob, product_support):
    client = sign_in(bob)
    for _ in range(5):
        assert add(client, product_support, contract_id="123456789").status_code == 400
    limited = add(client, product_support)  # even the right IDs, while limited
    assert limited.status_code == 429
    assert "Too many wrong Access ID and Contract ID pairs" in limited.content.decode()
    assert not ContractLink.objects.exists()


def test_a_correct_pair_is_not_refused_for_others_typos_at_the_same_address(
    client, product_support, db
):
    for _ in range(20):
        client.force_login(UserFactory())  # a new account each time, one address
        assert add(client, product_support, contract_id="123456789").status_code == 400
    newcomer = UserFactory()
    client.force_login(newcomer)
    assert "Contract added" in add(client, product_support).content.decode()
    assert ContractLink.objects.filter(user=newcomer).exists()


def test_past_the_address_limit_each_account_there_gets_one_wrong_pair(client, product_support, db):
    for _ in range(20):
        client.force_login(UserFactory())
        add(client, product_support, contract_id="123456789")
    guesser = UserFactory()
    client.force_login(guesser)
    assert add(client, product_support, contract_id="123456789").status_code == 400
    refused = add(client, product_support)  # even the right IDs, once this account erred
    assert refused.status_code == 429
    assert "Too many wrong Access ID and Contract ID pairs" in refused.content.decode()
    assert not ContractLink.objects.filter(user=guesser).exists()


def test_a_right_pair_does_not_count_against_the_account(sign_in, bob, product_support):
    client = sign_in(bob)
    for _ in range(4):
        add(client, product_support, contract_id="123456789")
    assert "Contract added" in add(client, product_support).content.decode()  # 5th try
    assert add(client, product_support, contract_id="123456789").status_code == 400  # still 5th


def test_a_forwarded_for_header_from_the_client_is_not_believed(client, product_support, db):
    """Without a trusted proxy, X-Forwarded-For is the client's own word: changing it
    doesn't give a script a fresh address."""
    for i in range(21):
        client.force_login(UserFactory())
        client.post(
            ADD,
            {"access_id": product_support.access_id, "contract_id": "123456789"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        )
    client.force_login(UserFactory())
    add(client, product_support, contract_id="123456789")
    assert add(client, product_support).status_code == 429


def test_behind_a_trusted_proxy_each_client_address_counts_apart(
    client, product_support, settings, db
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for _ in range(21):
        client.force_login(UserFactory())
        client.post(
            ADD,
            {"access_id": product_support.access_id, "contract_id": "123456789"},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    elsewhere = UserFactory()
    client.force_login(elsewhere)
    client.post(
        ADD,
        {"access_id": product_support.access_id, "contract_id": "123456789"},
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    response = client.post(
        ADD,
        {"access_id": product_support.access_id, "contract_id": product_support.contract_id},
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert response.status_code == 302
    assert ContractLink.objects.filter(user=elsewhere).exists()


def test_ids_typed_with_full_width_digits_are_the_same_ids(sign_in, bob, product_support):
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    response = add(
        sign_in(bob),
        product_support,
        access_id=product_support.access_id.translate(wide),
        contract_id=" ".join(
            [product_support.contract_id[:4], product_support.contract_id[4:]]
        ).translate(wide),
    )
    assert "Contract added" in response.content.decode()
    assert ContractLink.objects.filter(user=bob, contract=product_support).exists()


def test_adding_a_contract_again_says_since_when_and_what_next(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    page = add(client, product_support).content.decode()
    assert "This contract is already on your account: you added it on" in page
    assert (
        "It is usable for the current and the previous version of on-premises products: "
        "choose a product, then this plan under Types of support." in page
    )
    assert "already associated" not in page
    assert ContractLink.objects.count() == 1


def test_adding_an_expired_contract_again_says_it_expired(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    expire(product_support)
    page = add(client, product_support).content.decode()
    assert f"It is not usable: it expired on {date_format(product_support.ends_on)}." in page
    assert "Ask a Global admin of Contoso Ltd" in page


def test_adding_a_used_up_contract_again_says_so(sign_in, bob, signature_5_pack):
    client = sign_in(bob)
    add(client, signature_5_pack)
    SupportContract.objects.filter(pk=signature_5_pack.pk).update(incidents_remaining=0)
    page = add(client, signature_5_pack).content.decode()
    assert "It is not usable: it has no incidents remaining." in page


@pytest.mark.parametrize(
    ("product", "name", "usable"),
    [
        ("Windows Server", "2025", True),
        ("Windows Server", "2022", True),
        ("Windows Server", "2019", False),  # older than the previous version
        ("SQL Server", "2017", False),
        ("Azure", "", False),  # on-premises support covers no cloud product
    ],
)
def test_product_support_covers_the_current_and_previous_on_premises_version(
    sign_in, bob, product_support, product, name, usable
):
    client = sign_in(bob)
    add(client, product_support)
    page = client.get(step2(product, name)).content.decode()
    assert (f'name="plan" value="{product_support.pk}"' in page) is usable
    if not usable:
        assert "Would you like to see unavailable support plans?" in page
        assert "Support plan cannot be used for the specified product" in page


@pytest.mark.parametrize(
    ("product", "usable"), [("Azure", True), ("Microsoft 365", True), ("Windows Server", False)]
)
def test_signature_cloud_support_covers_cloud_products_only(
    sign_in, bob, signature_5_pack, product, usable
):
    client = sign_in(bob)
    add(client, signature_5_pack)
    name = "2025" if product == "Windows Server" else ""
    page = client.get(step2(product, name)).content.decode()
    assert (f'name="plan" value="{signature_5_pack.pk}"' in page) is usable


def test_an_action_pack_contract_covers_no_cloud_product(sign_in, bob):
    action_pack = bob.partner.offers.get()
    contract = contract_for(action_pack, Benefit.PRODUCT_SUPPORT, bob)
    client = sign_in(bob)
    add(client, contract)
    plan = f'name="plan" value="{contract.pk}"'
    assert plan not in client.get(step2("Azure")).content.decode()
    assert plan in client.get(step2("SQL Server", "2022")).content.decode()


def test_expired_and_used_up_plans_are_listed_as_unavailable(
    sign_in, bob, product_support, signature_5_pack
):
    client = sign_in(bob)
    add(client, product_support)
    add(client, signature_5_pack)
    expire(product_support)
    SupportContract.objects.filter(pk=signature_5_pack.pk).update(incidents_remaining=0)
    page = client.get(step2("Windows Server", "2025")).content.decode()
    unavailable = page[page.index("Would you like to see unavailable support plans?") :]
    assert f"Expired on {date_format(product_support.ends_on)}" in unavailable
    assert "No incidents remaining" in unavailable


def test_a_csp_partner_uses_the_cloud_solution_provider_plan_for_azure(sign_in, carol):
    client = sign_in(carol)
    page = client.get(step2("Azure")).content.decode()
    assert 'name="plan" value="csp"' in page
    assert "Cloud Solution Provider" in page
    response = client.post(step2("Azure"), incident_fields("csp"))
    assert response.status_code == 302
    incident = Case.objects.get()
    assert incident.contract is None and incident.plan_name == "Cloud Solution Provider"
    assert 'value="csp"' not in client.get(step2("Microsoft 365")).content.decode()


def test_the_csp_plan_is_not_for_companies_outside_csp(sign_in, bob):
    client = sign_in(bob)
    assert 'value="csp"' not in client.get(step2("Azure")).content.decode()
    response = client.post(step2("Azure"), incident_fields("csp"))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_opening_an_incident_counts_the_plan_down_by_one(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    response = client.post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk), follow=True
    )
    page = response.content.decode()
    incident = Case.objects.get()
    assert f"Incident {incident.number} opened. 19 incidents remaining on this plan." in page
    assert "Cluster node won&#x27;t join" in page and "Open" in page
    product_support.refresh_from_db()
    assert product_support.incidents_remaining == 19
    assert (incident.opened_by, incident.contract) == (bob, product_support)


def test_an_unlimited_plan_never_counts_down(sign_in, bob, alice, contoso):
    unlimited = contract_for(
        contoso.offers.get(level="gold"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice
    )
    client = sign_in(bob)
    add(client, unlimited)
    for _ in range(3):
        client.post(step2("Azure"), incident_fields(unlimited.pk))
    unlimited.refresh_from_db()
    assert Case.objects.count() == 3
    assert unlimited.incidents_remaining is None


def test_an_account_opens_at_most_ten_incidents_an_hour_and_keeps_what_it_typed(
    sign_in, bob, product_support
):
    client = sign_in(bob)
    add(client, product_support)
    url = step2("Windows Server", "2025")
    for _ in range(10):
        assert client.post(url, incident_fields(product_support.pk)).status_code == 302
    refused = client.post(
        url, incident_fields(product_support.pk, title="An eleventh incident, typed with care")
    )
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "You have opened 10 incidents in the last hour, the most an account may." in page
    assert 'value="An eleventh incident, typed with care"' in page
    assert Case.objects.count() == 10
    product_support.refresh_from_db()
    assert product_support.incidents_remaining == 10


def test_the_last_incident_can_be_used_once(sign_in, bob, signature_5_pack):
    client = sign_in(bob)
    add(client, signature_5_pack)
    SupportContract.objects.filter(pk=signature_5_pack.pk).update(incidents_remaining=1)
    form = client.get(step2("Azure")).content.decode()  # the plan is offered
    assert f'value="{signature_5_pack.pk}"' in form
    assert client.post(step2("Azure"), incident_fields(signature_5_pack.pk)).status_code == 302
    second = client.post(step2("Azure"), incident_fields(signature_5_pack.pk))
    assert second.status_code == 409
    assert "This plan has no incidents remaining." in second.content.decode()
    assert Case.objects.count() == 1


def test_an_incident_form_sent_twice_opens_one_incident_and_uses_one(
    sign_in, bob, signature_5_pack
):
    client = sign_in(bob)
    add(client, signature_5_pack)
    SupportContract.objects.filter(pk=signature_5_pack.pk).update(incidents_remaining=1)
    # A double click: the same form, its one-time key and all, twice; the second finds the
    # first's incident, though it took the plan's last one.
    key = re.search(
        r'name="submission_key" value="([^"]+)"', client.get(step2("Azure")).content.decode()
    )
    typed = incident_fields(signature_5_pack.pk, submission_key=key[1])
    assert client.post(step2("Azure"), typed).status_code == 302
    second = client.post(step2("Azure"), typed, follow=True)
    incident = Case.objects.get()
    assert f"No change: incident {incident.number} was opened already." in second.content.decode()
    signature_5_pack.refresh_from_db()
    assert signature_5_pack.incidents_remaining == 0


def test_an_incident_form_sent_again_with_changes_keeps_them_and_opens_nothing(
    sign_in, bob, signature_5_pack
):
    client = sign_in(bob)
    add(client, signature_5_pack)
    typed = incident_fields(signature_5_pack.pk, submission_key=str(uuid.uuid4()))
    client.post(step2("Azure"), typed)
    incident = Case.objects.get()
    again = client.post(step2("Azure"), typed | {"title": "Cluster node won't join, again"})
    assert again.status_code == 409
    page = again.content.decode()
    assert f"This page filed {incident.number} already" in page
    assert "Cluster node won&#x27;t join, again" in page
    assert Case.objects.count() == 1


def test_a_used_up_plan_chosen_in_a_stale_form_is_refused_clearly(bob, signature_5_pack):
    ContractLink.objects.create(user=bob, contract=signature_5_pack)
    SupportContract.objects.filter(pk=signature_5_pack.pk).update(incidents_remaining=0)
    with pytest.raises(services.PlanUnavailable, match="This plan has no incidents remaining."):
        services.open_incident(
            bob,
            version("Azure"),
            str(signature_5_pack.pk),
            title="t",
            description="d",
            severity="C",
            contact_name="Bob",
            contact_email="bob@fabrikam.example",
        )
    assert not Case.objects.exists()


def test_a_plan_that_is_not_on_the_account_cannot_be_used(sign_in, bob, product_support):
    response = sign_in(bob).post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk)
    )
    assert response.status_code == 400
    assert "That support plan is not on your account" in response.content.decode()
    assert not Case.objects.exists()


def test_a_missing_field_opens_nothing_and_says_what_is_wrong(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    response = client.post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk, title="")
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    product_support.refresh_from_db()
    assert product_support.incidents_remaining == 20


def test_an_unknown_product_is_refused_with_a_message(sign_in, bob):
    response = sign_in(bob).get(CREATE, {"version": "999999", "support_type": "technical"})
    assert "Choose a product from the list." in response.content.decode()


def test_the_account_lists_its_incidents_and_plans(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    client.post(step2("Windows Server", "2025"), incident_fields(product_support.pk))
    page = client.get(INCIDENTS).content.decode()
    assert Case.objects.get().number in page
    assert "19 of 20" in page and "Usable" in page


def test_a_long_list_of_incidents_comes_in_pages_newest_first(sign_in, bob):
    version = ProductVersion.objects.select_related("product").first()
    Case.objects.bulk_create(
        Case(
            partner=bob.partner,
            opened_by=bob,
            product=version.product,
            product_version=version,
            first_response_due=timezone.now(),
            title=f"Question {n}",
            description="Details",
            severity=Case.Severity.C,
            contact_name="Bob",
            contact_email=bob.email,
        )
        for n in range(51)
    )
    newest, oldest = Case.objects.order_by("-pk")[0], Case.objects.order_by("pk")[0]
    client = sign_in(bob)
    first = client.get(INCIDENTS).content.decode()
    assert newest.number in first and oldest.number not in first
    assert "Page 1 of 2" in first and "?page=2" in first
    second = client.get(INCIDENTS, {"page": "2"}).content.decode()
    assert oldest.number in second and newest.number not in second
    # A page number that isn't one shows the first page, not an error.
    assert "Page 1 of 2" in client.get(INCIDENTS, {"page": "x"}).content.decode()


def test_technical_benefits_shows_incidents_remaining_and_the_last_incidents(
    sign_in, alice, aaron, bob, product_support
):
    client = sign_in(bob)
    add(client, product_support)
    for title in ("First", "Second", "Third", "Fourth"):
        client.post(
            step2("Windows Server", "2025"), incident_fields(product_support.pk, title=title)
        )
    page = sign_in(aaron).get(reverse("entitlements:technical_benefits")).content.decode()
    assert "16 of 20" in page
    recent = page[page.index("Last incidents") :]
    assert "Fourth" in recent and "Second" in recent and "First" not in recent[:2000]
    assert "bob@fabrikam.example" in recent


def test_an_incident_on_another_companys_contract_needs_its_ids(sign_in, db, product_support):
    outsider = UserFactory(
        partner=OfferFactory(action_pack=True).partner, roles=[Role.GLOBAL_ADMIN]
    )
    response = sign_in(outsider).post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk)
    )
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_severity_is_a_choice_of_a_b_or_c_with_no_blank(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    page = client.get(step2("Windows Server", "2025")).content.decode()
    assert page.count('name="severity"') == 3
    assert "---------" not in page


def test_counters_of_past_windows_are_forgotten(sign_in, bob, product_support):
    import datetime as dt

    from benefits_portal import limits
    from benefits_portal.models import LimitCounter
    from benefits_portal.tasks import forget_old_limit_counters

    add(sign_in(bob), product_support, contract_id="123456789")
    old = limits.Limit("wrong-ids:account", 5, dt.timedelta(minutes=15))
    limits.hit(old, "someone", now=timezone.now() - dt.timedelta(days=2))
    assert LimitCounter.objects.count() == 3  # bob's, the address's, the old one

    assert forget_old_limit_counters() == 1
    assert LimitCounter.objects.count() == 2


def test_expired_rows_of_the_database_cache_are_forgotten(settings, db):
    from django.core.cache import caches

    from benefits_portal.tasks import forget_expired_cache_entries

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }
    cache = caches["default"]
    cache.set("gone", 1, -1)  # already expired
    cache.set("kept", 1, 300)
    assert forget_expired_cache_entries() == 1
    assert cache.get("kept") == 1
