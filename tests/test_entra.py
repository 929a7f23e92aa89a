"""Sign-in with Microsoft Entra ID: the rules of accounts.entra, run through allauth's own
sign-in flow with ID tokens' claims as Entra sends them, and the page where a Global admin
connects the tenant. (The browser tests sign in against a real provider: tests/e2e.)"""

import datetime
import uuid

import pytest
from allauth.account.internal.flows.login import record_authentication
from allauth.core import context
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal.flows.login import complete_login
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from accounts import entra
from accounts.models import EntraGroupRole, EntraTenant, Invitation, User
from audit.describe import describe
from audit.models import AuditEntry
from benefits_portal.settings import entra_apps
from entitlements.models import Role

from .factories import UserFactory

TENANT = uuid.UUID("72f988bf-86f1-41af-91ab-2d7cd011db47")
OTHER_TENANT = uuid.UUID("f8cdef31-a31e-4b4a-93e4-5f571e91255a")
ADMINS_GROUP = uuid.UUID("0b0c6f4e-6d0a-4c52-9a43-2a1d3c5e7f90")
AGENTS_GROUP = uuid.UUID("5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f")


@pytest.fixture
def entra_app(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": entra_apps("http://127.0.0.1:9", "portal", "secret")}
    }


@pytest.fixture
def tenant(contoso):
    return EntraTenant.objects.create(partner=contoso, tenant_id=TENANT)


def a_request(rf, user=None):
    request = rf.get("/accounts/oidc/entra/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.session.save()
    request.user = user or AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


def sign_in_with(rf, claims, *, sub="entra-sub-1", user=None, process="login"):
    """Run allauth's flow for an ID token with these claims; returns (response, request)."""
    request = a_request(rf, user)
    if user is not None:  # just signed in with the password: no need to confirm it again
        record_authentication(request, user, "password", email=user.email, reauthenticated=True)
    with context.request_context(request):
        provider = get_adapter().get_provider(request, "entra")
        sociallogin = provider.sociallogin_from_response(
            request, {"id_token": {"sub": sub, **claims}}
        )
        sociallogin.state = {"process": process}
        response = complete_login(request, sociallogin)
    return response, request


def said(request):
    return [str(message) for message in get_messages(request)]


def token(email="alex@contoso.example", tid=TENANT, groups=(), amr=("pwd",)):
    return {
        "email": email,
        "tid": str(tid),
        "groups": [str(group) for group in groups],
        "amr": list(amr),
        "given_name": "Alex",
        "family_name": "Wilber",
    }


def test_a_new_person_of_the_connected_tenant_gets_an_account_in_that_company(
    rf, entra_app, tenant
):
    response, request = sign_in_with(rf, token(email="Alex@Contoso.example"))

    assert response.status_code == 302
    alex = User.objects.get(email="alex@contoso.example")
    assert alex.partner == tenant.partner
    assert not alex.has_usable_password()
    assert not alex.role_assignments.exists()  # no group mapped: no role
    assert alex.emailaddress_set.get().verified
    assert request.user == alex
    joined = AuditEntry.objects.get(action=AuditEntry.Action.ACCOUNT_JOINED)
    assert joined.partner == tenant.partner
    with translation.override("ja"):
        assert "Microsoft Entra ID でのサインインによる" in describe(joined.facts)


def test_another_tenant_is_refused_with_a_message(rf, entra_app, tenant):
    response, request = sign_in_with(rf, token(tid=OTHER_TENANT))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert said(request) == [str(entra.NOT_CONNECTED)]
    assert not User.objects.filter(email="alex@contoso.example").exists()
    assert not SocialAccount.objects.exists()


def test_a_token_without_a_tenant_is_refused(rf, entra_app, tenant):
    claims = token()
    del claims["tid"]
    response, request = sign_in_with(rf, claims)
    assert said(request) == [str(entra.NOT_CONNECTED)]
    assert not SocialAccount.objects.exists()


def test_a_matching_email_alone_never_links_an_existing_account(rf, entra_app, tenant, alice):
    response, request = sign_in_with(rf, token(email="ALICE@contoso.example"))

    assert response["Location"] == reverse("account_login")
    assert said(request) == [str(entra.EMAIL_TAKEN)]
    assert not SocialAccount.objects.exists()
    assert request.user.is_anonymous


def test_an_address_another_account_has_added_is_not_taken_either(rf, entra_app, tenant, alice):
    alice.emailaddress_set.create(email="alex@contoso.example", verified=True, primary=False)
    response, request = sign_in_with(rf, token(email="alex@contoso.example"))
    assert said(request) == [str(entra.EMAIL_TAKEN)]
    assert not SocialAccount.objects.exists()
    assert not User.objects.filter(email="alex@contoso.example").exists()


def test_allauths_sign_up_form_is_closed_whatever_the_tenant(client, rf, entra_app, tenant):
    # A sign-up left pending (as allauth does when it can't sign up automatically): its form
    # would let another address be typed. Only the automatic sign-up makes an account.
    request = a_request(rf)
    with context.request_context(request):
        provider = get_adapter().get_provider(request, "entra")
        pending = provider.sociallogin_from_response(request, {"id_token": {"sub": "s", **token()}})
    session = client.session
    session["socialaccount_sociallogin"] = pending.serialize()
    session.save()

    response = client.post(reverse("socialaccount_signup"), {"email": "mallory@evil.example"})
    assert "Sign up closed" in response.content.decode() or response.status_code == 302
    assert not User.objects.filter(email__in=["mallory@evil.example", "alex@contoso.example"])


def test_an_open_invitation_links_the_invited_account_and_is_used_up(rf, entra_app, tenant, alice):
    invited = UserFactory(email="ines@contoso.example", partner=tenant.partner)
    invited.set_unusable_password()
    invited.save()
    invitation = Invitation.objects.create(
        partner=tenant.partner,
        user=invited,
        email=invited.email,
        invited_by=alice,
        key_digest="a" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )

    response, request = sign_in_with(rf, token(email="ines@contoso.example"))

    assert request.user == invited
    assert SocialAccount.objects.get().user == invited
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.INVITATION_ACCEPTED).count() == 1
    assert User.objects.filter(email="ines@contoso.example").count() == 1


