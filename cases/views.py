"""The partner's case pages: the list, a case with its conversation, and a contract's ledger."""

from decimal import Decimal
from itertools import chain
from operator import attrgetter

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import DecimalField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.decorators import login_required
from accounts.models import User
from activation import clock
from entitlements.permissions import (
    FILE_CUSTOMER_REQUESTS,
    VIEW_BENEFITS,
    VIEW_COMPANY_CASES,
    VIEW_CUSTOMERS,
    can,
    in_partner_membership_center,
    may_file_advisory_requests,
)
from support.models import IncidentCredit, SupportContract

from . import services
from .forms import AdvisoryRequestForm, CaseFilter, NoteForm
from .models import Case

PER_PAGE = 50


def _case_or_404(user, pk):
    """A case `user` may see (cases.services.visible_cases); any other, another company's
    too, is a 404."""
    return get_object_or_404(
        services.visible_cases(user).select_related(
            "product", "product_version", "contract", "opened_by", "partner", "customer", "service"
        ),
        pk=pk,
    )


@require_safe
@login_required
def case_list(request):
    """The cases the person may see, newest first, searched and filtered, 50 a page."""
    user = request.user
    cases = services.visible_cases(user)
    company_wide = user.partner_id is not None and can(user, VIEW_COMPANY_CASES)
    # Those who file requests for the company's customers follow each other's too.
    customer_requests = user.partner_id is not None and can(user, FILE_CUSTOMER_REQUESTS)
    others = company_wide or customer_requests
    openers = (
        User.objects.filter(pk__in=cases.values("opened_by")).order_by("first_name", "email")
        if others
        else User.objects.none()
    )
    form = CaseFilter(request.GET, openers=openers)
    form.is_valid()  # errors are shown; the valid filters still apply
    page = Paginator(
        form.apply(cases, user).select_related("product", "service", "customer", "opened_by"),
        PER_PAGE,
    ).get_page(request.GET.get("page"))
    now = clock.now()
    for case in page.object_list:
        case.met = case.target_met(now)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "company_wide": company_wide,
        "customer_requests": customer_requests and not company_wide,
        "others": others,
        "filtered": bool(form.is_bound and any(form.cleaned_data.values())),
    }
    return render(request, "cases/list.html", context)


def _render_case(request, case, note_form=None, status=200):
    context = {
        "case": case,
        "entries": case.entries.select_related("author"),
        "target_met": case.target_met(clock.now()),
        "note_form": note_form or NoteForm(),
        "may_view_customer": case.is_service_request and can(request.user, VIEW_CUSTOMERS),
        "given_back": IncidentCredit.objects.filter(case=case).first()
        if case.contract_id
        else None,
    }
    return render(request, "cases/case.html", context, status=status)


@require_safe
@login_required
def case_page(request, pk):
    """A case: its details, first-response target and whether it was met, its conversation,
    a note to add, and Close."""
    return _render_case(request, _case_or_404(request.user, pk))


@require_POST
@login_required
def add_note(request, pk):
    case = _case_or_404(request.user, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, form, status=400)
    try:
        services.add_note(case.pk, request.user, form.cleaned_data["text"])
    except services.CaseClosed:
        form.add_error(None, _("This case is closed; open a new request. Your note is kept."))
        case.refresh_from_db()
        return _render_case(request, case, form, status=409)
    messages.success(request, _("Note added."))
    return redirect("cases:case", pk=case.pk)


@require_POST
@login_required
def close(request, pk):
    case = _case_or_404(request.user, pk)
    if services.close(case.pk, request.user):
        messages.success(request, _("Case %(number)s closed.") % {"number": case.number})
    else:
        messages.info(request, _("No change: the case was already closed."))
    return redirect("cases:case", pk=case.pk)


