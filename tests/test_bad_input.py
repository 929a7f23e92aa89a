"""Property-based: whatever is typed into a form or a URL, no 500, and what is refused changes
nothing stored."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from activation.models import ActivationRequest
from cases.models import Case
from entitlements.rules import Benefit
from support.models import ContractLink, ProductVersion, SupportContract

from .test_support import contract_for

PAGE = "/dashboard/mpn/membership/benefits/technical"
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Anything a browser or a script could send, control characters and all.
anything = st.text(max_size=300)
digits_or_not = st.one_of(anything, st.from_regex(r"\A[0-9 -]{0,12}\Z"))


def stored():
    return (
        ActivationRequest.objects.count(),
        ContractLink.objects.count(),
        Case.objects.count(),
        list(SupportContract.objects.values_list("incidents_remaining", flat=True)),
    )


@pytest.fixture
def bobs_client(client, bob):
    client.force_login(bob)
    return client


@EXAMPLES
@given(access_id=digits_or_not, contract_id=digits_or_not)
def test_add_contract_never_fails_and_refusals_change_nothing(
    bobs_client, alice, contoso, access_id, contract_id
):
    before = stored()
    response = bobs_client.post(
        reverse("support:add_contract"), {"access_id": access_id, "contract_id": contract_id}
    )
    assert response.status_code in (302, 400, 429)
    if response.status_code != 302:
        assert stored() == before
        assert "error" in response.content.decode()  # the form says what is wrong


@pytest.fixture
def linked_contract(bob, alice, contoso):
    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    ContractLink.objects.create(user=bob, contract=contract)
    return contract


@EXAMPLES
@given(
    title=anything,
    description=anything,
    severity=st.one_of(st.sampled_from(["A", "B", "C"]), anything),
    contact_name=anything,
    contact_email=st.one_of(st.emails(), anything),
    plan=st.one_of(st.integers().map(str), anything),
)
def test_open_incident_never_fails_and_refusals_change_nothing(
    bobs_client, linked_contract, title, description, severity, contact_name, contact_email, plan
):
    version = ProductVersion.objects.get(product__name="Windows Server", name="2025")
    url = f"{reverse('support:create')}?version={version.pk}&support_type=technical"
    before = stored()
    response = bobs_client.post(
        url,
        {
            "title": title,
            "description": description,
            "severity": severity,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "plan": plan,
        },
    )
    assert response.status_code in (302, 400, 409)
    if response.status_code != 302:
        assert stored() == before


@EXAMPLES
@given(version=anything, support_type=anything)
def test_any_product_choice_in_the_address_is_answered(bobs_client, version, support_type):
    response = bobs_client.get(
        reverse("support:create"), {"version": version, "support_type": support_type}
    )
    assert response.status_code == 200


@EXAMPLES
@given(offer_id=st.one_of(st.integers(min_value=0, max_value=2**70), anything), benefit=anything)
@example(offer_id=2**64, benefit="product_support")  # past PostgreSQL's bigint
def test_any_benefit_address_is_a_page_or_not_found(client, alice, offer_id, benefit):
    client.force_login(alice)
    before = stored()
    url = f"{PAGE}/{quote(str(offer_id), safe='')}/{quote(benefit, safe='')}"
    response = client.get(url)
    # 301: a typed trailing slash, sent on to the page without it.
    assert response.status_code in ((200, 301, 404) if url.endswith("/") else (200, 404))
    assert client.post(f"{url}/activate").status_code in (302, 404)
    if ActivationRequest.objects.count() != before[0]:
        assert benefit in Benefit.values  # only a real benefit of her own offer


@EXAMPLES
@given(language=anything, next_url=anything)
def test_any_language_choice_is_answered(client, db, language, next_url):
    response = client.post(reverse("set_language"), {"language": language, "next": next_url})
    assert response.status_code in (200, 302)


@EXAMPLES
@given(language=anything)
@example(language="ja")
@example(language="zh-Hans")
@example(language=" ja")
@example(language="de")
def test_any_language_choice_while_signed_in_keeps_one_the_portal_speaks(client, alice, language):
    client.force_login(alice)
    before = alice.language
    response = client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code in (200, 302)
    alice.refresh_from_db()
    spoken = language.lower() if language.lower() in ("en", "ja", "zh-hans") else None
    assert alice.language == (spoken or before)


@EXAMPLES
@given(login=anything, password=anything)
def test_any_sign_in_attempt_is_answered(client, alice, login, password):
    response = client.post("/accounts/login/", {"login": login, "password": password})
    assert response.status_code in (200, 302, 429)


def access_stored():
    from accounts.models import AccessRequest
    from entitlements.models import RoleAssignment

    return (
        list(AccessRequest.objects.order_by("pk").values_list("pk", "decision", "note", "days")),
        list(RoleAssignment.objects.order_by("pk").values_list("user", "role", "expires_at")),
    )


def kept(typed, page):
    """Whether text typed into a field is shown again on the page (as HTML escapes it)."""
    from django.utils.html import escape

    return not typed.strip() or not typed.isprintable() or escape(typed) in page


@EXAMPLES
@given(
    role=st.one_of(st.sampled_from(["admin_agent", "global_admin", "user_admin"]), anything),
    reason=anything,
)
@example(role="admin_agent", reason="x" * 1001)
@example(role="admin_agent", reason="  ")
def test_any_request_for_access_is_answered_and_refusals_change_nothing(
    client, nora, alice, role, reason
):
    from accounts.models import AccessRequest

    client.force_login(nora)
    before = access_stored()
    response = client.post(reverse("accounts:request_access"), {"role": role, "reason": reason})
    assert response.status_code in (302, 400, 409)
    if response.status_code == 302:
        AccessRequest.objects.all().delete()  # the next example asks anew
    else:
        assert access_stored() == before
        page = response.content.decode()
        assert 'class="errorlist' in page or 'role="alert"' in page
        assert kept(reason, page)


@EXAMPLES
@given(
    days=st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), anything),
    note=anything,
    approving=st.booleans(),
)
@example(days="30", note="For the audit", approving=True)
@example(days="366", note="Too long", approving=True)
def test_any_decision_is_answered_and_refusals_change_nothing(
    client, nora, alice, days, note, approving
):
    from accounts.models import AccessRequest
    from entitlements.models import RoleAssignment

    client.force_login(alice)
    RoleAssignment.objects.filter(user=nora).delete()
    asked = AccessRequest.objects.filter(user=nora, decided_at=None).first()
    if asked is None:
        asked = AccessRequest.objects.create(
            partner=nora.partner, user=nora, role="admin_agent", reason="Customers"
        )
    name = "accounts:approve_access_request" if approving else "accounts:decline_access_request"
    before = access_stored()
    response = client.post(reverse(name, args=[asked.pk]), {"days": days, "note": note})
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        asked.refresh_from_db()
        assert asked.decision == ("approved" if approving else "declined")
        assert RoleAssignment.objects.filter(user=nora).exists() == approving
    else:
        assert access_stored() == before
        assert kept(note, response.content.decode())


def entra_settings():
    from accounts.models import EntraGroupRole, EntraTenant

    return (
        list(EntraTenant.objects.values_list("partner", "tenant_id")),
        list(EntraGroupRole.objects.values_list("tenant", "group_id", "role")),
    )


guid_or_not = st.one_of(anything, st.uuids().map(str), st.uuids().map(lambda u: u.hex.upper()))


@EXAMPLES
@given(tenant_id=guid_or_not)
@example(tenant_id="{72F988BF-86F1-41AF-91AB-2D7CD011DB47}")
@example(tenant_id="contoso.onmicrosoft.com")
def test_any_tenant_id_is_answered_and_refusals_change_nothing(client, alice, bob, tenant_id):
    from accounts.models import EntraTenant

    # Fabrikam holds this one: connecting it to Contoso too is refused.
    EntraTenant.objects.get_or_create(
        partner=bob.partner, defaults={"tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
    )
    client.force_login(alice)
    before = entra_settings()
    response = client.post(reverse("accounts:entra"), {"tenant_id": tenant_id})
    assert response.status_code in (302, 400, 409)
    if response.status_code != 302:
        assert entra_settings() == before
        page = response.content.decode()
        assert 'role="alert"' in page  # the form says what is wrong
        if tenant_id and tenant_id.isprintable():
            assert f'value="{escape(tenant_id)}"' in page  # and keeps what was typed


@EXAMPLES
@given(
    group_id=guid_or_not, role=st.one_of(st.sampled_from(["admin_agent", "global_admin"]), anything)
)
def test_any_group_mapping_is_answered_and_refusals_change_nothing(client, alice, group_id, role):
    from accounts.models import EntraTenant

    EntraTenant.objects.get_or_create(
        partner=alice.partner, defaults={"tenant_id": "0b0c6f4e-6d0a-4c52-9a43-2a1d3c5e7f90"}
    )
    client.force_login(alice)
    before = entra_settings()
    response = client.post(
        reverse("accounts:entra_add_group"), {"group_id": group_id, "role": role}
    )
    assert response.status_code in (302, 400, 409)
    if response.status_code != 302:
        assert entra_settings() == before
        assert 'role="alert"' in response.content.decode()


CLOUD = "/dashboard/mpn/membership/benefits/cloud"


@pytest.fixture
def azure_credit(alice):
    from cloud import services as cloud

    from .test_cloud import cloud_catalogue

    products = cloud_catalogue()
    [row] = [r for r in cloud.cloud_benefits(alice.partner) if r.product == products["azure"]]
    return row


@EXAMPLES
@given(
    assignee=st.one_of(anything, st.integers(min_value=-(2**70), max_value=2**70)),
    seen=st.one_of(anything, st.integers(min_value=-(2**70), max_value=2**70)),
)
@example(assignee="１", seen="")  # a full-width digit from an IME
def test_any_credit_assignment_is_answered_and_refusals_change_nothing(
    client, alice, azure_credit, assignee, seen
):
    from cloud.models import CreditAssignment

    client.force_login(alice)
    before = list(CreditAssignment.objects.values_list("pk", "assignee_id", "ended_at"))
    url = reverse("cloud:assign", args=[azure_credit.offer.pk, azure_credit.product.pk])
    response = client.post(url, {"assignee": assignee, "seen": seen}, follow=True)
    assert response.status_code == 200
    after = list(CreditAssignment.objects.values_list("pk", "assignee_id", "ended_at"))
    if after != before:
        # Only a user of her own company, assigned from what she saw.
        assert CreditAssignment.objects.get(ended_at=None).assignee.partner == alice.partner
    else:
        text = response.content.decode()
        assert 'class="message error"' in text or 'class="message info"' in text


@EXAMPLES
@given(
    offer_id=st.one_of(st.integers(min_value=0, max_value=2**70), anything),
    product_id=st.one_of(st.integers(min_value=0, max_value=2**70), anything),
    code=anything,
)
@example(offer_id=2**64, product_id=2**64, code="x" * 300)
def test_any_cloud_address_is_a_page_or_not_found(
    client, alice, azure_credit, offer_id, product_id, code
):
    client.force_login(alice)
    before = stored()
    row = f"{CLOUD}/{quote(str(offer_id), safe='')}/{quote(str(product_id), safe='')}"
    allowed = (200, 301, 404) if row.endswith("/") else (200, 404)
    assert client.get(row).status_code in allowed
    assert client.post(f"{row}/activate").status_code in (302, 404)
    assert client.post(f"{row}/assign", {"assignee": alice.pk}).status_code in (302, 404)
    credit = f"{CLOUD}/credit/{quote(code, safe='')}"
    assert client.get(credit).status_code in (301, 404)
    if ActivationRequest.objects.count() != before[0]:
        assert str(offer_id) == str(azure_credit.offer.pk)  # only her own offer's product


@pytest.fixture
def windows_server(contoso):
    from entitlements.rules import Level, OfferKind

    from .factories import pool, software

    product = software("Windows Server", keys=1, kind=OfferKind.COMPETENCY, level=Level.GOLD)
    pool(product, 1)
    return product


ids = st.one_of(st.integers(min_value=0, max_value=2**70), anything)


@EXAMPLES
@given(search=anything, page=anything, language=anything, operating_system=anything)
@example(search="\x00", page="2**64", language="ja", operating_system="macos")
def test_any_software_search_or_choice_is_answered(
    client, alice, windows_server, search, page, language, operating_system
):
    from software.models import LicenseKey

    client.force_login(alice)
    gold = alice.partner.offers.get(level="gold")
    response = client.get(reverse("entitlements:software"), {"q": search, "page": page})
    assert response.status_code == 200
    assert escape(search.strip()[:100]) in response.content.decode()  # kept as typed
    row = reverse("software:product", args=[gold.pk, windows_server.pk])
    choice = {"language": language, "os": operating_system, "waiting": search}
    assert client.get(row, choice).status_code == 200
    assert client.get(row, choice, headers={"HX-Request": "true"}).status_code == 200
    assert not LicenseKey.objects.filter(offer__isnull=False).exists()  # a GET draws nothing


@EXAMPLES
@given(offer_id=ids, product_id=ids, download_id=ids)
@example(offer_id=2**64, product_id=2**64, download_id=2**64)  # past PostgreSQL's bigint
def test_any_software_address_is_a_page_or_not_found(
    client, alice, windows_server, offer_id, product_id, download_id
):
    from software.models import LicenseKey

    client.force_login(alice)
    base = reverse("entitlements:software")
    row = f"{base}/{quote(str(offer_id), safe='')}/{quote(str(product_id), safe='')}"
    assert client.get(row).status_code in (200, 301, 404)
    assert client.post(f"{row}/keys").status_code in (302, 404)
    download = f"{base}/downloads/{quote(str(download_id), safe='')}"
    assert client.get(download).status_code in (301, 404)
    assert LicenseKey.objects.filter(offer__isnull=False).count() in (0, 1)


@EXAMPLES
@given(data=st.one_of(st.binary(max_size=400), anything.map(str.encode)))
@example(data="ＡＢＣ１２-３４５\n".encode())  # full-width, as a Japanese IME types it
def test_any_file_of_keys_loads_whole_or_is_refused_changing_nothing(windows_server, data):
    from software import services
    from software.models import LicenseKey

    before = list(LicenseKey.objects.values_list("key", flat=True))
    try:
        loaded = services.load_keys(windows_server, data)
    except services.KeysRefused as refused:
        assert refused.problems
        assert list(LicenseKey.objects.values_list("key", flat=True)) == before
    else:
        assert LicenseKey.objects.count() == len(before) + loaded
        LicenseKey.objects.exclude(key__in=before).delete()


@pytest.fixture
def enterprise(contoso):
    from .test_visual_studio import visual_studio

    return visual_studio("Visual Studio Enterprise", gold=2)


@EXAMPLES
@given(
    number=st.one_of(st.integers(min_value=-(2**70), max_value=2**70), anything),
    assignee=st.one_of(anything, st.integers(min_value=-(2**70), max_value=2**70)),
    seen=st.one_of(anything, st.integers(min_value=-(2**70), max_value=2**70)),
)
@example(number=1, assignee="１", seen="")  # a full-width digit from an IME
def test_any_visual_studio_assignment_is_answered_and_refusals_change_nothing(
    client, alice, enterprise, number, assignee, seen
):
    from devtools.models import SubscriptionAssignment

    client.force_login(alice)
    gold = alice.partner.offers.get(level="gold")
    before = list(SubscriptionAssignment.objects.values_list("pk", "assignee_id", "ended_at"))
    url = f"/dashboard/mpn/membership/benefits/visualstudio/{gold.pk}/{enterprise.pk}/"
    url += f"{quote(str(number), safe='')}/assign"
    response = client.post(url, {"assignee": assignee, "seen": seen}, follow=True)
    assert response.status_code in (200, 404)
    after = list(SubscriptionAssignment.objects.values_list("pk", "assignee_id", "ended_at"))
    if after != before:
        # Only a user of her own company, to a subscription the offer includes.
        held = SubscriptionAssignment.objects.filter(ended_at=None)
        assert {h.assignee.partner for h in held} == {alice.partner}
        assert {h.number for h in held} <= {1, 2}
    elif response.status_code == 200:
        text = response.content.decode()
        assert 'class="message error"' in text or 'class="message info"' in text


@EXAMPLES
@given(
    user=st.one_of(anything, st.integers(min_value=-(2**70), max_value=2**70)),
    email=st.one_of(anything, st.emails()),
    phone=st.one_of(anything, st.from_regex(r"\A\+?[0-9 ()-]{0,20}\Z")),
    language=st.one_of(anything, st.sampled_from(["en", "ja", "zh-hans"])),
    seen=anything,
)
@example(
    user="１", email="ｍ@example.com", phone="＋８１ ３ １２３４ ５６７８", language="ja", seen=""
)
def test_any_marketing_contact_is_answered_and_refusals_change_nothing_and_keep_the_text(
    client, alice, nora, user, email, phone, language, seen
):
    from marketing.models import MarketingContact

    client.force_login(alice)
    typed = {"user": user, "email": email, "phone": phone, "language": language, "seen": seen}
    response = client.post(reverse("marketing:contact"), typed)
    assert response.status_code in (302, 400)
    saved = list(MarketingContact.objects.values_list("user", "email", "phone", "language"))
    if response.status_code == 302:
        [(holder, address, number, chosen)] = saved
        # Only an active user of her own company, at an address other than their account's.
        assert holder in (alice.pk, nora.pk)
        assert address.casefold() not in (alice.email.casefold(), nora.email.casefold())
        assert number.startswith("+") and chosen in ("en", "ja", "zh-hans")
        MarketingContact.objects.all().delete()
    else:
        assert saved == []
        text = response.content.decode()
        assert 'class="error"' in text or 'class="message error"' in text
        if email.strip() and "\x00" not in email:
            assert escape(email.strip()) in text  # what was typed, kept


@EXAMPLES
@given(q=anything, page=st.one_of(anything, st.integers(min_value=-(2**70), max_value=2**70)))
@example(q="\x00", page="1")
def test_any_customer_search_is_answered(client, carol, q, page):
    client.force_login(carol)
    response = client.get(reverse("customers:customers"), {"q": q, "page": page})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert 'class="error"' in response.content.decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
incident_like = st.fixed_dictionaries(
    {},
    optional={
        "reference": json_values | st.text(max_size=60),
        "title": json_values,
        "impact": json_values,
        "started_at": json_values | st.just("2026-11-30T10:00:00+00:00"),
        "updated_at": json_values | st.just("2026-11-30T11:00:00+00:00"),
        "resolved_at": json_values | st.just("2026-11-30T12:00:00+09:00"),
    },
)


@EXAMPLES
@given(
    feed=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "services": st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "name": st.sampled_from(["Microsoft 365", "Nope"]) | json_values,
                            "health": st.sampled_from(["healthy", "degraded"]) | json_values,
                            "incidents": st.lists(incident_like, max_size=3) | json_values,
                        },
                    )
                    | json_values,
                    max_size=3,
                )
            }
        ),
    )
)
def test_any_health_feed_is_applied_whole_or_refused_with_nothing_changed(db, feed):
    from customers import services
    from customers.models import Service, ServiceIncident

    service, _ = Service.objects.get_or_create(
        name="Microsoft 365", defaults={"portal_url": "https://admin.microsoft.com/"}
    )
    before = (
        list(Service.objects.values_list("health", flat=True)),
        list(ServiceIncident.objects.values_list("reference", "updated_at")),
    )
    try:
        services.import_health(feed)
    except services.FeedRefused as refused:
        assert refused.problems
        after = (
            list(Service.objects.values_list("health", flat=True)),
            list(ServiceIncident.objects.values_list("reference", "updated_at")),
        )
        assert after == before
    ServiceIncident.objects.all().delete()


@EXAMPLES
@given(
    service=st.one_of(anything, st.sampled_from(["m365", "other"])),
    category=st.one_of(anything, st.sampled_from(["billing", "subscription_management"])),
    severity=st.one_of(anything, st.sampled_from(["A", "B", "C"])),
    title=anything,
    description=anything,
    contact_email=st.one_of(anything, st.emails()),
    contact_phone=anything,
    key=st.one_of(anything, st.uuids().map(str)),
)
@example(
    service="m365",
    category="billing",
    severity="A",
    title="\x00",
    description="ok",
    contact_email="a@b.example",
    contact_phone="",
    key="",
)
@example(
    service="",
    category="billing",
    severity="B",
    title="No service chosen",
    description="ok",
    contact_email="a@b.example",
    contact_phone="",
    key="",
)
@example(
    service="m365",
    category="subscription_management",
    severity="C",
    title=" Billed twice ",
    description="ok",
    contact_email="a@b.example",
    contact_phone="+81 3-1234-5678",
    key="not a key",
)
def test_any_service_request_is_filed_once_whole_or_refused_with_nothing_filed(
    client,
    carol,
    service,
    category,
    severity,
    title,
    description,
    contact_email,
    contact_phone,
    key,
):
    from customers.models import Customer, Service, Subscription

    m365, _ = Service.objects.get_or_create(name="Microsoft 365", portal_url="https://m.example/")
    other, _ = Service.objects.get_or_create(name="Other", portal_url="https://o.example/")
    customer, _ = Customer.objects.get_or_create(
        partner=carol.partner, domain="fc.example", defaults={"name": "Fourth Coffee"}
    )
    Subscription.objects.get_or_create(customer=customer, service=m365)
    typed = {
        "service": {"m365": m365.pk, "other": other.pk}.get(service, service),
        "category": category,
        "severity": severity,
        "title": title,
        "description": description,
        "contact_name": "Ana",
        "contact_email": contact_email,
        "contact_phone": contact_phone,
        "submission_key": key,
    }
    client.force_login(carol)
    response = client.post(reverse("customers:new_request", args=[customer.pk]), typed)
    assert response.status_code in (302, 400)
    filed = Case.objects.filter(kind=Case.Kind.SERVICE_REQUEST)
    if response.status_code == 302:
        [case] = filed
        # Tailspin has no technical route: only commercial issues about a subscribed service.
        assert (case.service, case.route, case.customer) == (m365, "commercial", customer)
        assert case.category in ("billing", "subscription_management")
        assert case.title == title.strip() and case.severity in "ABC"
        filed.delete()
    else:
        assert not filed.exists()
        text = response.content.decode()
        assert 'class="error"' in text or 'class="message error"' in text
        if title.strip() and "\x00" not in title:
            assert escape(title) in text  # what was typed, kept
