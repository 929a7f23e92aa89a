"""Cases: who sees them, their conversation and lifecycle, first-response targets, and the
incident a duplicate or a product defect gives back, once."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from cases import rules, services
from cases.models import AdvisoryHours, Case, CaseEntry, HoursRecord
from entitlements.models import Role
from support import services as support_services
from support.models import ContractLink, IncidentCredit, ProductVersion, SupportContract

from .factories import UserFactory
from .test_bad_input import EXAMPLES, anything

LIST = "/dashboard/cases"

# The conversation's inline management form, empty: admin posts it with every case.
NO_ENTRIES = {
    f"{inline}-{name}": value
    for inline in ("entries", "hours")
    for name, value in (
        ("TOTAL_FORMS", "0"),
        ("INITIAL_FORMS", "0"),
        ("MIN_NUM_FORMS", "0"),
        ("MAX_NUM_FORMS", "1000"),
    )
}


def open_incident(user, contract, title="Cluster node won't join", severity="B"):
    ContractLink.objects.get_or_create(user=user, contract=contract)
    version = ProductVersion.objects.get(product__name="Windows Server", name="2025")
    return support_services.open_incident(
        user,
        version,
        str(contract.pk),
        title=title,
        description="Event 1135 after patching.",
        severity=severity,
        support_type="technical",
        contact_name=user.first_name or "Someone",
        contact_email=user.email,
    )


def staff_save(client, case, **data):
    """Support staff submit the case's admin page."""
    form = {"state": case.state, "resolution": case.resolution, "severity": case.severity}
    return client.post(
        f"/admin/cases/case/{case.pk}/change/", {**form, **data, **NO_ENTRIES}, follow=True
    )


def page_of(client, case):
    return client.get(reverse("cases:case", args=[case.pk])).content.decode()


# Targets (rules: pure)


def test_incident_targets_are_2_4_8_hours_and_advisory_two_business_days():
    friday = datetime.datetime(2026, 11, 27, 10, tzinfo=datetime.UTC)
    assert rules.first_response_due("incident", "A", friday) == friday + datetime.timedelta(hours=2)
    assert rules.first_response_due("incident", "C", friday) == friday + datetime.timedelta(hours=8)
    # Friday + two business days: Tuesday, the weekend not counted.
    assert rules.first_response_due("advisory", "", friday) == friday + datetime.timedelta(days=4)


def test_a_target_is_met_missed_or_still_open():
    due = datetime.datetime(2026, 11, 27, 12, tzinfo=datetime.UTC)
    hour = datetime.timedelta(hours=1)
    assert rules.target_met(due, due - hour, due + hour) is True
    assert rules.target_met(due, due + hour, due + hour) is False
    assert rules.target_met(due, None, due + hour) is False
    assert rules.target_met(due, None, due - hour) is None


# Who sees which cases


@pytest.fixture
def member(contoso):
    """Contoso's Admin agent: sees the benefits, not the company's other cases."""
    return UserFactory(email="ann@contoso.example", partner=contoso, roles=[Role.ADMIN_AGENT])


def test_admins_see_the_companys_cases_others_their_own_and_no_one_another_companys(
    sign_in, alice, mona, member, bob, product_support
):
    members_case = open_incident(member, product_support, title="Member's case")
    alices_case = open_incident(alice, product_support, title="Alice's case")

    for admin in (alice, mona):
        listing = sign_in(admin).get(LIST).content.decode()
        assert "Member&#x27;s case" in listing and "Alice&#x27;s case" in listing
    client = sign_in(member)
    listing = client.get(LIST).content.decode()
    assert "Member&#x27;s case" in listing and "Alice&#x27;s case" not in listing
    assert client.get(reverse("cases:case", args=[alices_case.pk])).status_code == 404

    other = sign_in(bob)
    assert other.get(reverse("cases:case", args=[members_case.pk])).status_code == 404
    assert other.post(reverse("cases:close", args=[members_case.pk])).status_code == 404
    assert (
        other.post(reverse("cases:note", args=[members_case.pk]), {"text": "x"}).status_code == 404
    )
    assert "Member&#x27;s case" not in other.get(LIST).content.decode()
    assert not CaseEntry.objects.exists()
    assert Case.objects.get(pk=members_case.pk).state == Case.State.OPEN


