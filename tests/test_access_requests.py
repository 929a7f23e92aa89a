"""My access and asking for more: requests, decisions, time-boxed grants and their lapse."""

import datetime
import threading

import pytest
from allauth.usersessions.models import UserSession
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from accounts import access
from accounts.access import Refused
from accounts.models import AccessRequest, User
from accounts.tasks import lapse_grants as lapse_task
from audit.models import AuditEntry
from entitlements import permissions
from entitlements.models import Role, RoleAssignment
from notices.services import send_pending

from .factories import UserFactory, sign_in_with_the_form

Action = AuditEntry.Action
MY_ACCESS = "/dashboard/account/myaccess"
REQUESTS = "/dashboard/account/requests"


@pytest.fixture(autouse=True)
def in_english():
    """Messages read in English here, whatever language an earlier test's page left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def asked(nora, alice, ursula, django_capture_on_commit_callbacks):
    """Nora, with no role, asks for MPN partner admin."""
    with django_capture_on_commit_callbacks(execute=True):
        access_request = access.request_access(
            nora, Role.MPN_PARTNER_ADMIN, "I activate our benefits."
        )
    send_pending()
    mail.outbox.clear()
    return access_request


def roles(user):
    """The user's roles as a fresh read of the account would find them."""
    return permissions.roles_of(User.objects.get(pk=user.pk))


def entries(action):
    return list(AuditEntry.objects.filter(action=action))


# Asking


def test_a_request_is_audited_and_emailed_to_whoever_may_decide_it(
    nora, alice, ursula, mona, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        access.request_access(nora, Role.MPN_PARTNER_ADMIN, "  I activate our benefits. ")

    stored = AccessRequest.objects.get()
    assert (stored.user, stored.role, stored.reason) == (
        nora,
        Role.MPN_PARTNER_ADMIN,
        "I activate our benefits.",
    )
    (entry,) = entries(Action.ACCESS_REQUESTED)
    assert entry.actor == nora
    assert entry.details == "MPN partner admin, nora@contoso.example, I activate our benefits."
    # Global admin Alice and User admin Ursula may grant it; Mona may not.
    send_pending()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "alice@contoso.example",
        "ursula@contoso.example",
    ]
    assert "nora@contoso.example" in mail.outbox[0].body
    assert "/dashboard/account/requests" in mail.outbox[0].body


