"""The demo data: every documented login, and safe to load again."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import AccessRequest, Invitation, User
from entitlements.models import MembershipOffer, Partner, RoleAssignment

from .factories import PASSWORD

PAGE = "/dashboard/mpn/membership/benefits/technical"
LOGINS = [
    "admin@contoso.example",
    "mpnadmin@contoso.example",
    "agent@contoso.example",
    "useradmin@contoso.example",
    "member@contoso.example",
    "admin@fabrikam.example",
    "admin@northwind.example",
    "agent@tailspin.example",
    "admin@wideworld.example",
    "admin@adventureworks.example",
    "support@benefits.example",
]


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts():
    from activation.models import ActivationRequest
    from cloud.models import CreditAssignment
    from devtools.models import SubscriptionAssignment
    from marketing.models import MarketingContact
    from software.models import Inclusion, Product

    models = (
        Partner,
        User,
        MembershipOffer,
        RoleAssignment,
        Invitation,
        AccessRequest,
        Product,
        Inclusion,
        CreditAssignment,
        SubscriptionAssignment,
        MarketingContact,
    )
    active_go_to_market = ActivationRequest.objects.filter(
        state="active", product__area="go_to_market"
    )
    return [m.objects.count() for m in models] + [active_go_to_market.count()]


def test_it_prints_every_login_and_the_password(db):
    output = seed()
    for email in LOGINS:
        assert email in output
    assert PASSWORD in output


def test_it_can_run_again_without_duplicating_anything(db):
    seed()
    first = counts()
    seed()
    assert counts() == first
    # Products and inclusions: software, cloud, Visual Studio and Go-To-Market; one of each
    # assigned; Contoso's marketing contact, and one Go-To-Market offer of its active.
    assert first == [6, 12, 6, 10, 1, 1, 14, 27, 1, 1, 1, 1]


@pytest.mark.parametrize("email", LOGINS)
def test_every_demo_account_signs_in_with_the_demo_password(client, db, email):
    seed()
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("email", "status", "says"),
    [
        ("admin@contoso.example", 200, "Signature 5-pack"),
        ("mpnadmin@contoso.example", 200, ">Activate</button>"),
        ("agent@contoso.example", 200, "Only a Global admin or MPN partner admin can activate"),
        ("useradmin@contoso.example", 403, "Megan Bowen"),
        ("member@contoso.example", 403, "Your account has no role in Contoso Ltd"),
        ("admin@fabrikam.example", 200, "10 incidents"),
        ("admin@northwind.example", 200, "Your membership ended on"),
        ("agent@tailspin.example", 403, "You are not authorized for this action"),
        ("admin@wideworld.example", 200, "10 incidents"),
        ("admin@adventureworks.example", 200, "still managed in Partner Membership Center"),
    ],
)
def test_each_demo_account_sees_what_its_role_should(client, db, email, status, says):
    seed()
    client.force_login(User.objects.get(email=email))
    response = client.get(PAGE)
    assert response.status_code == status
    assert says in response.content.decode()


def test_contoso_has_four_benefits_to_activate(client, db):
    seed()
    client.force_login(User.objects.get(email="admin@contoso.example"))
    page = client.get(PAGE).content.decode()
    assert page.count(">Activate</button>") == 4
    for quantity in ("20 incidents", "Unlimited incidents", "15 incidents", "5 incidents"):
        assert quantity in page


def test_support_staff_reach_the_admin(client, db):
    seed()
    client.force_login(User.objects.get(email="support@benefits.example"))
    assert client.get("/admin/").status_code == 200


def test_contoso_shows_an_invited_person_and_a_request_to_decide(client, db):
    seed()
    client.force_login(User.objects.get(email="admin@contoso.example"))
    users = client.get("/dashboard/account/users").content.decode()
    assert "newhire@contoso.example" in users
    requests = client.get("/dashboard/account/requests").content.decode()
    assert "agent@contoso.example" in requests
    assert Invitation.objects.get().user.language == "ja"  # the invitation went in Japanese


def test_the_software_page_is_populated_and_loading_again_adds_nothing(client, db):
    from software.models import Download, Inclusion, LicenseKey, Product

    def software_counts():
        return [
            Product.objects.filter(area="software").count(),
            Inclusion.objects.filter(product__area="software").count(),
            LicenseKey.objects.filter(product__area="software").count(),
            Download.objects.count(),
            LicenseKey.objects.filter(product__area="cloud").count(),
        ]

    seed()
    first = software_counts()
    seed()
    assert software_counts() == first == [4, 11, 80, 24, 20]  # Dynamics 365 Sales: 20 keys

    client.force_login(User.objects.get(email="admin@fabrikam.example"))
    page = client.get("/dashboard/mpn/membership/benefits/software").content.decode()
    assert "Windows Server 2022" in page and "Microsoft Action Pack" in page
    assert "Visio" not in page  # not in Action Pack
    download = Download.objects.get(
        product__name="SQL Server", language="ja", operating_system="windows_x86"
    )
    response = client.get(f"/dashboard/mpn/membership/benefits/software/downloads/{download.pk}")
    assert "デモ" in b"".join(response.streaming_content).decode()


def test_wide_world_can_cancel_its_young_offer_for_a_refund(client, db):
    seed()
    client.force_login(User.objects.get(email="admin@wideworld.example"))
    offer = MembershipOffer.objects.get(partner__name="Wide World Importers")
    page = client.get(f"/dashboard/mpn/membership/offers/{offer.pk}").content.decode()
    assert "Request cancellation" in page
