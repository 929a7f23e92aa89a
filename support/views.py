import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import login_required
from benefits_portal import limits
from benefits_portal.templatetags.sentences import sentence_gap
from cases.models import Case
from cases.services import filed_already, filed_once
from cases.views import sent_again
from entitlements.permissions import (
    MANAGE_CONTRACTS,
    capability_required,
    partner_object_or_404,
)

from . import rules, services
from .forms import AddContractForm, IncidentForm, ProductForm
from .models import ContractLink, SupportContract

# Wrong Access ID and Contract ID pairs: an account may get 5 wrong in 15 minutes. An address
# with 20 wrong in an hour (a script trying accounts in turn) leaves each account there one
# wrong pair instead: a correct pair from an account that has not erred still goes through,
# so one person's typos never lock out an office behind one address.
WRONG_IDS_BY_ACCOUNT = limits.Limit("wrong-ids:account", 5, datetime.timedelta(minutes=15))
WRONG_IDS_BY_ADDRESS = limits.Limit("wrong-ids:address", 20, datetime.timedelta(hours=1))
# Incidents an account may open in an hour: far more than a person files, few enough that a
# script can't flood the support queue.
INCIDENTS_BY_ACCOUNT = limits.Limit("incidents:account", 10, datetime.timedelta(hours=1))
INCIDENTS_PER_PAGE = 50