def test_only_global_admins_hear_of_a_request_for_global_admin(
    nora, alice, ursula, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        access.request_access(nora, Role.GLOBAL_ADMIN, "Our only admin is leaving.")

    send_pending()
    assert [message.to[0] for message in mail.outbox] == ["alice@contoso.example"]


def test_the_request_email_is_in_each_deciders_language(
    nora, alice, ursula, django_capture_on_commit_callbacks
):
    alice.language = "ja"
    alice.save()
    ursula.language = "zh-hans"
    ursula.save()
    with django_capture_on_commit_callbacks(execute=True):
        access.request_access(nora, Role.ADMIN_AGENT, "Customers need me.")

    send_pending()
    by_address = {message.to[0]: message for message in mail.outbox}
    with translation.override("ja"):
        ja_role = str(Role.ADMIN_AGENT.label)
    with translation.override("zh-hans"):
        zh_role = str(Role.ADMIN_AGENT.label)
    assert ja_role in by_address["alice@contoso.example"].subject
    assert zh_role in by_address["ursula@contoso.example"].subject
    assert ja_role != zh_role != "Admin agent"


def test_asking_again_for_the_same_role_is_refused_plainly(asked, nora):
    with pytest.raises(Refused, match="already asked for this role"):
        access.request_access(nora, Role.MPN_PARTNER_ADMIN, "Again")
    assert AccessRequest.objects.count() == 1
    assert len(entries(Action.ACCESS_REQUESTED)) == 1


def test_the_database_keeps_one_open_request_per_user_and_role(asked, nora):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        AccessRequest.objects.create(
            partner=nora.partner, user=nora, role=Role.MPN_PARTNER_ADMIN, reason="twice"
        )


@pytest.mark.django_db(transaction=True)
def test_a_double_click_makes_one_request(contoso):
    nora = UserFactory(partner=contoso)
    barrier = threading.Barrier(2)
    outcomes = []

    def ask():
        try:
            barrier.wait()
            access.request_access(nora, Role.ADMIN_AGENT, "Customers")
            outcomes.append("asked")
        except Refused as refused:
            outcomes.append(str(refused.message))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [
        "You have already asked for this role. Your request is waiting for a decision.",
        "asked",
    ]
    assert AccessRequest.objects.count() == 1
    assert len(entries(Action.ACCESS_REQUESTED)) == 1


def test_after_a_decision_one_may_ask_again(asked, nora, alice):
    access.decline(alice, asked, "Not now")
    again = access.request_access(nora, Role.MPN_PARTNER_ADMIN, "Now?")
    assert again.pk != asked.pk


def test_asking_for_a_role_one_holds_is_refused(mona):
    with pytest.raises(Refused, match="already have this role"):
        access.request_access(mona, Role.MPN_PARTNER_ADMIN, "More")
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_reason_is_needed_and_kept_short(nora, reason):
    with pytest.raises(Refused):
        access.request_access(nora, Role.ADMIN_AGENT, reason)
    assert not AccessRequest.objects.exists()


def test_support_staff_ask_for_nothing(support):
    with pytest.raises(Refused):
        access.request_access(support, Role.ADMIN_AGENT, "Let me in")


# Deciding


def test_approving_grants_the_role_audits_and_tells_the_requester(
    asked, nora, alice, django_capture_on_commit_callbacks
):
    nora.language = "ja"
    nora.save()
    with django_capture_on_commit_callbacks(execute=True):
        access.approve(alice, asked, "Welcome")

    assert roles(nora) == {Role.MPN_PARTNER_ADMIN}
    assert RoleAssignment.objects.get(user=nora).expires_at is None
    asked.refresh_from_db()
    assert (asked.decision, asked.decided_by, asked.note) == ("approved", alice, "Welcome")
    (entry,) = entries(Action.ACCESS_APPROVED)
    assert entry.actor == alice
    assert entry.details == "MPN partner admin, nora@contoso.example, Welcome"
    assert AuditEntry.objects.filter(
        action=Action.ROLE_GRANTED, facts__email=nora.email, actor=alice
    ).exists()
    send_pending()
    (message,) = mail.outbox
    assert message.to == ["nora@contoso.example"]
    with translation.override("ja"):
        assert str(Role.MPN_PARTNER_ADMIN.label) in message.subject
    assert "Welcome" in message.body


def test_a_time_boxed_approval_ends_the_role_after_its_days(
    asked, nora, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        access.approve(alice, asked, "", days=7)

    ends = RoleAssignment.objects.get(user=nora).expires_at
    assert abs(ends - timezone.now() - datetime.timedelta(days=7)) < datetime.timedelta(minutes=1)
    assert entries(Action.ACCESS_APPROVED)[0].details.startswith(
        "MPN partner admin, nora@contoso.example, for 7 days"
    )
    send_pending()
    assert "ends by itself" in mail.outbox[0].body


def test_a_user_admin_decides_roles_they_may_give(asked, ursula, nora):
    access.approve(ursula, asked)
    assert Role.MPN_PARTNER_ADMIN in roles(nora)


def test_a_user_admin_may_not_decide_a_request_for_global_admin(nora, ursula, alice):
    asked = access.request_access(nora, Role.GLOBAL_ADMIN, "Please")
    with pytest.raises(Refused, match="may not decide"):
        access.approve(ursula, asked)
    asked.refresh_from_db()
    assert asked.decided_at is None
    assert roles(nora) == frozenset()


def test_nobody_decides_their_own_request(alice, contoso):
    ursula_too = UserFactory(partner=contoso, roles=[Role.USER_ADMIN])
    asked = access.request_access(ursula_too, Role.ADMIN_AGENT, "Mine")
    with pytest.raises(Refused):
        access.approve(ursula_too, asked)
    assert not AccessRequest.objects.exclude(decided_at=None).exists()


def test_another_companys_admin_may_not_decide(asked, bob):
    with pytest.raises(Refused):
        access.decline(bob, asked, "")
    asked.refresh_from_db()
    assert asked.decided_at is None


def test_a_request_is_decided_once(asked, alice, ursula, nora):
    access.decline(alice, asked, "No")
    with pytest.raises(Refused, match="already declined"):
        access.approve(ursula, asked)
    assert roles(nora) == frozenset()
    assert len(entries(Action.ACCESS_DECLINED)) == 1
    assert entries(Action.ACCESS_APPROVED) == []


@pytest.mark.parametrize("days", [0, 366, -1])
def test_days_are_from_1_to_365(asked, alice, days):
    with pytest.raises(Refused):
        access.approve(alice, asked, "", days=days)
    asked.refresh_from_db()
    assert asked.decided_at is None


def test_declining_tells_the_requester_with_the_note(
    asked, alice, nora, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        access.decline(alice, asked, "Ask Megan first.")
    send_pending()
    (message,) = mail.outbox
    assert message.to == ["nora@contoso.example"]
    assert "declined" in message.subject
    assert "Ask Megan first." in message.body
    assert entries(Action.ACCESS_DECLINED)[0].details.endswith("Ask Megan first.")


def test_approving_a_role_held_for_good_keeps_it_for_good(asked, alice, nora):
    RoleAssignment.objects.create(user=nora, role=Role.MPN_PARTNER_ADMIN)
    access.approve(alice, asked, "", days=3)
    assert RoleAssignment.objects.get(user=nora).expires_at is None


def test_withdrawing_ones_own_request(asked, nora, alice):
    access.withdraw(nora, asked)
    asked.refresh_from_db()
    assert asked.decision == "withdrawn"
    with pytest.raises(Refused, match="withdrawn"):
        access.approve(alice, asked)


def test_nobody_withdraws_another_persons_request(asked, alice):
    with pytest.raises(Refused):
        access.withdraw(alice, asked)


@pytest.mark.django_db(transaction=True)
def test_two_admins_deciding_at_once_end_with_one_decision(contoso):
    alice = UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    ursula = UserFactory(partner=contoso, roles=[Role.USER_ADMIN])
    nora = UserFactory(partner=contoso)
    asked = access.request_access(nora, Role.ADMIN_AGENT, "Customers")
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(actor, action):
        try:
            barrier.wait()
            action(actor, asked, "")
            outcomes.append("done")
        except Refused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(alice, access.approve)),
        threading.Thread(target=decide, args=(ursula, access.decline)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["done", "refused"]
    asked.refresh_from_db()
    decided = len(entries(Action.ACCESS_APPROVED)) + len(entries(Action.ACCESS_DECLINED))
    assert decided == 1
    assert (Role.ADMIN_AGENT in roles(nora)) == (asked.decision == "approved")


# Lapsing


@pytest.fixture
def lapsed_grant(asked, alice, nora):
    """Nora's MPN partner admin, approved for a day, a day ago."""
    access.approve(alice, asked, "", days=1)
    RoleAssignment.objects.filter(user=nora).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    send_pending()
    mail.outbox.clear()
    return nora


def test_a_lapsed_grant_counts_for_nothing_before_the_sweep(lapsed_grant, contoso):
    nora = lapsed_grant
    assert roles(nora) == frozenset()
    assert nora not in permissions.people_who_can(contoso, permissions.ACTIVATE_BENEFITS)


def test_the_sweep_removes_lapsed_roles_audits_ends_sessions_and_tells(
    lapsed_grant, client, django_capture_on_commit_callbacks
):
    nora = lapsed_grant
    nora.language = "zh-hans"
    nora.save()
    assert sign_in_with_the_form(client, nora.email).status_code == 302
    assert UserSession.objects.filter(user=nora).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert lapse_task.apply().get() is None
    assert not RoleAssignment.objects.filter(user=nora).exists()
    (entry,) = entries(Action.ROLE_LAPSED)
    assert entry.actor is None
    assert entry.details == "MPN partner admin, nora@contoso.example"
    assert not UserSession.objects.filter(user=nora).exists()
    page = client.get(MY_ACCESS, follow=True).content.decode()
    assert "You were signed out because your roles changed." in page
    send_pending()
    (message,) = mail.outbox
    assert message.to == ["nora@contoso.example"]
    with translation.override("zh-hans"):
        assert str(Role.MPN_PARTNER_ADMIN.label) in message.subject
    assert access.lapse_grants() == 0  # nothing left: nothing twice


def test_the_sweep_leaves_grants_still_running_and_permanent_ones(alice, mona, nora):
    RoleAssignment.objects.create(
        user=nora, role=Role.ADMIN_AGENT, expires_at=timezone.now() + datetime.timedelta(hours=1)
    )
    assert access.lapse_grants() == 0
    assert RoleAssignment.objects.filter(user=nora).exists()
    assert permissions.roles_of(mona) == {Role.MPN_PARTNER_ADMIN}


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_lapse_each_grant_once(contoso):
    past = timezone.now() - datetime.timedelta(minutes=1)
    people = [UserFactory(partner=contoso) for _ in range(30)]
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=person, role=role, expires_at=past)
        for person in people
        for role in (Role.ADMIN_AGENT, Role.MPN_PARTNER_ADMIN)
    )
    barrier = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            barrier.wait()
            counts.append(access.lapse_grants())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 60
    assert len(entries(Action.ROLE_LAPSED)) == 60
    assert not RoleAssignment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_sweep_goes_past_a_grant_another_sweep_holds(contoso):
    past = timezone.now() - datetime.timedelta(minutes=1)
    held, free = UserFactory(partner=contoso), UserFactory(partner=contoso)
    for person in (held, free):
        RoleAssignment.objects.create(user=person, role=Role.ADMIN_AGENT, expires_at=past)
    locked, release = threading.Event(), threading.Event()

    def other_sweeper():
        try:
            with transaction.atomic():
                list(RoleAssignment.objects.select_for_update().filter(user=held))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_sweeper)
    thread.start()
    locked.wait(10)
    try:
        assert access.lapse_grants() == 1  # not waiting for the other's lock
        assert list(RoleAssignment.objects.values_list("user", flat=True)) == [held.pk]
    finally:
        release.set()
        thread.join()
    assert access.lapse_grants() == 1