@require_safe
@login_required
def ledger(request, contract_id):
    """A contract's ledger: every incident used and every one given back, with the case
    number, the reason and who. For those who see the company's benefits, and the accounts
    the contract was added to; any other contract is a 404."""
    user = request.user
    mine = Q(links__user=user)
    if user.partner_id is not None and can(user, VIEW_BENEFITS):
        mine |= Q(partner_id=user.partner_id)
    contract = (
        SupportContract.objects.filter(mine, pk=contract_id)
        .select_related("partner")
        .distinct()
        .first()
    )
    if contract is None:
        raise Http404("No such contract.")
    used = (
        Case.objects.filter(contract=contract)
        .select_related("opened_by")
        .annotate(seen=Exists(services.visible_cases(user).filter(pk=OuterRef("pk"))))
    )
    credits = IncidentCredit.objects.filter(contract=contract).select_related("given_by", "case")
    for case in used:
        # A case the reader may not open shows its number only: no title, no opener.
        case.at, case.used = case.opened_at, True
    for credit in credits:
        credit.at, credit.used = credit.given_at, False
    rows = sorted(chain(used, credits), key=attrgetter("at"), reverse=True)
    return render(request, "cases/ledger.html", {"contract": contract, "rows": rows})


def to_the_case_filed_already(request, case):
    """The answer to a request form sent again: the case it filed the first time."""
    messages.info(
        request, _("No change: request %(number)s was filed already.") % {"number": case.number}
    )
    return redirect("cases:case", pk=case.pk)


def sent_again(request, form, earlier, answer=to_the_case_filed_already):
    """A case form (cases.forms.SubmittedOnce) sent again, after it filed `earlier`. Sent as
    it was (a double click, a reload): `answer(request, earlier)`, the case it filed. Changed
    meanwhile (back, edited, sent): None, and the form keeps the changes under a fresh key and
    says so; the caller shows it again (409), and sending it files a new case."""
    if not form.changed_since(earlier):
        return answer(request, earlier)
    form.renew_key()
    form.add_error(
        None,
        _(
            "This page filed %(number)s already; your changes are kept below. Send them to file "
            "a new case, or add them to %(number)s as a note."
        )
        % {"number": earlier.number},
    )
    return None


@require_http_methods(["GET", "POST"])
@login_required
def advisory(request):
    """Technical Presales and Deployment services: file a request (any user of an MPN
    company), the company's hours remaining, and each request with the hours it used."""
    user = request.user
    if in_partner_membership_center(user):  # advisory hours are a technical benefit
        return render(request, "entitlements/in_pmc.html", {"partner": user.partner}, status=403)
    if not may_file_advisory_requests(user):
        return render(request, "entitlements/not_mpn_associated.html", status=403)
    allowance, _offer, balance = services.this_year(user.partner)
    form = AdvisoryRequestForm(
        request.POST or None,
        initial={"contact_name": user.display_name, "contact_email": user.email},
    )
    status = 200
    earlier = services.filed_already(user, request.POST.get("submission_key"))
    if request.method == "POST" and earlier is not None:
        status = 409
        if answer := sent_again(request, form, earlier):
            return answer
    elif request.method == "POST":
        if form.is_valid():
            try:
                case, filed = services.filed_once(
                    user,
                    form.cleaned_data["submission_key"],
                    lambda: services.file_advisory_request(user, **form.cleaned_data),
                    refusals=(services.NoAdvisoryHours,),
                )
            except services.NoAdvisoryHours:
                form.add_error(None, _("Your company has no active membership: no advisory hours."))
            else:
                if filed:
                    messages.success(
                        request,
                        _(
                            "Request %(number)s filed. A consultant replies within two business "
                            "days."
                        )
                        % {"number": case.number},
                    )
                    return redirect("cases:case", pk=case.pk)
                return to_the_case_filed_already(request, case)  # sent twice at once
        status = 400
    requests = (
        services.visible_cases(user)
        .filter(kind=Case.Kind.ADVISORY)
        .annotate(
            hours_used=Coalesce(
                Sum("hours__hours", filter=Q(hours__counted=True)),
                Value(Decimal(0)),
                output_field=DecimalField(),
            )
        )
        .select_related("product")
        .order_by("-opened_at", "-pk")
    )
    context = {
        "form": form,
        "allowance": allowance,
        "remaining": balance.hours_remaining if balance else (allowance and allowance.hours),
        "total": balance.hours_total if balance else (allowance and allowance.hours),
        # The newest requests: a company files a few in a year (hours last a year), and
        # the full list is under Cases.
        "requests": requests[:PER_PAGE],
    }
    return render(request, "cases/advisory.html", context, status=status)
