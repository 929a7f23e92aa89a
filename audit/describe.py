"""An audit entry's details in the reader's language, from the facts it keeps.

Entries keep codes and names (a benefit, a role, an offer's level and competency, a failure's
code), never sentences, so a Japanese admin reads the same entry in Japanese that an English
one reads in English. Free text typed by support staff (a reason) is kept as typed.
"""

import datetime

from django.utils import formats
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from entitlements.models import Role, offer_title
from entitlements.rules import Benefit, Level, OfferKind

# The fields a change names, in the reader's words.
FIELD_LABELS = {
    "kind": _("Kind"),
    "level": _("Level"),
    "competency": _("Competency"),
    "starts_on": _("Start date"),
    "ends_on": _("End date"),
    "partner": _("Company"),
    "state": _("State"),
    "severity": _("Severity"),
    "resolution": _("Resolution"),
    "name": _("Name"),
    "mpn_id": _("MPN ID"),
    "is_mpn_associated": _("Associated with MPN"),
    "is_csp": _("In CSP"),
    "in_partner_membership_center": _("Not yet moved from Partner Membership Center"),
    "buys_premier_support": _("Buys Premier Support for Partners"),
    "buys_advanced_support": _("Buys Advanced Support for Partners"),
    "email": _("Sign-in email"),
    "tenant_id": _("Tenant ID"),
}
# How a password changed, and which link was sent.
PASSWORD = {
    "changed": _("password changed"),
    "set": _("password set"),
    "reset": _("password reset by email link"),
}
LINKS = {"invitation": _("invitation"), "password_reset": _("password reset link")}
# How a Microsoft Entra group mapping changed, and what came through Entra sign-in.
MAPPING = {"added": _("mapping added"), "removed": _("mapping removed")}
VIA = {"entra": _("through Microsoft Entra ID sign-in")}
BECAUSE = {
    "moved": _("the account moved to another company"),
    "deactivated": _("the account was deactivated"),
    "removed": _("the account was removed from the company"),
}


def _value(field, value):
    from cases.models import Case as Incident

    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    choices = {
        "kind": OfferKind,
        "level": Level,
        "state": Incident.State,
        "severity": Incident.Severity,
        "resolution": Incident.Resolution,
    }.get(field)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    if field == "competency":
        return gettext(value)
    if field in ("starts_on", "ends_on"):
        return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    return str(value)


def _route(route):
    from cases.models import Case

    return str(Case.Route(route).label) if route in Case.Route.values else route or "–"


def _failure(facts, title):
    from activation.models import Failure

    params = facts.get("failure_params", {})
    ended = params.get("ended")
    return str(Failure(facts["failure"]).label) % {
        "offer": title,
        "ended": formats.date_format(datetime.date.fromisoformat(ended), "DATE_FORMAT")
        if ended
        else "–",
        "partner": params.get("partner", ""),
        "benefit": Benefit(facts["benefit"]).label
        if "benefit" in facts
        else facts.get("product", ""),
        "attempts": params.get("attempts", ""),
    }


def _authenticator(kind):
    from allauth.mfa.models import Authenticator

    if kind in Authenticator.Type.values:
        return str(Authenticator.Type(kind).label)
    return kind


