"""Property-based, as tests/test_bad_input.py: whatever is typed into Add user, a person's
roles or an invitation's password, no 500, a refusal changes nothing stored, and what was
typed is still in the form."""

import html
from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from accounts import people
from accounts.models import Invitation, User
from entitlements.models import RoleAssignment

from .test_bad_input import EXAMPLES, anything

ROLES = ["global_admin", "mpn_partner_admin", "admin_agent", "user_admin"]
some_roles = st.lists(st.one_of(st.sampled_from(ROLES), anything), max_size=5)


def stored():
    return (
        list(User.objects.order_by("pk").values_list("pk", "email", "is_active", "password")),
        list(RoleAssignment.objects.order_by("pk").values_list("user_id", "role")),
        list(Invitation.objects.order_by("pk").values_list("pk", "accepted_at", "revoked_at")),
    )


@pytest.fixture
def ursulas_client(client, ursula):
    client.force_login(ursula)
    return client


@EXAMPLES
@given(
    email=st.one_of(st.emails(), anything),
    first_name=anything,
    last_name=anything,
    roles=some_roles,
    language=st.one_of(st.sampled_from(["en", "ja", "zh-hans"]), anything),
)
@example(email="nora@contoso.example", first_name="N", last_name="R", roles=[], language="en")
@example(email="x@contoso.example", first_name="\x00", last_name="R", roles=[], language="en")
def test_add_user_never_fails_and_refusals_change_nothing(
    ursulas_client, nora, email, first_name, last_name, roles, language
):
    before = stored()
    form = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "roles": roles,
        "language": language,
    }
    response = ursulas_client.post(reverse("accounts:invite"), form)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert stored() == before
        page = response.content.decode()
        assert 'role="alert"' in page  # the form says what is wrong
        typed = last_name.strip()
        if typed and "\x00" not in typed and len(typed) <= 150 and typed.isprintable():
            assert f'value="{html.escape(typed)}"' in page  # what was typed is kept
    else:
        User.objects.filter(email__iexact=email.strip()).delete()  # the next example anew


@EXAMPLES
@given(roles=some_roles)
def test_a_persons_roles_never_fail_and_refusals_change_nothing(ursulas_client, nora, roles):
    before = stored()
    response = ursulas_client.post(
        reverse("accounts:change_roles", args=[nora.pk]), {"roles": roles}
    )
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert stored() == before
    assert not nora.role_assignments.filter(role="global_admin").exists()


@pytest.fixture
def invitation(alice, contoso):
    return people.invite(contoso, alice, "new@contoso.example", "Nina", "New", [], "en")


@EXAMPLES
@given(
    password1=anything,
    password2=anything,
    key=st.one_of(st.just(None), st.text(min_size=1, max_size=100)),
)
@example(password1="short", password2="short", key=None)
def test_the_invitation_form_never_fails_and_refusals_change_nothing(
    client, invitation, password1, password2, key
):
    url = reverse("accounts:invitation", args=[invitation.key])
    if key is not None:
        url = f"/dashboard/account/invitation/{quote(key, safe='')}"
    before = stored()
    response = client.post(url, {"password1": password1, "password2": password2})
    assert response.status_code in (302, 400, 404)
    if response.status_code != 302:
        assert stored() == before
    else:
        Invitation.objects.update(accepted_at=None)  # the next example anew
        User.objects.filter(pk=invitation.user_id).update(password="!")
        client.logout()


@EXAMPLES
@given(q=anything, role=st.one_of(st.sampled_from([*ROLES, "none", ""]), anything), page=anything)
@example(q="a\x00b", role="global_admin\x00", page="\x00")
def test_any_search_of_the_users_list_is_answered(ursulas_client, q, role, page):
    response = ursulas_client.get(reverse("accounts:users"), {"q": q, "role": role, "page": page})
    assert response.status_code == 200