def test_an_expired_invitation_links_nothing(rf, entra_app, tenant, alice):
    invited = UserFactory(email="ines@contoso.example", partner=tenant.partner)
    Invitation.objects.create(
        partner=tenant.partner,
        user=invited,
        email=invited.email,
        key_digest="b" * 64,
        expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    response, request = sign_in_with(rf, token(email="ines@contoso.example"))
    assert said(request) == [str(entra.EMAIL_TAKEN)]
    assert not SocialAccount.objects.exists()


def test_an_invitation_of_another_company_links_nothing(rf, entra_app, tenant, bob):
    invited = UserFactory(email="ines@fabrikam.example", partner=bob.partner)
    Invitation.objects.create(
        partner=bob.partner,
        user=invited,
        email=invited.email,
        key_digest="c" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    response, request = sign_in_with(rf, token(email="ines@fabrikam.example"))
    assert said(request) == [str(entra.EMAIL_TAKEN)]
    assert not SocialAccount.objects.exists()


def test_a_linked_account_moved_to_another_company_is_refused(rf, entra_app, tenant, bob):
    sign_in_with(rf, token())
    alex = User.objects.get(email="alex@contoso.example")
    alex.partner = bob.partner
    alex.save()

    response, request = sign_in_with(rf, token())
    assert said(request) == [str(entra.OTHER_COMPANY)]
    assert request.user.is_anonymous


def test_a_signed_in_account_connects_only_its_own_companys_tenant(rf, entra_app, tenant, bob):
    response, request = sign_in_with(
        rf, token(email="bob@fabrikam.example"), user=bob, process="connect"
    )
    assert said(request) == [str(entra.LINK_TO_OWN_COMPANY)]
    assert not SocialAccount.objects.exists()


def test_a_signed_in_account_connects_its_entra_account(rf, entra_app, tenant, nora):
    # Its Entra address may differ: linking is the signed-in person's own choice.
    sign_in_with(rf, token(email="nora.w@contoso.example"), user=nora, process="connect")
    assert SocialAccount.objects.get().user == nora

    response, request = sign_in_with(rf, token(email="nora.w@contoso.example"))
    assert request.user == nora


def test_the_groups_decide_the_roles_at_each_sign_in(rf, entra_app, tenant):
    tenant.group_roles.create(group_id=ADMINS_GROUP, role=Role.MPN_PARTNER_ADMIN)
    tenant.group_roles.create(group_id=AGENTS_GROUP, role=Role.ADMIN_AGENT)

    sign_in_with(rf, token(groups=[ADMINS_GROUP, AGENTS_GROUP, uuid.uuid4()]))
    alex = User.objects.get(email="alex@contoso.example")
    assert set(alex.role_assignments.values_list("role", flat=True)) == {
        Role.MPN_PARTNER_ADMIN,
        Role.ADMIN_AGENT,
    }

    sign_in_with(rf, token(groups=[AGENTS_GROUP]))
    assert set(alex.role_assignments.values_list("role", flat=True)) == {Role.ADMIN_AGENT}
    removed = AuditEntry.objects.get(action=AuditEntry.Action.ROLE_REMOVED)
    assert removed.facts["role"] == Role.MPN_PARTNER_ADMIN


def test_too_many_groups_for_the_token_leave_the_roles_as_they_are(rf, entra_app, tenant):
    tenant.group_roles.create(group_id=ADMINS_GROUP, role=Role.MPN_PARTNER_ADMIN)
    sign_in_with(rf, token(groups=[ADMINS_GROUP]))
    overage = token()
    del overage["groups"]
    overage["_claim_names"] = {"groups": "src1"}

    sign_in_with(rf, overage)
    alex = User.objects.get(email="alex@contoso.example")
    assert list(alex.role_assignments.values_list("role", flat=True)) == [Role.MPN_PARTNER_ADMIN]


def test_without_mappings_the_roles_given_in_the_portal_stay(rf, entra_app, tenant, alice):
    sign_in_with(rf, token(groups=[ADMINS_GROUP]))
    alex = User.objects.get(email="alex@contoso.example")
    from entitlements.services import set_roles

    set_roles(alex, [Role.ADMIN_AGENT], alice)
    sign_in_with(rf, token(groups=[]))
    assert list(alex.role_assignments.values_list("role", flat=True)) == [Role.ADMIN_AGENT]


def test_the_last_global_admin_keeps_that_role_whatever_the_groups_say(rf, entra_app, tenant):
    tenant.group_roles.create(group_id=ADMINS_GROUP, role=Role.GLOBAL_ADMIN)
    sign_in_with(rf, token(groups=[ADMINS_GROUP], amr=["pwd", "mfa"]))
    alex = User.objects.get(email="alex@contoso.example")
    assert list(alex.role_assignments.values_list("role", flat=True)) == [Role.GLOBAL_ADMIN]

    sign_in_with(rf, token(groups=[]))
    assert list(alex.role_assignments.values_list("role", flat=True)) == [Role.GLOBAL_ADMIN]


def test_a_second_global_admin_loses_the_role_with_the_group(rf, entra_app, tenant, alice):
    tenant.group_roles.create(group_id=ADMINS_GROUP, role=Role.GLOBAL_ADMIN)
    sign_in_with(rf, token(groups=[ADMINS_GROUP]))
    sign_in_with(rf, token(groups=[]))
    alex = User.objects.get(email="alex@contoso.example")
    assert not alex.role_assignments.exists()


def test_entras_mfa_stands_for_two_factor_only_when_the_token_says_so(rf, entra_app, tenant):
    tenant.group_roles.create(group_id=ADMINS_GROUP, role=Role.MPN_PARTNER_ADMIN)

    _, request = sign_in_with(rf, token(groups=[ADMINS_GROUP], amr=["pwd", "mfa"]))
    assert request.session[entra.ENTRA_MFA_SESSION_KEY] is True
    _, request = sign_in_with(rf, token(groups=[ADMINS_GROUP], amr=["pwd"]))
    assert request.session[entra.ENTRA_MFA_SESSION_KEY] is False


def test_the_two_factor_rule_reads_the_session(client, mona):
    mona.authenticator_set.all().delete()
    page = reverse("entitlements:technical_benefits")
    client.force_login(mona)
    assert client.get(page)["Location"].startswith(reverse("mfa_activate_totp"))

    session = client.session
    session[entra.ENTRA_MFA_SESSION_KEY] = True
    session.save()
    assert client.get(page).status_code == 200


def test_the_sign_in_page_offers_entra_only_when_configured(client, db, settings):
    button = "Sign in with Microsoft Entra ID"
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    assert button not in client.get(reverse("account_login")).content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": entra_apps("http://127.0.0.1:9", "portal", "secret")}
    }
    page = client.get(reverse("account_login")).content.decode()
    assert button in page
    assert 'action="/accounts/oidc/entra/login/?process=login"' in page


def test_the_account_menu_links_to_the_entra_connection_only_when_configured(
    client, nora, settings
):
    client.force_login(nora)
    link = reverse("socialaccount_connections")
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    assert link not in client.get(reverse("audit:log")).content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": entra_apps("http://127.0.0.1:9", "portal", "secret")}
    }
    assert link in client.get(reverse("audit:log")).content.decode()