def describe(facts):
    """The facts of one entry as one line of text in the active language."""
    parts = []
    title = ""
    if "benefit" in facts:
        parts.append(str(Benefit(facts["benefit"]).label))
    if "offer" in facts:
        offer = facts["offer"]
        title = offer_title(offer["kind"], offer["level"], offer["competency"])
        parts.append(title)
    if "product" in facts:
        parts.append(facts["product"])  # a catalogue's product name, as it is everywhere
    if "keys" in facts:
        count = facts["keys"]
        parts.append(ngettext("%(count)s key", "%(count)s keys", count) % {"count": count})
    if "contract_id" in facts:
        parts.append(f"{gettext('Contract ID')} {facts['contract_id']}")
    if "cancellation" in facts:
        parts.append(gettext("Request %(number)s") % {"number": facts["cancellation"]})
    if "incident" in facts:
        parts.append(gettext("Incident %(number)s") % {"number": facts["incident"]})
    if "service_request" in facts:
        # A service request: which, for whom, about which service, through which route.
        parts.append(gettext("Service request %(number)s") % {"number": facts["service_request"]})
        parts.append(gettext("for %(customer)s") % {"customer": facts.get("customer", "")})
        parts.append(facts.get("service", ""))
        parts.append(_route(facts.get("route")))
    if "token" in facts:
        # An API token: its name as its creator typed it, its scopes by their codes.
        parts.append(gettext("Token %(name)s") % {"name": facts["token"]})
        if facts.get("scopes"):
            parts.append(" ".join(facts["scopes"]))
        if facts.get("ends_on"):
            day = formats.date_format(datetime.date.fromisoformat(facts["ends_on"]), "DATE_FORMAT")
            parts.append(gettext("expires %(date)s") % {"date": day})
    if "tenant" in facts:
        parts.append(gettext("Tenant %(tenant)s") % {"tenant": facts["tenant"]})
    if "group" in facts:
        parts.append(gettext("Group %(group)s") % {"group": facts["group"]})
    if "role" in facts:
        parts.append(str(Role(facts["role"]).label))
    if "roles" in facts:
        # An invitation's roles, or none.
        roles = [str(Role(role).label) for role in facts["roles"] if role in Role.values]
        parts.append(pgettext("list separator", ", ").join(roles) if roles else gettext("no role"))
    if "email" in facts:
        parts.append(facts["email"])
    if facts.get("previous"):
        parts.append(gettext("previously %(email)s") % {"email": facts["previous"]})
    if facts.get("again"):
        parts.append(gettext("sent again"))
    if "address" in facts:
        parts.append(facts["address"])
    if facts.get("password") in PASSWORD:
        parts.append(str(PASSWORD[facts["password"]]))
    if facts.get("link") in LINKS:
        parts.append(str(LINKS[facts["link"]]))
    if "authenticator" in facts:
        parts.append(_authenticator(facts["authenticator"]))
        if facts.get("new_codes"):
            parts.append(gettext("new codes"))
    if "from" in facts:
        parts.append(gettext("from %(company)s") % {"company": facts["from"] or "–"})
    if "to" in facts:
        parts.append(gettext("to %(company)s") % {"company": facts["to"] or "–"})
    if "accounts_removed" in facts:
        count = facts["accounts_removed"]
        parts.append(
            ngettext("removed from %(count)s account", "removed from %(count)s accounts", count)
            % {"count": count}
        )
    if "incidents" in facts:
        count = facts["incidents"]
        parts.append(
            ngettext("%(count)s incident", "%(count)s incidents", count) % {"count": count}
        )
    for field, old, new in facts.get("changes", []):
        label = FIELD_LABELS.get(field, field)
        parts.append(f"{label}: {_value(field, old)} → {_value(field, new)}")
    if facts.get("mapping") in MAPPING:
        parts.append(str(MAPPING[facts["mapping"]]))
    if facts.get("via") in VIA:
        parts.append(str(VIA[facts["via"]]))
    if facts.get("because") in BECAUSE:
        parts.append(str(BECAUSE[facts["because"]]))
    if "failure" in facts:
        parts.append(_failure(facts, title))
    if facts.get("days"):
        count = facts["days"]
        parts.append(ngettext("for %(count)s day", "for %(count)s days", count) % {"count": count})
    if facts.get("reason"):
        parts.append(facts["reason"])
    if facts.get("note"):
        # Typed by whoever decided an access request: kept as typed.
        parts.append(facts["note"])
    # Translators: between the parts of an audit entry's details.
    return pgettext("list separator", ", ").join(parts)