def _too_many_wrong_ids(minutes):
    return ngettext(
        "Too many wrong Access ID and Contract ID pairs from this account or address. "
        "Try again in %(minutes)s minute.",
        "Too many wrong Access ID and Contract ID pairs from this account or address. "
        "Try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def _create_url(product_form):
    if product_form is None or not product_form.is_valid():
        return reverse("support:create")
    query = {
        "version": product_form.cleaned_data["version"].pk,
        "support_type": product_form.cleaned_data["support_type"],
    }
    return f"{reverse('support:create')}?{urlencode(query)}"


# What was typed in step 3, carried through adding a contract (its own form), so a person
# whose plan was refused adds another contract without typing the incident again.
DRAFT_PREFIX = "draft-"
DRAFT_SESSION_KEY = "support_incident_draft"


def _draft_of(request):
    """The incident's fields the add-contract form carried, as {field: value}."""
    fields = IncidentForm.Meta.fields
    return {
        name.removeprefix(DRAFT_PREFIX): value
        for name, value in request.POST.items()
        if name.startswith(DRAFT_PREFIX) and name.removeprefix(DRAFT_PREFIX) in fields
    }


def _render_create(
    request, product_form, incident_form=None, contract_form=None, status=200, draft=None
):
    context = {
        "product_form": product_form,
        "contract_form": contract_form or AddContractForm(),
        "create_url": _create_url(product_form),
        "draft": bool(draft),
    }
    if product_form.is_valid():
        version = product_form.cleaned_data["version"]
        usable, unavailable = services.plans_for(request.user, version)
        context.update(
            version=version,
            usable=usable,
            unavailable=unavailable,
            # Why none of the plans covers the product, said once each (e.g. Action Pack has
            # no cloud support; only the current and the previous version are covered).
            rules_not_met=[r for r in dict.fromkeys(p.availability.rule for p in unavailable) if r],
            incident_form=incident_form
            or IncidentForm(
                usable=usable,
                unavailable=unavailable,
                initial={
                    "contact_name": request.user.display_name,
                    "contact_email": request.user.email,
                    "plan": usable[0].key if len(usable) == 1 else None,
                    **(draft or {}),
                },
            ),
        )
    return render(request, "support/create.html", context, status=status)


@require_GET
@login_required
def home(request):
    return redirect("support:create")


@require_GET
@login_required
def contracts(request):
    """A typed parent path: the account's contracts are listed with its requests."""
    return redirect(f"{reverse('support:incidents')}#plans")


@require_http_methods(["GET", "POST"])
@login_required
def create(request):
    """Create a request: choose a product and a support type, then a plan, then describe it."""
    product_form = ProductForm(request.GET or None)
    if request.method == "GET" or not product_form.is_valid():
        draft = request.session.pop(DRAFT_SESSION_KEY, None) if request.method == "GET" else None
        status = 200 if request.method == "GET" else 400
        return _render_create(request, product_form, status=status, draft=draft)

    version = product_form.cleaned_data["version"]
    usable, unavailable = services.plans_for(request.user, version)
    incident_form = IncidentForm(request.POST, usable=usable, unavailable=unavailable)
    earlier = filed_already(request.user, request.POST.get("submission_key"))
    if earlier is not None:
        answer = sent_again(request, incident_form, earlier, _opened_already)
        return answer or _render_create(request, product_form, incident_form, status=409)
    if not incident_form.is_valid():
        # A plan refused for what it is now (the other tab took its last incident) is a
        # conflict, not a mistake in the form.
        chosen = request.POST.get("plan")
        refused = incident_form.has_error("plan") and chosen in incident_form.plans
        status = 409 if refused else 400
        return _render_create(request, product_form, incident_form, status=status)
    opened_lately = limits.hit(INCIDENTS_BY_ACCOUNT, request.user.pk)
    if opened_lately.exceeded:
        incident_form.add_error(
            None,
            ngettext(
                "You have opened %(count)s incidents in the last hour, the most an account may. "
                "Try again in %(minutes)s minute; what you typed is kept.",
                "You have opened %(count)s incidents in the last hour, the most an account may. "
                "Try again in %(minutes)s minutes; what you typed is kept.",
                opened_lately.minutes_left,
            )
            % {"count": INCIDENTS_BY_ACCOUNT.count, "minutes": opened_lately.minutes_left},
        )
        return _render_create(request, product_form, incident_form, status=429)
    details = {k: v for k, v in incident_form.cleaned_data.items() if k != "plan"}
    details["support_type"] = product_form.cleaned_data["support_type"]
    try:
        incident, opened_now = filed_once(
            request.user,
            details["submission_key"],
            lambda: services.open_incident(
                request.user, version, incident_form.cleaned_data["plan"], **details
            ),
            refusals=(services.PlanUnavailable,),
        )
    except services.PlanUnavailable as refusal:
        limits.give_back(INCIDENTS_BY_ACCOUNT, request.user.pk)
        incident_form.add_error(
            "plan",
            _("%(reason)s The incident was not opened. Choose another plan, or add a contract.")
            % {"reason": refusal},
        )
        return _render_create(request, product_form, incident_form, status=409)

    if not opened_now:  # sent twice at once: the other submission opened it
        limits.give_back(INCIDENTS_BY_ACCOUNT, request.user.pk)
        return _opened_already(request, incident)
    opened = _("Incident %(number)s opened.") % {"number": incident.number}
    if incident.contract is not None and not incident.contract.is_unlimited:
        remaining = incident.contract.incidents_remaining
        opened += sentence_gap() + ngettext(
            "%(count)s incident remaining on this plan.",
            "%(count)s incidents remaining on this plan.",
            remaining,
        ) % {"count": formats.number_format(remaining)}
    messages.success(request, opened)
    return redirect("support:incidents")


def _opened_already(request, incident):
    """The answer to an incident form sent again: the incident it opened the first time."""
    messages.info(
        request,
        _("No change: incident %(number)s was opened already.") % {"number": incident.number},
    )
    return redirect("support:incidents")


def _standing_advice(contract, version, today):
    """What the account can do with the contract now, in a sentence or two: true for the
    product chosen in step 1 (`version`, or None when none is chosen yet)."""
    partner = contract.partner.name
    if today > contract.ends_on:
        return _(
            "It is not usable: it expired on %(date)s. Ask a Global admin of %(partner)s to "
            "activate the benefit of a current membership, or purchase a support plan."
        ) % {"date": formats.date_format(contract.ends_on), "partner": partner}
    if today < contract.starts_on:
        return _("It is not usable yet: it starts on %(date)s.") % {
            "date": formats.date_format(contract.starts_on)
        }
    if contract.incidents_remaining == 0:
        return _(
            "It is not usable: it has no incidents remaining. Purchase a support plan, or ask "
            "a Global admin of %(partner)s to activate another benefit."
        ) % {"partner": partner}
    if version is None:
        return _(
            "It is usable for %(coverage)s: choose a product, then this plan under Types of "
            "support."
        ) % {"coverage": rules.coverage(contract.benefit)}
    rule = rules.coverage_rule(
        contract.benefit, services.product_facts(version), services.is_action_pack(contract)
    )
    if rule:
        return _("It cannot be used for %(product)s. %(rule)s") % {
            "product": version,
            "rule": rule,
        }
    return _("It is usable for %(product)s: choose it under Types of support.") % {
        "product": version
    }


@require_POST
@login_required
def add_contract(request):
    """Add a contract with its Access ID and Contract ID, once; then it belongs to the account."""
    product_form = ProductForm(request.GET or None)
    contract_form = AddContractForm(request.POST)
    draft = _draft_of(request)
    if not contract_form.is_valid():
        return _render_create(
            request, product_form, contract_form=contract_form, status=400, draft=draft
        )
    # Counted before the look-up, atomically, so parallel tries can't all slip under the
    # limits; given back if the pair turns out right, or if it is refused unlooked-at.
    address_key = limits.client_address(request)
    account = limits.hit(WRONG_IDS_BY_ACCOUNT, request.user.pk)
    address = limits.hit(WRONG_IDS_BY_ADDRESS, address_key)
    erred_before = account.hits > 1
    if account.exceeded or (address.exceeded and erred_before):
        limits.give_back(WRONG_IDS_BY_ADDRESS, address_key)
        if not account.exceeded:
            limits.give_back(WRONG_IDS_BY_ACCOUNT, request.user.pk)
        minutes = account.minutes_left if account.exceeded else address.minutes_left
        contract_form.add_error(None, _too_many_wrong_ids(minutes))
        return _render_create(
            request, product_form, contract_form=contract_form, status=429, draft=draft
        )
    try:
        link, created = services.add_contract(
            request.user,
            contract_form.cleaned_data["access_id"],
            contract_form.cleaned_data["contract_id"],
        )
    except services.WrongIds:
        contract_form.add_error(
            None,
            _(
                "No contract has this Access ID and Contract ID together. Check both numbers "
                "on the Technical benefits page of the company that activated the benefit."
            ),
        )
        return _render_create(
            request, product_form, contract_form=contract_form, status=400, draft=draft
        )
    limits.give_back(WRONG_IDS_BY_ACCOUNT, request.user.pk)
    limits.give_back(WRONG_IDS_BY_ADDRESS, address_key)
    if draft:
        request.session[DRAFT_SESSION_KEY] = draft  # filled in again on the page it returns to

    contract = link.contract
    version = product_form.cleaned_data["version"] if product_form.is_valid() else None
    advice = _standing_advice(contract, version, timezone.localdate())
    if created:
        messages.success(
            request,
            _(
                "Contract added: %(benefit)s of %(partner)s. You won't be asked for its IDs "
                "again. %(advice)s"
            )
            % {
                "benefit": contract.get_benefit_display(),
                "partner": contract.partner.name,
                "advice": advice,
            },
        )
    else:
        added = formats.date_format(timezone.localtime(link.added_at), "DATE_FORMAT")
        messages.info(
            request,
            _("This contract is already on your account: you added it on %(added)s. %(advice)s")
            % {"added": added, "advice": advice},
        )
    return redirect(_create_url(product_form))


@require_GET
@login_required
def incidents(request):
    today = timezone.localdate()
    links = ContractLink.objects.filter(user=request.user).select_related("contract__partner")
    context = {
        "page": Paginator(
            Case.objects.filter(opened_by=request.user, kind=Case.Kind.INCIDENT).select_related(
                "product_version__product", "contract__partner"
            ),
            INCIDENTS_PER_PAGE,
        ).get_page(request.GET.get("page")),
        "plans": [
            (
                link,
                rules.contract_standing(
                    link.contract.starts_on,
                    link.contract.ends_on,
                    link.contract.incidents_remaining,
                    today,
                ),
            )
            for link in links
        ],
    }
    return render(request, "support/incidents.html", context)


@require_GET
@capability_required(MANAGE_CONTRACTS)
def contract_holders(request, partner):
    """Who holds each of the company's support contracts, for its Global admins: each holder
    can be removed, and a contract's IDs re-issued (every holder removed at once)."""
    return render(
        request,
        "support/contract_holders.html",
        {"partner": partner, "contracts": services.contracts_with_holders(partner)},
    )


@require_POST
@capability_required(MANAGE_CONTRACTS)
def remove_holder(request, partner, contract_id, link_id):
    contract = partner_object_or_404(SupportContract.objects, partner, pk=contract_id)
    if services.remove_link(contract, link_id, request.user):
        messages.success(
            request,
            _(
                "Removed. That account can no longer open incidents on %(contract)s, unless "
                "someone gives it the IDs again: re-issue them if they may have left with it."
            )
            % {"contract": contract.contract_id},
        )
    else:
        messages.info(request, _("No change: that account no longer held this contract."))
    return redirect(f"{reverse('contract_holders')}#contract-{contract.pk}")


@require_POST
@capability_required(MANAGE_CONTRACTS)
def reissue_ids(request, partner, contract_id):
    contract = partner_object_or_404(SupportContract.objects, partner, pk=contract_id)
    seen = request.POST.get("access_id", "")
    if not seen:
        return HttpResponseBadRequest(
            _("Re-issue the IDs from the Contract holders page."), content_type="text/plain"
        )
    contract, reissued = services.reissue_ids(contract.pk, seen, request.user)
    if reissued:
        messages.success(
            request,
            _(
                "New Access ID and Contract ID issued for %(benefit)s. The old ones no longer "
                "work, and no account holds the contract now: whoever needs it adds it again "
                "with the new IDs, shown on the Technical benefits page."
            )
            % {"benefit": contract.get_benefit_display()},
        )
    else:
        messages.info(
            request,
            _(
                "No change: these IDs had already been re-issued. The Technical benefits page "
                "shows the new ones."
            ),
        )
    return redirect(f"{reverse('contract_holders')}#contract-{contract.pk}")