def test_the_beat_runs_the_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["lapse-time-limited-roles"]
    assert entry["task"] == "accounts.tasks.lapse_grants"
    assert entry["options"]["expires"] < entry["schedule"]


# Pages


def test_my_access_shows_roles_in_plain_words_from_the_capability_map(sign_in, mona):
    page = sign_in(mona).get(MY_ACCESS).content.decode()
    assert "MPN partner admin" in page
    for capability in permissions.CAPABILITIES[Role.MPN_PARTNER_ADMIN]:
        assert escape(str(permissions.IN_PLAIN_WORDS[capability])) in page
    # And what it doesn't let her do.
    lets, does_not = page.split("Does not let you:", 1)
    assert escape(str(permissions.IN_PLAIN_WORDS[permissions.VIEW_AUDIT_LOG])) in does_not


def test_my_access_says_when_a_time_boxed_role_ends(sign_in, nora):
    RoleAssignment.objects.create(
        user=nora,
        role=Role.USER_ADMIN,
        expires_at=timezone.now() + datetime.timedelta(days=3),
    )
    page = sign_in(nora).get(MY_ACCESS).content.decode()
    assert "User admin" in page
    assert "until " in page


def test_a_user_without_a_role_asks_for_one_from_the_page(sign_in, nora, alice):
    client = sign_in(nora)
    assert "has no role in Contoso Ltd" in client.get(MY_ACCESS).content.decode()

    response = client.post(
        reverse("accounts:request_access"),
        {"role": Role.MPN_PARTNER_ADMIN, "reason": "I activate our benefits."},
        follow=True,
    )
    page = response.content.decode()
    assert "Your request for the MPN partner admin role was sent" in page
    assert "Waiting for a decision" in page