def test_the_list_filters_by_state_kind_product_and_opener_and_finds_numbers_and_titles(
    sign_in, alice, member, product_support
):
    first = open_incident(member, product_support, title="Storage pool degraded")
    second = open_incident(alice, product_support, title="Cluster node won't join")
    services.close(second.pk, alice)
    client = sign_in(alice)

    def titles(**query):
        page = client.get(LIST, query).content.decode()
        return {case.title for case in (first, second) if case.number in page}

    assert titles() == {first.title, second.title}
    assert titles(q=first.number) == {first.title}
    assert titles(q=str(first.pk)) == {first.title}
    assert titles(q="cluster") == {second.title}
    assert titles(state="closed") == {second.title}
    assert titles(kind="advisory") == set()
    assert titles(opened_by="me") == {second.title}
    assert titles(opened_by=str(member.pk)) == {first.title}
    assert titles(product=str(first.product_id)) == {first.title, second.title}
    page = client.get(LIST, {"state": "nonsense"}).content.decode()
    assert "Select a valid choice" in page and first.number in page


# The conversation and the lifecycle


def test_a_case_goes_through_every_state_with_a_conversation_both_ways(
    sign_in, alice, support, product_support, clock
):
    case = open_incident(alice, product_support)
    page = page_of(sign_in(alice), case)
    assert "Open" in page and "No reply yet." in page and "Due by" in page

    staff = sign_in(support)
    staff_save(staff, case, reply="Which build is the node on?", waiting_on_you="on")
    case.refresh_from_db()
    assert case.state == Case.State.WAITING_ON_YOU and case.first_responded_at is not None

    client = sign_in(alice)
    response = client.post(reverse("cases:note", args=[case.pk]), {"text": "Build 26100.2033"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS
    page = page_of(client, case)
    assert "Which build is the node on?" in page and "Build 26100.2033" in page
    assert "Met" in page and "In progress" in page

    staff = sign_in(support)
    staff_save(staff, case, state="resolved", resolution="solved")
    case.refresh_from_db()
    assert (case.state, case.resolution) == ("resolved", "solved")
    client = sign_in(alice)
    client.post(reverse("cases:close", args=[case.pk]))
    case.refresh_from_db()
    assert (case.state, case.resolution) == ("closed", "solved")
    page = page_of(client, case)
    assert "This case is closed." in page and "Add note" not in page
    refused = client.post(reverse("cases:note", args=[case.pk]), {"text": "One more thing"})
    assert refused.status_code == 409 and "One more thing" in refused.content.decode()
    assert CaseEntry.objects.filter(case=case).count() == 2


def test_a_late_first_answer_shows_as_missed_and_staff_see_breaches_first(
    sign_in, alice, support, product_support
):
    late = open_incident(alice, product_support, title="Late one", severity="A")
    open_incident(alice, product_support, title="On time one", severity="C")
    Case.objects.filter(pk=late.pk).update(
        first_response_due=timezone.now() - datetime.timedelta(hours=1)
    )
    assert "Missed" in page_of(sign_in(alice), late)
    listing = sign_in(support).get("/admin/cases/case/").content.decode()
    assert listing.index("Late one") < listing.index("On time one")
    missed = sign_in(support).get("/admin/cases/case/", {"target": "missed"}).content.decode()
    assert "Late one" in missed and "On time one" not in missed


def test_an_empty_note_is_refused_and_a_long_one_kept(sign_in, alice, product_support):
    case = open_incident(alice, product_support)
    client = sign_in(alice)
    empty = client.post(reverse("cases:note", args=[case.pk]), {"text": "   "})
    assert empty.status_code == 400 and "Write a note first." in empty.content.decode()
    long = "x" * 10_001
    refused = client.post(reverse("cases:note", args=[case.pk]), {"text": long})
    assert refused.status_code == 400 and long in refused.content.decode()
    assert not CaseEntry.objects.exists()


# Giving the incident back


def test_closing_as_duplicate_gives_the_incident_back_once_and_the_ledger_shows_it(
    sign_in, alice, support, product_support
):
    case = open_incident(alice, product_support)
    assert SupportContract.objects.get(pk=product_support.pk).incidents_remaining == 19
    staff = sign_in(support)
    staff_save(staff, case, state="resolved", resolution="duplicate")
    case.refresh_from_db()
    staff_save(staff, case, state="closed", resolution="duplicate")
    staff_save(staff, case, state="closed", resolution="product_defect")
    assert SupportContract.objects.get(pk=product_support.pk).incidents_remaining == 20
    assert IncidentCredit.objects.filter(case=case).count() == 1

    client = sign_in(alice)
    benefits = client.get("/dashboard/mpn/membership/benefits/technical").content.decode()
    assert reverse("cases:ledger", args=[product_support.pk]) in benefits
    ledger = client.get(reverse("cases:ledger", args=[product_support.pk]))
    text = ledger.content.decode()
    assert text.count(case.number) == 2  # used, then given back
    assert "Given back: Duplicate" in text and "Incidents remaining: 20 of 20." in text
    assert "Alice Admin" in text


def test_a_solved_case_gives_nothing_back(sign_in, alice, support, product_support):
    case = open_incident(alice, product_support)
    staff_save(sign_in(support), case, state="closed", resolution="solved")
    assert SupportContract.objects.get(pk=product_support.pk).incidents_remaining == 19
    assert not IncidentCredit.objects.exists()


def test_another_companys_ledger_is_a_404(sign_in, bob, product_support):
    assert sign_in(bob).get(reverse("cases:ledger", args=[product_support.pk])).status_code == 404


def test_the_database_holds_one_give_back_per_case(alice, product_support):
    from django.db import IntegrityError, transaction

    case = open_incident(alice, product_support)
    IncidentCredit.objects.create(contract=product_support, case=case, incidents=1, reason="r")
    with pytest.raises(IntegrityError), transaction.atomic():
        IncidentCredit.objects.create(contract=product_support, case=case, incidents=1, reason="r")


def test_a_resolution_goes_with_a_finished_case_only(alice, product_support):
    from django.db import IntegrityError, transaction

    case = open_incident(alice, product_support)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(state="closed")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(severity="")


@EXAMPLES
@given(text=anything)
def test_whatever_a_note_says_no_500_and_a_refused_one_stores_nothing(
    sign_in, alice, product_support, text
):
    case = Case.objects.first() or open_incident(alice, product_support)
    before = CaseEntry.objects.count()
    response = sign_in(alice).post(reverse("cases:note", args=[case.pk]), {"text": text})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert CaseEntry.objects.count() == before


@EXAMPLES
@given(
    q=anything,
    state=anything,
    kind=anything,
    product=st.one_of(st.integers().map(str), anything),
    opened_by=st.one_of(st.integers().map(str), anything),
    page=anything,
)
def test_whatever_the_list_is_asked_no_500(
    sign_in, alice, q, state, kind, product, opened_by, page
):
    response = sign_in(alice).get(
        LIST,
        {
            "q": q,
            "state": state,
            "kind": kind,
            "product": product,
            "opened_by": opened_by,
            "page": page,
        },
    )
    assert response.status_code == 200


# Advisory hours

ADVISORY = "/dashboard/cases/advisory"


def advisory_fields(**extra):
    return {
        "title": "Landing zone for a retailer",
        "description": "Hub and spoke, two regions.",
        "product": str(ProductVersion.objects.get(product__name="Azure").product_id),
        "request_type": "presales",
        "country": "Japan",
        "language": "ja",
        "contact_name": "Bob",
        "contact_email": "bob@fabrikam.example",
        **extra,
    }


def test_an_advisory_request_without_a_product_is_said_and_files_nothing(sign_in, bob):
    response = sign_in(bob).post(ADVISORY, advisory_fields(product=""))
    assert response.status_code == 400
    assert "Choose a product from the list." in response.content.decode()
    assert not Case.objects.exists()


def test_an_advisory_request_sent_twice_is_filed_once(sign_in, bob):
    client = sign_in(bob)
    page = client.get(ADVISORY).content.decode()
    key = page.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    first = client.post(ADVISORY, advisory_fields(submission_key=key))
    second = client.post(ADVISORY, advisory_fields(submission_key=key), follow=True)
    case = Case.objects.get()
    assert first.url == reverse("cases:case", args=[case.pk])
    assert f"No change: request {case.number} was filed already." in second.content.decode()


def test_action_pack_presales_uses_hours_never_below_zero_and_a_duplicate_gives_them_back(
    sign_in, bob, support
):
    client = sign_in(bob)
    assert "5 of 5 advisory hours" in client.get(ADVISORY).content.decode()
    response = client.post(ADVISORY, advisory_fields())
    case = Case.objects.get()
    assert response.status_code == 302 and case.kind == "advisory" and case.uses_hours
    staff = sign_in(support)
    staff_save(staff, case, hours_spent="2")
    page = sign_in(bob).get(ADVISORY).content.decode()
    assert "3 of 5 advisory hours" in page and case.number in page

    refused = staff_save(sign_in(support), case, hours_spent="4").content.decode()
    assert "3.00 advisory hours left" in refused and "changed successfully" not in refused
    assert AdvisoryHours.objects.get().hours_remaining == 3

    case.refresh_from_db()
    staff = sign_in(support)
    staff_save(staff, case, state="closed", resolution="duplicate")
    case.refresh_from_db()
    staff_save(staff, case, state="closed", resolution="duplicate")
    assert AdvisoryHours.objects.get().hours_remaining == 5
    assert HoursRecord.objects.filter(case=case, given_back=True).count() == 1


def test_a_gold_companys_presales_uses_no_hours(sign_in, alice, support):
    client = sign_in(alice)
    client.post(ADVISORY, advisory_fields(request_type="presales"))
    case = Case.objects.get()
    assert not case.uses_hours
    staff_save(sign_in(support), case, hours_spent="3")
    page = sign_in(alice).get(ADVISORY).content.decode()
    assert "50 of 50 advisory hours" in page and "None: presales" in page


def test_a_company_outside_mpn_files_no_advisory_request(sign_in, carol):
    assert sign_in(carol).post(ADVISORY, advisory_fields()).status_code == 403
    assert not Case.objects.exists()


@EXAMPLES
@given(
    title=anything,
    country=anything,
    language=anything,
    request_type=anything,
    product=st.one_of(st.integers().map(str), anything),
    contact_email=st.one_of(st.emails(), anything),
)
def test_whatever_an_advisory_request_says_no_500_and_refusals_store_nothing(
    sign_in, bob, title, country, language, request_type, product, contact_email
):
    before = Case.objects.count()
    response = sign_in(bob).post(
        ADVISORY,
        advisory_fields(
            title=title,
            country=country,
            language=language,
            request_type=request_type,
            product=product,
            contact_email=contact_email,
        ),
    )
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert Case.objects.count() == before
        assert escape(title.strip()) in response.content.decode()  # what was typed is kept


def test_the_opener_is_told_of_each_reply_and_each_move_in_their_language(
    sign_in, alice, support, product_support, clock
):
    from django.core import mail

    from accounts.models import User
    from notices.models import Notice
    from notices.services import send_pending

    User.objects.filter(pk=alice.pk).update(language="ja")
    case = open_incident(alice, product_support)
    send_pending()
    mail.outbox.clear()
    staff = sign_in(support)
    staff_save(staff, case, reply="Which build is the node on?", waiting_on_you="on")
    staff_save(staff, case, state="resolved", resolution="duplicate")
    staff_save(staff, case, state="resolved", resolution="duplicate")  # a second click
    told = Notice.objects.filter(recipient=alice).exclude(kind="ids_ready").order_by("pk")
    assert list(told.values_list("kind", flat=True)) == ["case_reply", "case_state_changed"]
    assert send_pending() == 2
    reply, moved = mail.outbox
    assert (
        "Which build is the node on?" in reply.body
        and "お客様の回答をお待ちしています" in reply.body
    )
    assert moved.subject == f"ケース {case.number} が変更されました: 解決済み (重複)"


def test_hours_last_their_membership_year_and_a_reminder_comes_once_before_they_lapse(
    sign_in, bob, support, clock
):
    from django.core import mail

    from entitlements.models import MembershipOffer
    from notices.services import send_pending

    from .factories import OfferFactory

    year = bob.partner.offers.get()
    today = clock.now().date()
    MembershipOffer.objects.filter(pk=year.pk).update(ends_on=today + datetime.timedelta(days=20))
    client = sign_in(bob)
    client.post(ADVISORY, advisory_fields())
    staff_save(sign_in(support), Case.objects.get(), hours_spent="2")
    for _ in range(3):
        services.remind_hours_expiring()
    send_pending()
    [email] = mail.outbox
    ends = today + datetime.timedelta(days=20)
    assert email.to == [bob.email] and email.subject.startswith("3 advisory hours expire on")
    assert str(ends.year) in email.subject

    # The next year: a renewed Action Pack, and 5 hours again.
    MembershipOffer.objects.filter(pk=year.pk).update(ends_on=today - datetime.timedelta(days=1))
    OfferFactory(partner=bob.partner, action_pack=True, starts_on=today)
    assert "5 of 5 advisory hours" in sign_in(bob).get(ADVISORY).content.decode()
    sign_in(bob).post(ADVISORY, advisory_fields(title="Next year's landing zone"))
    assert sorted(AdvisoryHours.objects.values_list("hours_remaining", flat=True)) == [3, 5]


# Staff in admin: what they changed, all or nothing


def test_a_reply_with_a_severity_change_applies_both_and_the_target_follows(
    sign_in, alice, support, product_support, clock
):
    case = open_incident(alice, product_support, severity="C")
    staff_save(sign_in(support), case, severity="A")  # not answered yet: the target moves
    case.refresh_from_db()
    assert case.first_response_due == case.opened_at + datetime.timedelta(hours=2)
    staff_save(sign_in(support), case, reply="Lowering this", severity="B")
    case.refresh_from_db()
    assert case.severity == "B" and case.entries.count() == 1


def test_a_page_opened_before_the_partners_note_moves_nothing_back(
    sign_in, alice, support, product_support, clock
):
    from notices.models import Notice

    case = open_incident(alice, product_support)
    staff_save(sign_in(support), case, reply="Which build?", waiting_on_you="on")
    case.refresh_from_db()
    shown = f"{case.state}|{case.resolution}|{case.severity}"  # the page staff keep open
    sign_in(alice).post(reverse("cases:note", args=[case.pk]), {"text": "Build 26100"})
    # Staff change only the severity on the page they opened before the note.
    staff_save(sign_in(support), case, severity="A", shown=shown)
    case.refresh_from_db()
    assert (case.state, case.severity) == ("in_progress", "A")
    assert not Notice.objects.filter(kind="case_state_changed").exists()


def test_hours_are_not_taken_when_the_save_is_refused(sign_in, bob, support):
    sign_in(bob).post(ADVISORY, advisory_fields())
    case = Case.objects.get()
    services.close(case.pk, bob)
    refused = staff_save(sign_in(support), case, hours_spent="2", reply="Done").content.decode()
    assert "The case is closed." in refused
    assert AdvisoryHours.objects.get().hours_remaining == 5
    assert not HoursRecord.objects.exists() and not CaseEntry.objects.exists()


def test_a_case_that_gave_back_its_incident_is_not_reopened(alice, support, product_support):
    case = open_incident(alice, product_support)
    services.change(case.pk, support, state="resolved", resolution="duplicate")
    with pytest.raises(ValueError, match="gave back"):
        services.change(case.pk, support, state="in_progress")
    case.refresh_from_db()
    product_support.refresh_from_db()
    assert (case.state, product_support.incidents_remaining) == ("resolved", 20)


def test_a_case_withdrawn_before_an_answer_is_no_breach(sign_in, alice, support, product_support):
    case = open_incident(alice, product_support)
    Case.objects.filter(pk=case.pk).update(
        first_response_due=timezone.now() - datetime.timedelta(hours=1)
    )
    late = open_incident(alice, product_support, title="Still waiting")
    Case.objects.filter(pk=late.pk).update(
        first_response_due=timezone.now() - datetime.timedelta(hours=1)
    )
    services.close(case.pk, alice)
    page = page_of(sign_in(alice), case)
    assert "Missed" not in page and "Not answered" in page
    missed = sign_in(support).get("/admin/cases/case/?target=missed").content.decode()
    assert "Still waiting" in missed and "Cluster node" not in missed


def test_someone_who_left_keeps_nothing_of_the_companys_cases(sign_in, alice, bob, support):
    from accounts.models import User
    from notices.models import Notice

    nina = UserFactory(email="nina@contoso.example", partner=alice.partner)
    sign_in(nina).post(ADVISORY, advisory_fields(contact_email="nina@contoso.example"))
    case = Case.objects.get()
    User.objects.filter(pk=nina.pk).update(partner=bob.partner)
    client = sign_in(nina)
    assert client.get(reverse("cases:case", args=[case.pk])).status_code == 404
    assert case.number not in client.get(LIST).content.decode()
    services.reply(case.pk, support, "Here is a plan")
    assert not Notice.objects.filter(recipient=nina, kind="case_reply").exists()


def test_the_ledger_names_only_the_cases_its_reader_may_open(
    sign_in, alice, aaron, product_support
):
    open_incident(alice, product_support, title="Merger system down")
    page = sign_in(aaron).get(reverse("cases:ledger", args=[product_support.pk])).content.decode()
    assert "Merger system down" not in page and "Alice" not in page
    assert (
        "Merger system down"
        in sign_in(alice).get(reverse("cases:ledger", args=[product_support.pk])).content.decode()
    )


def test_hours_never_used_are_reminded_of_before_they_lapse(bob, clock):
    from entitlements.models import MembershipOffer
    from notices.models import Notice

    today = clock.now().date()
    MembershipOffer.objects.filter(partner=bob.partner).update(
        ends_on=today + datetime.timedelta(days=10)
    )
    assert services.remind_hours_expiring() == 1
    assert services.remind_hours_expiring() == 0
    notice = Notice.objects.get(kind="advisory_hours_expiring")
    assert (notice.recipient, notice.context["hours_left"]) == (bob, 5)


def test_staff_find_a_case_by_the_number_the_partner_quotes(
    sign_in, alice, support, product_support
):
    case = open_incident(alice, product_support)
    found = sign_in(support).get(f"/admin/cases/case/?q={case.number}").content.decode()
    assert f">{case.number}<" in found


def test_a_company_without_an_active_membership_is_told_before_typing(sign_in, bob):
    from entitlements.models import MembershipOffer

    MembershipOffer.objects.filter(partner=bob.partner).delete()
    page = sign_in(bob).get(ADVISORY).content.decode()
    assert "no active membership" in page and 'name="title"' not in page


@pytest.mark.django_db(transaction=True)
def test_a_csp_incident_of_someone_who_left_keeps_its_company_and_number(alice, contoso):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from accounts.models import User

    before = [
        ("support", "0005_incident_support_type_and_phone"),
        ("cases", "0001_cases"),
        ("audit", "0006_people_and_access_actions"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Incident = old.get_model("support", "Incident")
    Entry = old.get_model("audit", "AuditEntry")
    version = old.get_model("support", "ProductVersion").objects.get(product__name="Azure")
    incident = Incident.objects.create(
        opened_by_id=alice.pk,
        product_version=version,
        title="VM won't start",
        description="Since Monday.",
        severity="B",
        contact_name="Alice",
        contact_email=alice.email,
    )
    # Alice later left the company: the log says which one.
    User.objects.filter(pk=alice.pk).update(partner=None)
    Entry.objects.create(
        partner_id=contoso.pk,
        action="account_removed",
        subject=alice.email,
        facts={"email": alice.email},
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    case = Case.objects.get()
    assert (case.pk, case.partner_id, case.title) == (incident.pk, contoso.pk, "VM won't start")


def test_staff_route_advisory_requests_by_country_and_language(sign_in, bob, alice, support):
    sign_in(bob).post(ADVISORY, advisory_fields(title="Tokyo landing zone"))
    sign_in(alice).post(
        ADVISORY, advisory_fields(title="Berlin pilot", country="Germany", language="en")
    )
    staff = sign_in(support)
    offered = staff.get("/admin/cases/case/").content.decode()
    assert "By country/region" in offered and "By preferred language" in offered
    japanese = staff.get("/admin/cases/case/?language=ja").content.decode()
    assert "Tokyo landing zone" in japanese and "Berlin pilot" not in japanese
    germany = staff.get("/admin/cases/case/?country=Germany").content.decode()
    assert "Berlin pilot" in germany and "Tokyo landing zone" not in germany


def test_a_partners_note_on_a_resolved_case_reopens_it_unless_it_gave_back(
    sign_in, alice, support, product_support
):
    solved = open_incident(alice, product_support)
    services.change(solved.pk, support, state="resolved", resolution="solved")
    sign_in(alice).post(reverse("cases:note", args=[solved.pk]), {"text": "Still failing"})
    solved.refresh_from_db()
    assert (solved.state, solved.resolution) == ("in_progress", "")

    duplicate = open_incident(alice, product_support, title="Same again")
    services.change(duplicate.pk, support, state="resolved", resolution="duplicate")
    sign_in(alice).post(reverse("cases:note", args=[duplicate.pk]), {"text": "Thanks"})
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.resolution) == ("resolved", "duplicate")


def test_staff_see_the_hours_recorded_and_the_companys_hours_left(sign_in, bob, support):
    sign_in(bob).post(ADVISORY, advisory_fields())
    case = Case.objects.get()
    staff = sign_in(support)
    staff_save(staff, case, hours_spent="1.5")
    page = staff.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert "3.50 / 5" in page and "1.50" in page