def test_entras_multi_tenant_issuer_is_checked_with_the_tokens_tenant(rf, db, entra_app):
    import jwt

    adapter = entra.EntraOAuth2Adapter(rf.get("/"), "entra")
    adapter._openid_config = {
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
        "jwks_uri": "http://127.0.0.1:9/keys",
    }
    adapter.did_fetch_access_token = True  # straight from the token endpoint: not re-signed
    app = get_adapter().get_app(None, "entra")
    now = int(timezone.now().timestamp())
    claims = {"aud": "portal", "iat": now, "exp": now + 60, "tid": str(TENANT)}
    good = jwt.encode(
        {**claims, "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0"}, "k" * 32, "HS256"
    )
    assert adapter._decode_id_token(app, good)["tid"] == str(TENANT)
    forged = jwt.encode(
        {**claims, "iss": f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"},
        "k" * 32,
        "HS256",
    )
    from allauth.socialaccount.providers.oauth2.client import OAuth2Error

    with pytest.raises(OAuth2Error):
        adapter._decode_id_token(app, forged)


# The actions behind Account settings → Sign-in.


def test_connecting_changing_and_disconnecting_are_audited(contoso, alice):
    tenant = entra.connect_tenant(contoso, TENANT, alice)
    entra.map_group(contoso, ADMINS_GROUP, Role.ADMIN_AGENT, alice)
    assert entra.connect_tenant(contoso, TENANT, alice) == tenant  # nothing changes

    entra.connect_tenant(contoso, OTHER_TENANT, alice)
    assert EntraTenant.objects.get(partner=contoso).tenant_id == OTHER_TENANT
    assert not EntraGroupRole.objects.exists()  # they named the old tenant's groups
    assert entra.disconnect_tenant(contoso, alice)
    assert not entra.disconnect_tenant(contoso, alice)

    actions = list(
        AuditEntry.objects.filter(partner=contoso, action__startswith="entra")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["entra_connected", "entra_changed", "entra_changed", "entra_disconnected"]
    changed = AuditEntry.objects.filter(action="entra_changed").order_by("pk")
    with translation.override("ja"):
        assert describe(changed[0].facts) == (
            f"グループ {ADMINS_GROUP}、管理エージェント、対応付けを追加"
        )
        assert describe(changed[1].facts) == f"テナント ID: {TENANT} → {OTHER_TENANT}"


def test_one_company_per_tenant(contoso, alice, bob):
    entra.connect_tenant(contoso, TENANT, alice)
    with pytest.raises(ValidationError) as refused:
        entra.connect_tenant(bob.partner, TENANT, bob)
    assert refused.value.messages == ["This tenant is already connected to another company."]
    assert not EntraTenant.objects.filter(partner=bob.partner).exists()


def test_a_group_gives_a_role_once(contoso, alice):
    with pytest.raises(ValidationError):
        entra.map_group(contoso, ADMINS_GROUP, Role.ADMIN_AGENT, alice)  # no tenant yet
    entra.connect_tenant(contoso, TENANT, alice)
    mapping = entra.map_group(contoso, ADMINS_GROUP, Role.ADMIN_AGENT, alice)
    with pytest.raises(ValidationError) as refused:
        entra.map_group(contoso, ADMINS_GROUP, Role.ADMIN_AGENT, alice)
    assert refused.value.messages == ["This group already gives this role."]
    assert entra.unmap_group(contoso, mapping, alice)
    assert not entra.unmap_group(contoso, mapping, alice)  # a second click


# The page.


def test_a_global_admin_connects_the_tenant_from_the_page(client, alice):
    client.force_login(alice)
    url = reverse("accounts:entra")
    response = client.post(url, {"tenant_id": f"{{{str(TENANT).upper()}}}"})
    assert response.status_code == 302
    assert EntraTenant.objects.get(partner=alice.partner).tenant_id == TENANT

    response = client.post(
        reverse("accounts:entra_add_group"),
        {"group_id": str(ADMINS_GROUP), "role": Role.MPN_PARTNER_ADMIN},
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert str(TENANT) in page
    assert str(ADMINS_GROUP) in page


def test_a_tenant_of_another_company_is_refused_on_the_page_with_the_typed_text_kept(
    client, alice, bob
):
    EntraTenant.objects.create(partner=bob.partner, tenant_id=TENANT)
    client.force_login(alice)
    response = client.post(reverse("accounts:entra"), {"tenant_id": str(TENANT)})
    assert response.status_code == 409
    page = response.content.decode()
    assert "This tenant is already connected to another company." in page
    assert f'value="{TENANT}"' in page
    assert not EntraTenant.objects.filter(partner=alice.partner).exists()


def test_a_badly_typed_tenant_id_says_what_is_expected(client, alice):
    client.force_login(alice)
    response = client.post(reverse("accounts:entra"), {"tenant_id": "contoso.onmicrosoft.com"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "32 hexadecimal digits" in page
    assert 'value="contoso.onmicrosoft.com"' in page
    assert 'aria-invalid="true"' in page


def test_another_companys_mapping_is_not_found(client, contoso, alice, bob):
    tenant = EntraTenant.objects.create(partner=contoso, tenant_id=TENANT)
    mapping = tenant.group_roles.create(group_id=ADMINS_GROUP, role=Role.ADMIN_AGENT)
    client.force_login(bob)
    url = reverse("accounts:entra_remove_group", args=[mapping.pk])
    assert client.post(url).status_code == 404
    assert EntraGroupRole.objects.filter(pk=mapping.pk).exists()


def test_only_those_who_manage_sign_in_see_the_link(client, alice, mona):
    client.force_login(mona)
    assert reverse("accounts:entra") not in client.get(reverse("audit:log")).content.decode()
    client.force_login(alice)
    assert reverse("accounts:entra") in client.get(reverse("audit:log")).content.decode()


def test_the_sign_in_callback_runs_outside_the_request_transaction(db):
    from django.urls import resolve

    from accounts import entra_views

    match = resolve("/accounts/oidc/entra/login/callback/")
    assert match.func is entra_views.callback
    assert "default" in match.func._non_atomic_requests


def test_a_deactivated_account_is_refused_and_its_roles_stay(rf, entra_app, tenant):
    tenant.group_roles.create(group_id=ADMINS_GROUP, role=Role.ADMIN_AGENT)
    sign_in_with(rf, token(groups=[ADMINS_GROUP]))
    alex = User.objects.get(email="alex@contoso.example")
    alex.is_active = False
    alex.save()

    response, request = sign_in_with(rf, token(groups=[]))
    assert request.user.is_anonymous
    assert list(alex.role_assignments.values_list("role", flat=True)) == [Role.ADMIN_AGENT]


def test_an_old_invitation_of_an_account_moved_away_links_nothing(rf, entra_app, tenant, bob):
    # The invitation was made by the tenant's company; the account has been moved since (not
    # through account_moved, which would have ended the link): it belongs to Fabrikam now.
    invited = UserFactory(email="ines@contoso.example", partner=bob.partner)
    Invitation.objects.create(
        partner=tenant.partner,
        user=invited,
        email=invited.email,
        key_digest="d" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    response, request = sign_in_with(rf, token(email="ines@contoso.example"))
    assert said(request) == [str(entra.EMAIL_TAKEN)]
    assert not SocialAccount.objects.exists()
