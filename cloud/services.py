"""The Cloud page's benefits and every change to them: atomic, audited, told through the outbox.

Seed 003, "Manage cloud services benefits": Azure usage-based subscriptions are activated by
assigning a user (the Global admin assigns; later docs: a monthly credit that lapses at month
end); license-based ones by Get keys (the Software work); and, in this portal, subscriptions
that take days to set up go through the activation engine (activation.services).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from activation import clock
from activation import services as activation
from activation.models import ActivationRequest
from audit.models import AuditEntry
from audit.services import record
from entitlements.models import MembershipOffer
from entitlements.permissions import GET_KEYS, can
from entitlements.rules import level_rank
from entitlements.signals import benefit_used
from notices.services import tell
from software import services as software_services
from software.models import Inclusion, Product

from .models import CreditAssignment

Action = AuditEntry.Action
Delivery = Product.Delivery


class Refused(Exception):
    """The change can't be made; the message says why, for the partner."""


@dataclass(frozen=True)
class CloudBenefit:
    """One cloud product of the company, with the offer that provides it and what it holds of
    it: its latest activation request (provisioned products) or its current assignee (Azure
    credit)."""

    offer: MembershipOffer
    inclusion: Inclusion
    activation: ActivationRequest | None = None
    assignment: CreditAssignment | None = None
    # A license-based product's keys already revealed, shown to whoever may get keys.
    keys: tuple = ()

    @property
    def product(self):
        return self.inclusion.product

    @property
    def key(self):
        return f"{self.offer.pk}-{self.product.pk}"

    @property
    def activate_before(self):
        """The date before which it must be activated (later docs), or None: the offer's start
        plus the inclusion's days."""
        days = self.inclusion.activate_within_days
        return None if days is None else self.offer.starts_on + datetime.timedelta(days=days)

    def too_late(self, today):
        """Whether, on `today`, the date before which it had to be activated has come."""
        return self.activate_before is not None and today >= self.activate_before

    @property
    def is_too_late(self):
        return self.too_late(clock.today())

    @property
    def subscription(self):
        if self.activation and self.activation.state == ActivationRequest.State.ACTIVE:
            return getattr(self.activation, "cloud_subscription", None)
        return None


def _best(pairs):
    """Of (offer, inclusion) pairs for one product, the one a row shows: the highest level
    (Gold, Silver, Action Pack), then the latest start; a competency's own inclusion before
    one for every competency."""
    return max(
        pairs,
        key=lambda pair: (
            level_rank(pair[0].kind, pair[0].level or None),
            pair[0].starts_on,
            pair[1].competency_id is not None,
            pair[1].since,
            -pair[0].pk,
        ),
    )


def cloud_benefits(partner, on=None):
    """The company's cloud subscription benefits from its offers active on `on` (today):
    a list of CloudBenefit, one per product, by product name, each with the offer providing
    it (the same rule as software.services.entitled_products). Two queries, whatever the
    company holds; `with_state` adds what the company holds of them."""
    on = on or clock.today()
    offers = list(partner.offers.active(on).select_related("competency"))
    kinds = {offer.kind for offer in offers}
    inclusions = list(
        Inclusion.objects.filter(product__area=Product.Area.CLOUD, kind__in=kinds).select_related(
            "product"
        )
    )
    by_product = {}
    for offer in offers:
        for inclusion in inclusions:
            if software_services.includes(inclusion, offer):
                by_product.setdefault(inclusion.product_id, []).append((offer, inclusion))
    rows = [CloudBenefit(*_best(pairs)) for pairs in by_product.values()]
    return sorted(rows, key=lambda row: (row.product.name, row.product.version))