def test_a_refused_request_keeps_what_was_typed(sign_in, nora, asked):
    response = sign_in(nora).post(
        reverse("accounts:request_access"),
        {"role": Role.MPN_PARTNER_ADMIN, "reason": "Typed with care"},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "already asked for this role" in page
    assert "Typed with care" in page
    assert AccessRequest.objects.count() == 1


def test_a_request_without_a_reason_is_refused_on_the_page(sign_in, nora):
    response = sign_in(nora).post(
        reverse("accounts:request_access"), {"role": Role.ADMIN_AGENT, "reason": ""}
    )
    assert response.status_code == 400
    assert "Say why you need this role." in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_support_staff_see_a_page_without_a_form(sign_in, support):
    response = sign_in(support).get(MY_ACCESS)
    assert response.status_code == 200
    assert "belongs to no company" in response.content.decode()


def test_deciders_see_open_requests_and_their_count_in_the_menu(sign_in, asked, alice):
    page = sign_in(alice).get(REQUESTS).content.decode()
    assert "asks for MPN partner admin" in page
    assert "I activate our benefits." in page
    assert '<span class="count">1<' in page


def test_a_decider_approves_for_some_days_from_the_page(sign_in, asked, alice, nora):
    client = sign_in(alice)
    response = client.post(
        reverse("accounts:approve_access_request", args=[asked.pk]),
        {"days": "30", "note": "For the audit"},
        follow=True,
    )
    assert "now has the MPN partner admin role" in response.content.decode()
    assert RoleAssignment.objects.get(user=nora).expires_at is not None
    assert "No request is waiting for you." in response.content.decode()


def test_a_bad_number_of_days_keeps_the_note_typed(sign_in, asked, alice, nora):
    response = sign_in(alice).post(
        reverse("accounts:approve_access_request", args=[asked.pk]),
        {"days": "400", "note": "Kept note"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "from 1 to 365" in page
    assert "Kept note" in page
    assert not RoleAssignment.objects.filter(user=nora).exists()


def test_a_second_decision_on_the_page_is_told_the_first_stands(sign_in, asked, alice, ursula):
    access.decline(ursula, asked, "")
    response = sign_in(alice).post(
        reverse("accounts:approve_access_request", args=[asked.pk]), {}, follow=True
    )
    assert "already declined" in response.content.decode()


def test_the_missing_role_page_links_to_my_access(sign_in, nora, alice):
    page = sign_in(nora).get(reverse("entitlements:technical_benefits")).content.decode()
    assert MY_ACCESS in page
    assert "alice@contoso.example" in page  # the Global admins still named


def test_declining_ignores_a_number_of_days_typed_in(sign_in, asked, alice):
    response = sign_in(alice).post(
        reverse("accounts:decline_access_request", args=[asked.pk]),
        {"days": "400", "note": "Not this quarter"},
    )
    assert response.status_code == 302
    asked.refresh_from_db()
    assert (asked.decision, asked.note) == ("declined", "Not this quarter")


def test_only_deciders_see_access_requests_in_the_navigation(sign_in, asked, mona, nora):
    for person in (mona, nora):
        page = sign_in(person).get(MY_ACCESS).content.decode()
        assert REQUESTS not in page


def test_a_user_admin_neither_sees_nor_counts_a_request_for_global_admin(sign_in, nora, ursula):
    access.request_access(nora, Role.GLOBAL_ADMIN, "Our only admin is leaving.")
    page = sign_in(ursula).get(REQUESTS).content.decode()
    assert "No request is waiting for you." in page
    assert 'class="count"' not in page
    asked = AccessRequest.objects.get()
    response = sign_in(ursula).post(
        reverse("accounts:approve_access_request", args=[asked.pk]), {"note": "Sure"}
    )
    assert response.status_code == 403  # a forged post changes nothing
    asked.refresh_from_db()
    assert asked.decided_at is None
    assert Role.GLOBAL_ADMIN not in roles(nora)


def test_another_companys_request_is_not_found(sign_in, asked, bob):
    client = sign_in(bob)
    for name in ("accounts:approve_access_request", "accounts:decline_access_request"):
        assert client.post(reverse(name, args=[asked.pk])).status_code == 404
    assert (
        client.post(reverse("accounts:withdraw_access_request", args=[asked.pk])).status_code == 404
    )
    asked.refresh_from_db()
    assert asked.decided_at is None


def test_a_requirement_of_a_role_is_not_told_as_something_one_may_not_do(sign_in, ursula):
    page = sign_in(ursula).get(MY_ACCESS).content.decode()
    her_roles = page.split('id="your-roles"', 1)[1].split('id="ask"', 1)[0]
    does_not = her_roles.split("Does not let you:", 1)[1]
    assert escape(str(permissions.IN_PLAIN_WORDS[permissions.TWO_FACTOR_REQUIRED])) not in her_roles
    assert escape(str(permissions.IN_PLAIN_WORDS[permissions.ACTIVATE_BENEFITS])) in does_not


def test_a_lapsed_grant_beside_a_lasting_role_still_counts_for_nothing(lapsed_grant, contoso):
    nora = lapsed_grant
    RoleAssignment.objects.create(user=nora, role=Role.USER_ADMIN)  # held for good
    assert roles(nora) == {Role.USER_ADMIN}
    assert nora not in permissions.people_who_can(contoso, permissions.ACTIVATE_BENEFITS)
    assert nora in permissions.people_who_can(contoso, permissions.MANAGE_USERS)


def test_days_belong_to_an_approval_only_by_the_database(db, nora):
    from django.db import IntegrityError, transaction

    from accounts.models import AccessRequest

    for days, decision in ((0, "approved"), (366, "approved"), (30, "declined"), (30, "")):
        with pytest.raises(IntegrityError), transaction.atomic():
            AccessRequest.objects.create(
                partner=nora.partner,
                user=nora,
                role="admin_agent",
                reason="Customers",
                days=days,
                decision=decision,
                decided_at=timezone.now() if decision else None,
            )
