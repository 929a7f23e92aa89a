"""The Software page: entitled products, Get keys, downloads, and the keys pool in admin."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from entitlements.rules import Level, OfferKind
from notices.services import send_pending
from software import services
from software.models import Download, Inclusion, KeyShortage, LicenseKey, Product

from .factories import OfferFactory, competency, pool, software

pytestmark = pytest.mark.django_db

PAGE = reverse("entitlements:software")


@pytest.fixture
def server(contoso):
    """Windows Server 2022: 2 keys with any Gold competency, 1 with Action Pack; a pool of 5."""
    product = software(
        "Windows Server", keys=2, kind=OfferKind.COMPETENCY, level=Level.GOLD,
        editions="Standard, Datacenter", instructions="Use the Datacenter key on hosts only.",
    )  # fmt: skip
    Inclusion.objects.create(
        product=product, kind=OfferKind.ACTION_PACK, keys=1, since=datetime.date(2015, 1, 1)
    )
    pool(product, 5)
    return product


@pytest.fixture
def gold(contoso):
    return contoso.offers.get(level=Level.GOLD)


def row_url(offer, product):
    return reverse("software:product", args=[offer.pk, product.pk])


def keys_url(offer, product):
    return reverse("software:get_keys", args=[offer.pk, product.pk])


def add_download(product, language="en", operating_system="windows_x64", body=b"setup"):
    download = Download(product=product, language=language, operating_system=operating_system)
    download.file.save(f"{product.name}-{language}-{operating_system}.txt", ContentFile(body))
    return download


# Which products, through which offer


def test_a_product_two_offers_include_is_one_row_provided_by_the_highest_level(contoso, gold):
    both = software("SQL Server", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    Inclusion.objects.create(
        product=both, kind=OfferKind.COMPETENCY, level=Level.SILVER, since=datetime.date(2015, 1, 1)
    )

    rows = services.entitled_products(contoso)

    assert [(row.product.name, row.offer) for row in rows] == [("SQL Server", gold)]


def test_an_offer_takes_the_inclusions_in_force_on_its_start_date(contoso, gold):
    later = software("Visio", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    later.inclusions.update(since=gold.starts_on + datetime.timedelta(days=1))
    ended = software("Project", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    ended.inclusions.update(since=datetime.date(2015, 1, 1), until=gold.starts_on)
    running = software("Office LTSC", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    running.inclusions.update(
        since=gold.starts_on, until=gold.starts_on + datetime.timedelta(days=1)
    )

    assert [row.product.name for row in services.entitled_products(contoso)] == ["Office LTSC"]


def test_an_inclusion_naming_a_competency_is_for_that_competency_only(contoso):
    product = software("Power BI Report Server", kind=OfferKind.COMPETENCY, level=Level.SILVER)
    product.inclusions.update(competency=competency("Datacenter"))
    assert services.entitled_products(contoso) == []

    product.inclusions.update(competency=competency("Data Analytics"))
    assert [row.product for row in services.entitled_products(contoso)] == [product]


def test_ended_offers_and_cloud_products_are_not_software(contoso, gold, server):
    software("Azure", area=Product.Area.CLOUD, kind=OfferKind.COMPETENCY, level=Level.GOLD)
    assert [row.product for row in services.entitled_products(contoso)] == [server]

    contoso.offers.update(ends_on=timezone.localdate() - datetime.timedelta(days=1))
    assert services.entitled_products(contoso) == []


# Get keys


def test_get_keys_draws_the_included_keys_once_and_records_the_first_view(alice, gold, server):
    keys = services.get_keys(alice, gold, server)
    again = services.get_keys(alice, gold, server)

    assert len(keys) == 2
    assert [k.key for k in again] == [k.key for k in keys]
    drawn = LicenseKey.objects.filter(offer=gold)
    assert drawn.count() == 2
    assert {k.first_viewed_by for k in drawn} == {alice}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.KEYS_VIEWED)
    assert entry.actor == alice
    assert "Windows Server 2022" in entry.subject
    assert entry.facts["keys"] == 2


def test_a_second_admin_sees_the_same_keys_first_viewed_by_the_first(alice, mona, gold, server):
    first = services.get_keys(alice, gold, server)
    second = services.get_keys(mona, gold, server)

    assert [k.key for k in second] == [k.key for k in first]
    assert {k.first_viewed_by for k in second} == {alice}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.KEYS_VIEWED).count() == 1


def test_another_company_gets_other_keys(alice, bob, gold, server):
    ours = {k.key for k in services.get_keys(alice, gold, server)}
    theirs = {k.key for k in services.get_keys(bob, bob.partner.offers.get(), server)}

    assert len(theirs) == 1  # Action Pack includes one
    assert not ours & theirs


def test_no_keys_left_draws_nothing_tells_staff_once_and_a_later_call_draws_them(
    alice, gold, server, support
):
    LicenseKey.objects.filter(pk__in=LicenseKey.objects.order_by("pk")[1:]).delete()

    for _ in range(2):
        with pytest.raises(services.NoKeysLeft):
            services.get_keys(alice, gold, server)

    assert LicenseKey.objects.filter(offer__isnull=False).count() == 0
    shortage = KeyShortage.objects.get()
    assert (shortage.wanted, shortage.free, shortage.resolved_at) == (2, 1, None)
    send_pending()
    [email] = mail.outbox
    assert email.to == [support.email]
    assert email.subject == "No Windows Server 2022 keys left for Contoso Ltd"
    assert "the offer includes 2 key(s), and the pool has 1 free" in email.body
    assert f"/admin/software/product/{server.pk}/change/" in email.body

    pool(server, 3, prefix="MORE")
    assert len(services.get_keys(alice, gold, server)) == 2
    shortage.refresh_from_db()
    assert shortage.resolved_at is not None


def test_get_keys_is_for_the_own_company_active_offers_and_the_two_admin_roles(
    alice, aaron, bob, gold, server
):
    with pytest.raises(Http404):
        services.get_keys(bob, gold, server)
    with pytest.raises(PermissionDenied):
        services.get_keys(aaron, gold, server)
    unincluded = software("Visio")  # Action Pack only
    with pytest.raises(Http404):
        services.get_keys(alice, gold, unincluded)
    gold.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    gold.save()
    with pytest.raises(Http404):
        services.get_keys(alice, gold, server)
    assert not LicenseKey.objects.filter(offer__isnull=False).exists()


# The page


def test_the_page_lists_each_product_with_its_offer_and_instructions(client, alice, server):
    client.force_login(alice)
    html = client.get(PAGE).content.decode()

    assert "Windows Server 2022" in html
    assert "Standard, Datacenter" in html
    assert "Gold Cloud Platform" in html
    assert "Use the Datacenter key on hosts only." in html
    assert "Get keys" in html


def test_search_narrows_by_name_and_keeps_what_was_typed(client, alice, server):
    software("SQL Server", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    client.force_login(alice)

    html = client.get(PAGE, {"q": "sql"}).content.decode()
    assert "SQL Server" in html and "Windows Server" not in html

    html = client.get(PAGE, {"q": "<nothing>"}).content.decode()
    assert "No product matches “&lt;nothing&gt;”." in html
    assert 'value="&lt;nothing&gt;"' in html


def test_a_long_list_is_paginated(client, alice):
    for n in range(30):
        software(f"Product {n:02d}", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    client.force_login(alice)

    first = client.get(PAGE).content.decode()
    second = client.get(PAGE, {"page": 2}).content.decode()

    assert "Product 00" in first and "Product 29" not in first
    assert "Product 29" in second and "Page 2 of 2" in second


def test_a_company_without_software_sees_a_plain_empty_state(client, alice):
    client.force_login(alice)
    response = client.get(PAGE)
    assert "have any software benefits yet" in response.content.decode()


def test_a_company_not_in_mpn_is_not_authorized(client, carol):
    client.force_login(carol)
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "You are not authorized for this action" in response.content.decode()


def test_people_without_a_benefits_role_are_told_whom_to_ask(client, alice, nora, ursula):
    for person in (nora, ursula):
        client.force_login(person)
        response = client.get(PAGE)
        assert response.status_code == 403
        assert alice.email in response.content.decode()


def test_an_admin_agent_sees_the_list_but_not_get_keys(client, aaron, alice, gold, server):
    services.get_keys(alice, gold, server)
    client.force_login(aaron)

    html = client.get(PAGE).content.decode()
    assert "Windows Server 2022" in html
    assert "disabled" in html and "can get keys" in html
    assert alice.email in html  # who can
    for key in LicenseKey.objects.filter(offer=gold):
        assert key.key not in html
    assert client.post(keys_url(gold, server)).status_code == 403


def test_get_keys_by_htmx_shows_the_keys_and_a_reload_shows_the_same(client, mona, gold, server):
    client.force_login(mona)

    fragment = client.post(keys_url(gold, server), headers={"HX-Request": "true"})
    keys = list(LicenseKey.objects.filter(offer=gold).values_list("key", flat=True))
    assert len(keys) == 2
    assert all(key in fragment.content.decode() for key in keys)
    assert "First viewed" in fragment.content.decode()

    page = client.get(PAGE).content.decode()
    assert all(key in page for key in keys)


def test_get_keys_without_javascript_redirects_to_the_open_row(client, alice, gold, server):
    client.force_login(alice)

    response = client.post(keys_url(gold, server))

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f'id="product-{gold.pk}-{server.pk}" open' in page
    assert LicenseKey.objects.filter(offer=gold).count() == 2


def test_no_keys_left_is_told_plainly_and_the_row_offers_keys_once_loaded(
    client, alice, gold, server
):
    LicenseKey.objects.all().delete()
    client.force_login(alice)

    fragment = client.post(keys_url(gold, server), headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "No keys left." in html
    assert "waiting=1" in html  # the row asks again by itself

    waiting = client.get(f"{row_url(gold, server)}?waiting=1", headers={"HX-Request": "true"})
    assert "No keys left." in waiting.content.decode()

    pool(server, 2)
    back = client.get(f"{row_url(gold, server)}?waiting=1", headers={"HX-Request": "true"})
    assert "License keys are available again." in back.content.decode()
    assert "waiting=1" not in back.content.decode()


def test_another_companys_offer_or_product_is_a_404(client, alice, bob, gold, server):
    theirs = bob.partner.offers.get()
    client.force_login(alice)
    assert client.get(row_url(theirs, server)).status_code == 404
    assert client.post(keys_url(theirs, server)).status_code == 404
    assert client.post(keys_url(gold, software("Visio"))).status_code == 404
    assert not LicenseKey.objects.filter(offer__isnull=False).exists()


# Downloads


def test_language_and_os_narrow_the_download_links(client, alice, gold, server):
    english = add_download(server, "en", "windows_x64")
    japanese = add_download(server, "ja", "windows_x86")
    client.force_login(alice)

    html = client.get(
        row_url(gold, server), {"language": "ja", "os": "windows_x86"}, headers={"HX-Request": "1"}
    ).content.decode()
    assert reverse("software:download", args=[japanese.pk]) in html
    assert reverse("software:download", args=[english.pk]) not in html

    none = client.get(row_url(gold, server), {"language": "ja", "os": "windows_x64"})
    assert "No download for this language and operating system type" in none.content.decode()

    # Without a choice: the reader's language.
    page = client.get(PAGE).content.decode()
    assert reverse("software:download", args=[english.pk]) in page
    assert reverse("software:download", args=[japanese.pk]) not in page


def test_a_download_is_served_as_an_attachment_to_entitled_companies_only(
    client, alice, aaron, bob, server
):
    download = add_download(server, body=b"Windows Server setup")
    url = reverse("software:download", args=[download.pk])
    visio = add_download(software("Visio"), body=b"Visio setup")  # Action Pack only

    client.force_login(aaron)  # an Admin agent downloads too
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"Windows Server setup"
    assert response["Content-Disposition"].startswith("attachment;")

    assert client.get(reverse("software:download", args=[visio.pk])).status_code == 404
    client.force_login(bob)
    assert client.get(reverse("software:download", args=[visio.pk])).status_code == 200


def test_one_file_per_product_language_and_os(server):
    from django.db import IntegrityError, transaction

    add_download(server)
    with pytest.raises(IntegrityError), transaction.atomic():
        add_download(server)


# The pool in admin


def load(client, product, body):
    return client.post(
        reverse("admin:software_licensekey_add"),
        {"product": product.pk, "file": SimpleUploadedFile("keys.csv", body)},
    )


def test_staff_load_a_file_of_keys(client, support, server):
    client.force_login(support)

    response = load(client, server, b"key\nNEW01-AAAAA\n\nnew02-bbbbb,ignored\n")

    assert response.status_code == 302
    assert set(LicenseKey.objects.filter(key__startswith="NEW").values_list("key", flat=True)) == {
        "NEW01-AAAAA",
        "NEW02-BBBBB",
    }


def test_a_file_with_bad_rows_is_refused_whole_naming_each_row(client, support, server):
    existing = LicenseKey.objects.first().key
    client.force_login(support)
    before = LicenseKey.objects.count()

    response = load(client, server, f"GOOD1-AAAAA\nnot a key!\nGOOD1-AAAAA\n{existing}\n".encode())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Row 2: “NOT A KEY!” is not a key" in html
    assert "Row 3: GOOD1-AAAAA is in the file already (row 1)." in html
    assert f"Row 4: {existing} is in the pool already." in html
    assert "Nothing was loaded." in html
    assert LicenseKey.objects.count() == before


def test_an_empty_or_binary_file_is_refused(client, support, server):
    client.force_login(support)
    assert "The file has no keys." in load(client, server, b"\n\n").content.decode()
    assert "The file is not UTF-8 text." in load(client, server, b"\xff\xfe\x00").content.decode()


def test_staff_see_free_keys_and_the_products_that_ran_out(client, support, alice, gold, server):
    empty = software("Visio 2", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    with pytest.raises(services.NoKeysLeft):
        services.get_keys(alice, gold, empty)
    client.force_login(support)

    products = reverse("admin:software_product_changelist")
    html = client.get(products, {"pool": "ran_out"}).content.decode()
    assert "Visio 2" in html and "Windows Server" not in html
    shortages = client.get(reverse("admin:software_keyshortage_changelist")).content.decode()
    assert "Contoso Ltd" in shortages and "Visio 2" in shortages
    html = client.get(products).content.decode()
    assert f'product__id__exact={server.pk}&amp;drawn=free">5<' in html


def test_an_offer_of_another_kind_of_product_is_refused_for_keys(support, server):
    cloud = Product.objects.create(
        name="Azure", area=Product.Area.CLOUD, delivery=Product.Delivery.ASSIGNED_CREDIT
    )
    with pytest.raises(services.KeysRefused):
        services.load_keys(cloud, b"AAAAA-BBBBB")


def test_an_offer_that_started_later_is_provided_over_an_earlier_one_of_the_same_level(bob):
    fabrikam = bob.partner
    product = software("Office LTSC")
    old = fabrikam.offers.get()
    newer = OfferFactory(
        partner=fabrikam,
        competency=competency("Datacenter"),
        level=Level.SILVER,
        starts_on=old.starts_on + datetime.timedelta(days=1),
    )
    product.inclusions.create(
        kind=OfferKind.COMPETENCY, level=Level.SILVER, since=datetime.date(2015, 1, 1)
    )

    [row] = services.entitled_products(fabrikam)
    assert row.offer == newer


def test_the_company_log_shows_who_first_viewed_which_keys_in_the_readers_language(
    client, alice, gold, server
):
    services.get_keys(alice, gold, server)
    client.force_login(alice)

    english = client.get(reverse("audit:log")).content.decode()
    assert "License keys first viewed" in english
    assert "Windows Server 2022, 2 keys" in english
    alice.language = "ja"
    alice.save(update_fields=["language"])
    japanese = client.get(reverse("audit:log")).content.decode()
    assert "ライセンス キーの初回表示" in japanese
    assert "キー 2 個" in japanese


def test_staff_add_a_product_with_its_inclusions_and_downloads(client, support):
    client.force_login(support)
    response = client.get(reverse("admin:software_product_add"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "inclusions-TOTAL_FORMS" in html and "downloads-TOTAL_FORMS" in html
    assert client.get(reverse("admin:software_keyshortage_changelist")).status_code == 200


def test_all_languages_is_a_choice_too(client, alice, gold, server):
    english = add_download(server, "en", "windows_x64")
    japanese = add_download(server, "ja", "windows_x64")
    client.force_login(alice)

    html = client.get(row_url(gold, server), {"language": "", "os": ""}).content.decode()

    assert reverse("software:download", args=[english.pk]) in html
    assert reverse("software:download", args=[japanese.pk]) in html
