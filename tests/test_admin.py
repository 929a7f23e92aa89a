"""Django admin for support staff: find partners, users and offers; change, never delete."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from entitlements.models import Role

from .factories import UserFactory


def test_the_support_staff_group_may_view_and_change_but_never_delete(db):
    codenames = set(
        Group.objects.get(name="Support staff").permissions.values_list("codename", flat=True)
    )
    for model in ("user", "partner", "membershipoffer", "competency", "activationrequest"):
        assert {f"view_{model}", f"change_{model}"} <= codenames
    assert {"view_activationevent", "view_supportcontract"} <= codenames
    assert {"view_invitation", "view_accessrequest"} <= codenames
    assert "change_invitation" not in codenames
    assert "change_activationevent" not in codenames
    assert not [c for c in codenames if c.startswith("delete_")]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/entitlements/partner/",
        "/admin/accounts/user/",
        "/admin/entitlements/membershipoffer/",
        "/admin/entitlements/competency/",
        "/admin/entitlements/roleassignment/",
        "/admin/accounts/invitation/",
        "/admin/accounts/accessrequest/",
    ],
)
def test_support_staff_open_every_list(sign_in, support, alice, bob, path):
    assert sign_in(support).get(path).status_code == 200


def test_a_partner_user_cannot_open_the_admin(sign_in, alice):
    response = sign_in(alice).get("/admin/entitlements/partner/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("path", "query", "present", "absent"),
    [
        ("partner", "Contoso", "Contoso Ltd", "Fabrikam Inc"),
        ("partner", "4412345", "Contoso Ltd", "Fabrikam Inc"),
        ("partner", "bob@fabrikam.example", "Fabrikam Inc", "Contoso Ltd"),
        ("membershipoffer", "4412345", "Contoso Ltd", "Fabrikam Inc"),
        ("membershipoffer", "Fabrikam", "Fabrikam Inc", "Contoso Ltd"),
    ],
)
def test_support_staff_search_by_company_mpn_id_and_email(
    sign_in, support, alice, bob, path, query, present, absent
):
    page = sign_in(support).get(f"/admin/entitlements/{path}/", {"q": query}).content.decode()
    assert present in page
    assert absent not in page


@pytest.mark.parametrize("query", ["alice@contoso.example", "Contoso", "4412345"])
def test_support_staff_find_users_by_email_company_or_mpn_id(sign_in, support, alice, bob, query):
    page = sign_in(support).get("/admin/accounts/user/", {"q": query}).content.decode()
    assert "alice@contoso.example" in page
    assert "bob@fabrikam.example" not in page


def test_support_staff_filter_users_by_role(sign_in, support, alice, aaron):
    page = sign_in(support).get(
        "/admin/accounts/user/", {"role_assignments__role": Role.ADMIN_AGENT}
    )
    page = page.content.decode()
    assert "aaron@contoso.example" in page
    assert "alice@contoso.example" not in page


def test_support_staff_filter_offers_by_status(sign_in, support, contoso):
    from .factories import OfferFactory

    OfferFactory(partner=contoso, action_pack=True, expired=True)
    client = sign_in(support)
    expired = client.get("/admin/entitlements/membershipoffer/", {"status": "expired"})
    assert "Microsoft Action Pack, Contoso Ltd" in expired.content.decode()
    active = client.get("/admin/entitlements/membershipoffer/", {"status": "active"})
    assert "Microsoft Action Pack, Contoso Ltd" not in active.content.decode()
    assert "Gold Cloud Platform, Contoso Ltd" in active.content.decode()


def test_support_staff_cannot_delete_anything(sign_in, support, alice, contoso):
    client = sign_in(support)
    assert client.get(f"/admin/accounts/user/{alice.pk}/delete/").status_code == 403
    assert client.get(f"/admin/entitlements/partner/{contoso.pk}/delete/").status_code == 403
    assert client.post(f"/admin/entitlements/partner/{contoso.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=alice.pk).exists()


def test_support_staff_create_an_account_with_its_roles(sign_in, support, contoso):
    response = sign_in(support).post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Contoso.example",
            "first_name": "New",
            "last_name": "Person",
            "partner": contoso.pk,
            "roles": [Role.MPN_PARTNER_ADMIN, Role.ADMIN_AGENT],
            "usable_password": "true",
            "password1": "Long-enough-passphrase-1",
            "password2": "Long-enough-passphrase-1",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@contoso.example")
    assert user.partner == contoso
    assert set(user.role_assignments.values_list("role", flat=True)) == {
        Role.MPN_PARTNER_ADMIN,
        Role.ADMIN_AGENT,
    }


def change_form(user, **changes):
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "partner": user.partner_id or "",
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        **changes,
    }


def test_support_staff_change_a_users_roles(sign_in, support, aaron):
    response = sign_in(support).post(
        f"/admin/accounts/user/{aaron.pk}/change/",
        change_form(aaron, roles=[Role.MPN_PARTNER_ADMIN]),
    )
    assert response.status_code == 302
    assert list(aaron.role_assignments.values_list("role", flat=True)) == [Role.MPN_PARTNER_ADMIN]


def test_a_role_needs_a_company(sign_in, support, aaron):
    response = sign_in(support).post(
        f"/admin/accounts/user/{aaron.pk}/change/",
        change_form(aaron, partner="", roles=[Role.GLOBAL_ADMIN]),
    )
    assert response.status_code == 200
    assert "Roles are held in a company" in response.content.decode()
    assert list(aaron.role_assignments.values_list("role", flat=True)) == [Role.ADMIN_AGENT]


def test_support_staff_cannot_grant_admin_access(sign_in, support, aaron):
    response = sign_in(support).post(
        f"/admin/accounts/user/{aaron.pk}/change/",
        change_form(
            aaron, roles=[Role.ADMIN_AGENT], first_name="Aaron", is_staff="on", is_superuser="on"
        ),
    )
    assert response.status_code == 302  # the change was saved, without those two
    aaron.refresh_from_db()
    assert aaron.first_name == "Aaron"
    assert not aaron.is_staff and not aaron.is_superuser


def test_support_staff_cannot_change_another_staff_account(sign_in, support, db):
    other = UserFactory(partner=None, is_staff=True, is_superuser=True)
    response = sign_in(support).post(
        f"/admin/accounts/user/{other.pk}/change/", change_form(other, first_name="Changed")
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.first_name != "Changed"


def test_a_changed_email_no_longer_receives_password_resets(sign_in, support, client, alice):
    from allauth.account.models import EmailAddress
    from django.core import mail

    from accounts.models import sync_email_address

    sync_email_address(alice)  # as created by the demo data or a first reset
    response = sign_in(support).post(
        f"/admin/accounts/user/{alice.pk}/change/",
        change_form(alice, email="alice.admin@contoso.example", roles=[Role.GLOBAL_ADMIN]),
    )
    assert response.status_code == 302
    assert list(EmailAddress.objects.filter(user=alice).values_list("email", flat=True)) == [
        "alice.admin@contoso.example"
    ]
    client.logout()
    client.post("/accounts/password/reset/", {"email": "alice@contoso.example"})
    client.post("/accounts/password/reset/", {"email": "alice.admin@contoso.example"})
    assert [message.to for message in mail.outbox if "/reset/key/" in message.body] == [
        ["alice.admin@contoso.example"]
    ]


def test_support_staff_cannot_change_a_superuser_who_is_not_staff(sign_in, support, db):
    root = UserFactory(partner=None, is_staff=False, is_superuser=True)
    response = sign_in(support).post(
        f"/admin/accounts/user/{root.pk}/change/", change_form(root, first_name="Changed")
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.first_name != "Changed"


def test_an_activated_offers_terms_are_frozen(sign_in, support, alice, contoso, clock):
    from activation import services
    from entitlements.rules import Benefit

    offer = contoso.offers.get(level="gold")
    page = sign_in(support).get(f"/admin/entitlements/membershipoffer/{offer.pk}/change/")
    assert 'name="level"' in page.content.decode()
    services.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
    page = sign_in(support).get(f"/admin/entitlements/membershipoffer/{offer.pk}/change/")
    form = page.content.decode()
    assert 'name="level"' not in form and 'name="partner"' not in form
    assert 'name="ends_on"' in form  # an offer may still be extended