def with_state(rows, viewer=None):
    """`rows` with each one's latest activation request, current credit assignee and, for a
    `viewer` who may get keys (permissions.GET_KEYS), its keys already revealed: two queries,
    three for such a viewer, for any number of rows."""
    offers = {row.offer.pk: row.offer for row in rows}.values()
    revealed = (
        software_services.revealed_keys(list(offers))
        if viewer is not None and can(viewer, GET_KEYS) and rows
        else {}
    )
    activations = ActivationRequest.objects.latest_by_product(offers)
    assignments = {
        (assignment.offer_id, assignment.product_id): assignment
        for assignment in CreditAssignment.objects.filter(
            offer__in=list(offers), ended_at__isnull=True
        ).select_related("assignee")
    }
    return [
        CloudBenefit(
            row.offer,
            row.inclusion,
            activations.get((row.offer.pk, row.product.pk)),
            assignments.get((row.offer.pk, row.product.pk)),
            tuple(revealed.get((row.offer.pk, row.product.pk), ())),
        )
        for row in rows
    ]


def cloud_benefit_of(partner, offer_id, product_id, on=None):
    """The company's cloud benefit of that offer and product, or None: another company's
    offer, a product the offer doesn't include or an offer not active are all none."""
    for row in cloud_benefits(partner, on):
        if row.offer.pk == offer_id and row.product.pk == product_id:
            return row
    return None


def _audit(row, action, actor, subject, **facts):
    facts = {"product": row.product.name, "offer": row.offer.facts, **facts}
    record(row.offer.partner, action, subject, actor, facts)


# Azure usage-based subscriptions: the monthly credit and its assignee


def credit_about(assignment):
    """What the notices of one assignment are about (Notice.about)."""
    return f"credit:{assignment.pk}"


def assign_credit(row, assignee, actor, seen=None):
    """Assign the monthly credit of `row` (a CloudBenefit of an Azure usage-based product) to
    `assignee`, one of the company's active users; reassigning ends the current assignment.

    `seen` is the pk of the assignment the actor saw (None: nobody held it): if someone else
    changed it meanwhile, nothing changes and Refused says who holds it now, so two admins
    assigning at once make one assignee (the database's partial unique constraint decides who
    was first). Assigning the current assignee again changes nothing. Returns (assignment,
    changed). Raises Refused for a product that isn't assigned, someone outside the company
    or inactive, or a first assignment after the date it had to be activated by.

    The new assignee is told, with the redemption link (the portal's page of that assignment,
    its code in the link); an old assignee is told they no longer hold it (seed 003; issue 16).
    """
    offer, product = row.offer, row.product
    if product.delivery != Delivery.ASSIGNED_CREDIT:
        raise Refused(_("%(product)s is not assigned to a user.") % {"product": product})
    if assignee.partner_id != offer.partner_id or not assignee.is_active:
        raise Refused(_("Choose one of your company's active users."))
    with transaction.atomic():
        # The offer's row, locked, as a cancellation locks it: an offer cancelled meanwhile is
        # refused, and a cancellation asked for meanwhile learns of this first assignment.
        locked = MembershipOffer.objects.select_for_update(no_key=True).get(pk=offer.pk)
        if not locked.is_active(clock.today()):
            raise Refused(
                _("%(offer)s is not active, so its benefits can't be assigned.")
                % {"offer": offer.title}
            )
        current = (
            CreditAssignment.objects.select_for_update()
            .filter(offer=offer, product=product, ended_at__isnull=True)
            .select_related("assignee")
            .first()
        )
        if current and current.assignee_id == assignee.pk:
            return current, False
        if (current.pk if current else None) != seen:
            raise _changed_meanwhile(current)
        if current is None and row.too_late(clock.today()):
            raise Refused(_too_late_message(row))
        now = clock.now()
        try:
            with transaction.atomic():
                if current:
                    current.ended_at = now
                    current.save(update_fields=["ended_at"])
                assignment = CreditAssignment.objects.create(
                    offer=offer,
                    product=product,
                    assignee=assignee,
                    assigned_by=actor,
                    assigned_at=now,
                    monthly_credit=row.inclusion.monthly_credit or 0,
                )
        except IntegrityError:
            # Another admin assigned it at this very moment: theirs stands.
            raise _changed_meanwhile(
                CreditAssignment.objects.filter(offer=offer, product=product, ended_at__isnull=True)
                .select_related("assignee")
                .first()
            ) from None
        with translation.override(settings.LANGUAGE_CODE):
            subject = f"{product}, {offer.title}: {assignee.email}"
        if current:
            _audit(
                row,
                Action.CREDIT_REASSIGNED,
                actor,
                f"{subject} (previously {current.assignee.email})",
                email=assignee.email,
                previous=current.assignee.email,
            )
        else:
            _audit(row, Action.CREDIT_ASSIGNED, actor, subject, email=assignee.email)
            benefit_used.send(
                sender=CreditAssignment,
                offer=locked,
                user=actor,
                facts={"credit": str(product), "assignee": assignee.display_name},
            )
        _tell_assigned(row, assignment, actor)
        if current:
            _tell_reassigned(row, current, assignment)
    return assignment, True


