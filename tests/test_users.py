"""Account settings → Users: inviting people, their links, their roles, deactivating and
removing them, and the company's last Global admin, who always stays."""

import datetime
import hashlib
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import people
from accounts.models import Invitation, User
from audit.models import AuditEntry
from entitlements.models import Role
from entitlements.permissions import roles_of
from notices.services import send_pending
from support.models import ContractLink

from .factories import UserFactory

Action = AuditEntry.Action
LINK = re.compile(r"http\S+/dashboard/account/invitation/(\S+)")


def invite(partner, actor, email="new@contoso.example", roles=(), language="en"):
    return people.invite(partner, actor, email, "Nina", "New", roles, language)


def key_in(message):
    return LINK.search(message.body).group(1)


@pytest.fixture
def gia(contoso):
    """Contoso's second Global admin."""
    return UserFactory(email="gia@contoso.example", partner=contoso, roles=[Role.GLOBAL_ADMIN])


# Inviting


def test_an_invitation_makes_an_account_without_password_and_emails_a_link_in_its_language(
    alice, contoso, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(contoso, alice, "New@Contoso.example", [Role.ADMIN_AGENT], "ja")

    person = User.objects.get(email="new@contoso.example")
    assert person.partner == contoso and person.language == "ja"
    assert not person.has_usable_password()
    assert roles_of(person) == {Role.ADMIN_AGENT}
    # Only the key's digest is kept; the key is only in the email.
    assert invitation.key_digest == hashlib.sha256(invitation.key.encode()).hexdigest()
    assert not Invitation.objects.filter(key_digest=invitation.key).exists()
    assert invitation.expires_at - invitation.sent_at == datetime.timedelta(days=7)
    send_pending()
    (message,) = mail.outbox
    assert message.to == ["new@contoso.example"]
    assert "Contoso Ltd" in message.subject and "招待" in message.subject
    assert key_in(message) == invitation.key
    entry = AuditEntry.objects.get(action=Action.INVITATION_SENT)
    assert entry.actor == alice and entry.facts["roles"] == [Role.ADMIN_AGENT]


def test_an_address_that_has_an_account_is_refused_plainly_and_nothing_is_made(
    alice, nora, contoso, bob
):
    for address in ("nora@contoso.example", "NORA@contoso.example", "bob@fabrikam.example"):
        with pytest.raises(ValidationError, match="already exists"):
            invite(contoso, alice, address)
    assert Invitation.objects.count() == 0
    assert User.objects.count() == 3


def test_the_add_user_page_keeps_what_was_typed_when_the_address_is_taken(
    client, alice, nora, contoso
):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:invite"),
        {
            "email": "nora@contoso.example",
            "first_name": "Nora",
            "last_name": "Again",
            "roles": ["admin_agent"],
            "language": "en",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "An account with this email address already exists." in page
    assert 'value="Again"' in page
    assert Invitation.objects.count() == 0


def test_a_global_admin_invites_through_the_page(client, alice, contoso, mailoutbox):
    client.force_login(alice)
    with_commit = client.post(
        reverse("accounts:invite"),
        {
            "email": "ivy@contoso.example",
            "first_name": "Ivy",
            "last_name": "Ives",
            "roles": ["global_admin"],
            "language": "zh-hans",
        },
    )
    person = User.objects.get(email="ivy@contoso.example")
    assert with_commit.status_code == 302
    assert with_commit["Location"] == reverse("accounts:user", args=[person.pk])
    assert roles_of(person) == {Role.GLOBAL_ADMIN}
    assert person.language == "zh-hans"


def test_a_user_admin_sees_no_global_admin_box_and_a_forged_one_is_refused(client, ursula, contoso):
    client.force_login(ursula)
    page = client.get(reverse("accounts:invite")).content.decode()
    assert 'value="global_admin"' not in page and 'value="user_admin"' in page

    response = client.post(
        reverse("accounts:invite"),
        {
            "email": "ivy@contoso.example",
            "first_name": "Ivy",
            "last_name": "Ives",
            "roles": ["global_admin"],
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="ivy@contoso.example").exists()
    with pytest.raises(PermissionDenied):
        invite(contoso, ursula, roles=[Role.GLOBAL_ADMIN])


# The link


def test_the_link_sets_the_password_once_and_tells_the_inviter(
    alice, contoso, django_capture_on_commit_callbacks
):
    invitation = invite(contoso, alice)
    with django_capture_on_commit_callbacks(execute=True):
        person = people.accept(invitation.key, "a long new passphrase")

    assert person.check_password("a long new passphrase")
    assert AuditEntry.objects.filter(action=Action.INVITATION_ACCEPTED, actor=person).exists()
    send_pending()
    assert mail.outbox[-1].to == [alice.email]
    assert "new@contoso.example" in mail.outbox[-1].body
    with pytest.raises(people.InvitationDead, match="already used"):
        people.accept(invitation.key, "another passphrase 2")


def test_a_weak_password_is_refused_and_the_link_still_works(alice, contoso):
    invitation = invite(contoso, alice)
    with pytest.raises(ValidationError):
        people.accept(invitation.key, "123")
    assert Invitation.objects.get().accepted_at is None
    people.accept(invitation.key, "a long new passphrase")


def test_an_expired_link_says_so(alice, contoso, client):
    invitation = invite(contoso, alice)
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(people.InvitationDead, match="expired"):
        people.accept(invitation.key, "a long new passphrase")
    response = client.get(reverse("accounts:invitation", args=[invitation.key]))
    assert response.status_code == 200
    assert "This invitation has expired" in response.content.decode()


def test_an_unknown_link_is_a_404_page_in_the_frame(client, db):
    response = client.get(reverse("accounts:invitation", args=["not-a-key"]))
    assert response.status_code == 404
    assert "Check that you opened the whole link" in response.content.decode()


def test_joining_signs_in_and_a_global_admin_sets_up_two_factor_first(client, alice, contoso):
    invitation = invite(contoso, alice, roles=[Role.GLOBAL_ADMIN])
    url = reverse("accounts:invitation", args=[invitation.key])
    assert client.get(url).status_code == 200

    response = client.post(url, {"password1": "a long new pass", "password2": "a long new pass"})

    assert response.status_code == 302
    page = client.get(reverse("entitlements:technical_benefits"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("mfa_activate_totp"))
    # The password was just typed: setting up the app doesn't ask for it again.
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_two_different_passwords_are_refused(client, alice, contoso):
    invitation = invite(contoso, alice)
    url = reverse("accounts:invitation", args=[invitation.key])
    response = client.post(url, {"password1": "a long new pass", "password2": "another one!"})
    assert response.status_code == 400
    assert "The two passwords are not the same." in response.content.decode()
    assert Invitation.objects.get().accepted_at is None


def test_sending_again_kills_the_old_link(alice, contoso, django_capture_on_commit_callbacks):
    first = invite(contoso, alice)
    person = first.user
    with django_capture_on_commit_callbacks(execute=True):
        second = people.resend(alice, person)

    send_pending()
    assert key_in(mail.outbox[-1]) == second.key
    with pytest.raises(people.InvitationDead, match="withdrawn"):
        people.accept(first.key, "a long new passphrase")
    people.accept(second.key, "a long new passphrase")


def test_two_open_invitations_for_one_account_are_impossible(alice, contoso):
    person = invite(contoso, alice).user
    with pytest.raises(IntegrityError), transaction.atomic():
        people._new_invitation(person, alice)


def test_withdrawing_deletes_the_account_that_never_joined_and_frees_its_address(alice, contoso):
    invitation = invite(contoso, alice)
    assert people.revoke(alice, invitation.user) is True

    assert not User.objects.filter(email="new@contoso.example").exists()
    assert Invitation.objects.get().revoked_at is not None
    with pytest.raises(people.InvitationDead):
        people.accept(invitation.key, "a long new passphrase")
    invite(contoso, alice)  # the address is free again


def test_someone_who_joined_has_no_invitation_to_send_or_withdraw(alice, nora):
    with pytest.raises(ValidationError, match="already joined"):
        people.resend(alice, nora)
    with pytest.raises(ValidationError, match="no open invitation"):
        people.revoke(alice, nora)


# Roles


def test_the_last_global_admin_cannot_be_demoted(alice, client):
    with pytest.raises(ValidationError, match="only active Global admin"):
        people.change_roles(alice, alice, [Role.MPN_PARTNER_ADMIN])
    client.force_login(alice)
    response = client.post(reverse("accounts:change_roles", args=[alice.pk]), {"roles": []})
    assert response.status_code == 409
    assert "only active Global admin" in response.content.decode()
    assert roles_of(User.objects.get(pk=alice.pk)) == {Role.GLOBAL_ADMIN}


def test_with_a_second_global_admin_one_can_step_down(alice, gia):
    assert people.change_roles(alice, alice, [Role.MPN_PARTNER_ADMIN]) is True
    assert roles_of(User.objects.get(pk=alice.pk)) == {Role.MPN_PARTNER_ADMIN}


def test_a_user_admin_cannot_touch_a_global_admin_or_themselves(client, ursula, alice, nora):
    client.force_login(ursula)
    for person in (alice, ursula):
        response = client.post(reverse("accounts:change_roles", args=[person.pk]), {"roles": []})
        assert response.status_code == 403
    assert roles_of(User.objects.get(pk=ursula.pk)) == {Role.USER_ADMIN}
    # Nora: a forged Global admin box is refused, nothing changes.
    response = client.post(
        reverse("accounts:change_roles", args=[nora.pk]), {"roles": ["global_admin"]}
    )
    assert response.status_code == 400
    assert roles_of(User.objects.get(pk=nora.pk)) == frozenset()
    with pytest.raises(PermissionDenied):
        people.change_roles(ursula, nora, [Role.GLOBAL_ADMIN])


def test_a_user_admin_gives_other_roles_and_the_person_is_told(
    client, ursula, nora, django_capture_on_commit_callbacks
):
    client.force_login(ursula)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:change_roles", args=[nora.pk]), {"roles": ["admin_agent"]}
        )
    assert response.status_code == 302
    assert roles_of(User.objects.get(pk=nora.pk)) == {Role.ADMIN_AGENT}
    send_pending()
    assert mail.outbox[-1].to == [nora.email]
    assert "Admin agent" in mail.outbox[-1].body


def test_the_mpn_partner_admin_reads_the_list_and_changes_nothing(client, mona, alice, nora):
    client.force_login(mona)
    page = client.get(reverse("accounts:users")).content.decode()
    assert alice.email in page and nora.email in page
    assert reverse("accounts:invite") not in page
    person = client.get(reverse("accounts:user", args=[nora.pk])).content.decode()
    assert reverse("accounts:change_roles", args=[nora.pk]) not in person
    assert reverse("accounts:deactivate", args=[nora.pk]) not in person
    response = client.post(reverse("accounts:deactivate", args=[nora.pk]))
    assert response.status_code == 403
    assert User.objects.get(pk=nora.pk).is_active


# The list


def test_the_list_recommends_a_second_global_admin_while_there_is_one(client, alice, contoso):
    client.force_login(alice)
    advice = "only one active Global admin"
    assert advice in client.get(reverse("accounts:users")).content.decode()
    UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    assert advice not in client.get(reverse("accounts:users")).content.decode()


def test_the_list_searches_filters_and_shows_each_status(client, alice, mona, nora, contoso):
    invited = invite(contoso, alice, "ivy@contoso.example")
    expired = invite(contoso, alice, "old@contoso.example")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    people.deactivate(alice, nora)
    client.force_login(alice)

    page = client.get(reverse("accounts:users")).content.decode()
    for text in ("Invited (link valid until", "Invited (invitation expired)", "Deactivated"):
        assert text in page
    found = client.get(reverse("accounts:users"), {"q": "MONA@"}).content.decode()
    assert mona.email in found and nora.email not in found
    by_role = client.get(reverse("accounts:users"), {"role": "global_admin"}).content.decode()
    assert alice.email in by_role and mona.email not in by_role
    nobody = client.get(reverse("accounts:users"), {"role": "none"}).content.decode()
    assert invited.email in nobody and mona.email not in nobody


def test_another_companys_user_is_a_404(client, alice, bob):
    client.force_login(alice)
    assert client.get(reverse("accounts:user", args=[bob.pk])).status_code == 404
    assert client.post(reverse("accounts:deactivate", args=[bob.pk])).status_code == 404
    assert User.objects.get(pk=bob.pk).is_active


# Deactivating, reactivating, removing


def test_deactivating_ends_sessions_takes_contracts_and_is_audited(
    alice, nora, product_support, client, django_capture_on_commit_callbacks
):
    ContractLink.objects.create(user=nora, contract=product_support)
    client.force_login(nora)
    with django_capture_on_commit_callbacks(execute=True):
        assert people.deactivate(alice, nora) is True

    assert not User.objects.get(pk=nora.pk).is_active
    assert not ContractLink.objects.filter(user=nora).exists()
    assert AuditEntry.objects.filter(action=Action.ACCOUNT_DEACTIVATED, actor=alice).exists()
    assert client.get(reverse("support:incidents")).status_code == 302  # signed out
    send_pending()
    assert mail.outbox[-1].to == [nora.email]
    assert people.deactivate(alice, nora) is False  # once

    assert people.reactivate(alice, nora) is True
    assert User.objects.get(pk=nora.pk).is_active
    assert AuditEntry.objects.filter(action=Action.ACCOUNT_REACTIVATED).exists()


def test_the_last_global_admin_cannot_be_deactivated_or_removed(alice, gia, support):
    people.deactivate(alice, gia)
    for action in (people.deactivate, people.remove_from_company):
        with pytest.raises(ValidationError, match="only active Global admin"):
            action(support, alice)
    alice.refresh_from_db()
    assert alice.is_active and alice.partner_id is not None


def test_removing_takes_roles_contracts_and_invitations_and_ends_sessions(
    alice, contoso, product_support, django_capture_on_commit_callbacks
):
    person = invite(contoso, alice, roles=[Role.ADMIN_AGENT]).user
    ContractLink.objects.create(user=person, contract=product_support)
    with django_capture_on_commit_callbacks(execute=True):
        people.remove_from_company(alice, person)

    person.refresh_from_db()
    assert person.partner is None and not person.is_active
    assert not person.role_assignments.exists()
    assert not ContractLink.objects.filter(user=person).exists()
    assert not Invitation.objects.filter(user=person, revoked_at=None).exists()
    assert AuditEntry.objects.filter(partner=contoso, action=Action.ACCOUNT_REMOVED).exists()


def test_the_page_refuses_removing_the_last_global_admin(client, alice, gia):
    people.deactivate(alice, gia)
    client.force_login(alice)
    # Alice can't remove herself (no button, and refused); Gia is deactivated.
    response = client.post(reverse("accounts:remove", args=[alice.pk]))
    assert response.status_code == 403
    assert User.objects.get(pk=alice.pk).partner_id is not None


def test_django_admin_deactivates_through_the_same_rule(client, support, alice):
    client.force_login(support)
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    form = {
        "email": alice.email,
        "first_name": "Alice",
        "last_name": "Admin",
        "partner": alice.partner_id,
        "roles": ["global_admin"],
        "is_active": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(url, form, follow=True)
    assert "only active Global admin" in response.content.decode()
    assert User.objects.get(pk=alice.pk).is_active


@pytest.mark.django_db(transaction=True)
def test_two_global_admins_demoting_each_other_at_once_leave_one(alice, gia):
    from .test_activation_concurrency import all_at_once

    pairs = [(alice, gia), (gia, alice)]

    def demote(i):
        actor, person = pairs[i]
        try:
            return people.change_roles(
                User.objects.get(pk=actor.pk), person, [Role.MPN_PARTNER_ADMIN]
            )
        except (ValidationError, PermissionDenied) as refused:
            return type(refused).__name__

    results = all_at_once(2, demote)

    assert sorted(map(str, results)) == ["PermissionDenied", "True"]
    assert len(people.lasting_global_admins(alice.partner)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_address_invited_twice_at_once_makes_one_account(alice, contoso):
    from .test_activation_concurrency import all_at_once

    def add(i):
        try:
            return invite(contoso, User.objects.get(pk=alice.pk)).pk
        except ValidationError as refused:
            return refused.messages[0]

    results = all_at_once(4, add)

    assert (
        sorted(map(str, results))[1:] == ["An account with this email address already exists."] * 3
    )
    assert User.objects.filter(email="new@contoso.example").count() == 1
    assert Invitation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_link_used_in_two_tabs_at_once_joins_once(alice, contoso):
    from .test_activation_concurrency import all_at_once

    key = invite(contoso, alice).key

    def join(i):
        try:
            return people.accept(key, f"a long new passphrase {i}").pk
        except people.InvitationDead as dead:
            return dead.why

    results = all_at_once(3, join)

    assert sorted(map(str, results))[-2:] == ["accepted", "accepted"]
    assert AuditEntry.objects.filter(action=Action.INVITATION_ACCEPTED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_sending_again_many_times_at_once_leaves_one_open_link(alice, contoso):
    from .test_activation_concurrency import all_at_once

    person = invite(contoso, alice).user

    def send(i):
        try:
            return people.resend(User.objects.get(pk=alice.pk), person).key
        except ValidationError as refused:
            return refused.messages[0]

    all_at_once(4, send)

    assert Invitation.objects.filter(user=person, revoked_at=None).count() == 1


def test_a_time_boxed_role_shows_when_it_ends(client, alice, nora):
    from entitlements.models import RoleAssignment

    ends = timezone.now() + datetime.timedelta(days=30)
    RoleAssignment.objects.create(user=nora, role=Role.ADMIN_AGENT, expires_at=ends)
    client.force_login(alice)
    for url in (reverse("accounts:users"), reverse("accounts:user", args=[nora.pk])):
        assert "Admin agent (until " in client.get(url).content.decode()


def test_a_user_admin_signing_in_lands_on_users(client, ursula):
    from .factories import sign_in_with_the_form

    response = sign_in_with_the_form(client, ursula.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:users")


def test_a_removed_persons_open_requests_end_with_them(alice, nora):
    from accounts import access
    from accounts.models import AccessRequest

    asked = access.request_access(nora, Role.MPN_PARTNER_ADMIN, "Activations")
    people.remove_from_company(alice, nora)
    asked.refresh_from_db()
    assert asked.decision == AccessRequest.Decision.WITHDRAWN
    # Nothing is left for Contoso's admins to decide, and a new request could be made later.
    assert not AccessRequest.objects.filter(partner=alice.partner, decided_at=None).exists()


def test_granting_again_a_lapsed_role_not_yet_swept_gives_it(alice, nora):
    nora.role_assignments.create(
        role=Role.ADMIN_AGENT, expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    people.change_roles(alice, nora, [Role.ADMIN_AGENT])
    fresh = User.objects.get(pk=nora.pk)
    assert roles_of(fresh) == {Role.ADMIN_AGENT}
    assert fresh.role_assignments.get().expires_at is None


# Who keeps a company administered: only a Global admin who joined, for good.


def test_an_invited_global_admin_who_never_joined_does_not_keep_the_company(alice, contoso):
    invite(contoso, alice, "later@contoso.example", roles=[Role.GLOBAL_ADMIN])
    with pytest.raises(ValidationError):
        people.change_roles(alice, alice, [])
    assert Role.GLOBAL_ADMIN in roles_of(User.objects.get(pk=alice.pk))


def test_a_time_boxed_global_admin_does_not_keep_the_company(alice, nora):
    nora.role_assignments.create(
        role=Role.GLOBAL_ADMIN, expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    with pytest.raises(ValidationError):
        people.change_roles(alice, alice, [])
    with pytest.raises(ValidationError):
        people.deactivate(User.objects.get(pk=nora.pk), alice)


def test_someone_without_the_role_is_deactivated_even_with_no_lasting_global_admin(alice, nora):
    alice.role_assignments.update(expires_at=timezone.now() + datetime.timedelta(days=1))
    assert people.deactivate(User.objects.get(pk=alice.pk), nora)


def test_django_admin_cannot_move_the_last_global_admin_away(client, support, alice, bob):
    client.force_login(support)
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    form = {
        "email": alice.email,
        "first_name": "Alice",
        "last_name": "Admin",
        "partner": bob.partner_id,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "only active Global admin" in response.content.decode()
    alice.refresh_from_db()
    assert alice.partner_id != bob.partner_id and Role.GLOBAL_ADMIN in roles_of(alice)


def test_django_admin_deletes_no_partners_account(client, support, alice):
    support.is_superuser = True
    support.save()
    client.force_login(support)
    url = reverse("admin:accounts_user_delete", args=[alice.pk])
    assert client.get(url).status_code == 403  # no page offering it
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=alice.pk).exists()
    changelist = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "delete_selected" not in changelist


def test_a_move_kills_the_old_companys_link(alice, contoso, bob):
    from entitlements.services import account_moved

    person = invite(contoso, alice).user
    person.partner = bob.partner
    person.save()
    account_moved(person, contoso)
    assert not Invitation.objects.filter(user=person, revoked_at=None).exists()


def test_an_inviter_who_moved_away_is_not_told_who_joined(
    alice, gia, contoso, bob, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = invite(contoso, gia)
    User.objects.filter(pk=gia.pk).update(partner=bob.partner)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        people.accept(invitation.key, "A long enough passphrase 2026")
    send_pending()
    assert [m.to for m in mailoutbox] == []
    # Still in the company, the inviter is told.
    again = invite(contoso, alice, "second@contoso.example")
    with django_capture_on_commit_callbacks(execute=True):
        people.accept(again.key, "A long enough passphrase 2026")
    send_pending()
    assert [m.to for m in mailoutbox] == [[alice.email]]