def _changed_meanwhile(current):
    if current is None:
        return Refused(_("The credit was changed meanwhile: nobody holds it now. Choose again."))
    return Refused(
        _("Meanwhile the credit was assigned to %(who)s. Check, and choose again if you wish.")
        % {"who": current.assignee.display_name}
    )


def _too_late_message(row):
    return _("%(product)s had to be activated before %(date)s; it can no longer be activated.") % {
        "product": row.product,
        "date": formats.date_format(row.activate_before, "DATE_FORMAT"),
    }


def _credit_context(row, assignment, actor):
    return {
        "product": str(row.product),
        "offer": row.offer.facts,
        "partner": row.offer.partner.name,
        "monthly_credit": f"{assignment.monthly_credit:,.2f}",
        "assigned_by": actor.display_name if actor else "",
        "assigned_on": clock.today(),
    }


def _tell_assigned(row, assignment, actor):
    url = reverse("cloud:credit", args=[assignment.redemption_code])
    context = _credit_context(row, assignment, actor)
    tell(
        assignment.assignee,
        "credit_assigned",
        about=credit_about(assignment),
        context=context,
        url=url,
    )


def _tell_reassigned(row, old, new):
    context = {
        **_credit_context(row, old, new.assigned_by),
        "new_assignee": new.assignee.display_name,
    }
    tell(old.assignee, "credit_reassigned", about=credit_about(old), context=context)


def current_credit(user, code):
    """The assignment whose redemption code is `code`, if `user` holds it now; else None."""
    return (
        CreditAssignment.objects.filter(
            redemption_code=code,
            assignee=user,
            ended_at__isnull=True,
            offer__partner_id=user.partner_id,
        )
        .select_related("offer__competency", "offer__partner", "product")
        .first()
    )


# Cloud subscriptions that take days: through the activation engine


def get_keys(row, user):
    """Reveal the license keys of `row` (a CloudBenefit of a license-based product) to `user`:
    the Software page's keys pool and rules (software.services.get_keys: drawn once per offer
    and product, the first view recorded). Returns the keys. Raises Refused for a product not
    delivered with keys, and what software.services.get_keys raises (NoKeysLeft...)."""
    if row.product.delivery != Delivery.KEYS:
        raise Refused(_("%(product)s has no license keys.") % {"product": row.product})
    return software_services.get_keys(user, row.offer, row.product)


def activate(row, user):
    """Ask the activation engine to provision `row`'s cloud subscription (a CloudBenefit of a
    provisioned product). Returns (request, created), one open request per offer and product
    (the engine's constraint). Raises Refused for a product that isn't provisioned, or after
    the date before which it had to be activated (later docs); activation.services'
    NotActivatable for an offer not active."""
    if row.product.delivery != Delivery.PROVISIONED:
        raise Refused(_("%(product)s is not activated here.") % {"product": row.product})
    if row.too_late(clock.today()):
        raise Refused(_too_late_message(row))
    return activation.request_activation(row.offer, None, user, product=row.product)


def retry(row, user):
    """Start `row`'s failed activation again where it stopped (activation.services.retry).
    False if it has none failed (any more)."""
    failed = activation.open_request(row.offer, None, row.product)
    return failed is not None and activation.retry(failed.pk, user)
