"""The software and cloud catalogue's actions: which products a company is entitled to, drawing
and revealing license keys, and loading keys into the pool.

Writes are atomic and idempotent: one set of keys per offer and product is a unique row
(`KeyGrant`) the drawing transaction creates and locks, and free keys are claimed with
`SELECT ... FOR UPDATE SKIP LOCKED`, so no key goes to two companies.
"""

import csv
import io
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from activation import clock
from audit.services import Action, record
from entitlements.models import MembershipOffer
from entitlements.permissions import GET_KEYS, can
from entitlements.rules import level_rank
from entitlements.signals import benefit_used
from notices.models import Notice
from notices.services import tell

from .models import KEY_MAX_LENGTH, Inclusion, KeyGrant, KeyShortage, LicenseKey, Product

logger = logging.getLogger(__name__)

# What a license key may hold: letters, digits and dashes (XXXXX-XXXXX-...).
KEY_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


class NoKeysLeft(Exception):
    """The pool has fewer free keys of the product than the offer includes. Nothing was drawn;
    support staff are told and see the shortage in admin, and a later call draws the keys once
    they are loaded."""

    def __init__(self, product, wanted, free):
        self.product, self.wanted, self.free = product, wanted, free
        super().__init__(f"{product}: {wanted} keys wanted, {free} free")


class KeysRefused(Exception):
    """A file of keys refused as a whole: `problems` says which rows, and why."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class EntitledProduct:
    """A product a company is entitled to, the offer that provides it and that offer's terms
    for it (the inclusion in force on the offer's start date)."""

    product: Product
    offer: object
    inclusion: Inclusion

    @property
    def key(self):
        return f"{self.offer.pk}-{self.product.pk}"


def includes(inclusion, offer):
    """Whether `inclusion` is among `offer`'s terms: the offer's kind, its competency (or any,
    when the inclusion names none) and level, and in force on the day the offer started
    (since <= starts_on < until; DESIGN.md "Terms": later catalogue changes apply to offers that
    start later)."""
    return (
        inclusion.kind == offer.kind
        and inclusion.level == offer.level
        and inclusion.competency_id in (None, offer.competency_id)
        and inclusion.since <= offer.starts_on
        and (inclusion.until is None or offer.starts_on < inclusion.until)
    )


def inclusion_of(offer, product):
    """The catalogue's inclusion of `product` in `offer` as it is now (for the offer's start),
    or None when the offer doesn't include it (any more). A competency's own inclusion comes
    before one for every competency, then the newest terms. One query."""
    matching = [
        inclusion
        for inclusion in Inclusion.objects.filter(product=product, kind=offer.kind)
        if includes(inclusion, offer)
    ]
    return max(matching, key=lambda i: (i.competency_id is not None, i.since), default=None)


def _rank(offer, inclusion):
    # The providing offer: the highest membership (Gold, Silver, Action Pack), then the one
    # that started last (it runs longest), then the newest terms.
    return (level_rank(offer.kind, offer.level), offer.starts_on, offer.pk, inclusion.since)


def entitled_products(partner, area=Product.Area.SOFTWARE, on=None):
    """The products of `area` that `partner`'s offers active on `on` (today by default)
    include: a list of EntitledProduct, one per product, by name and version.

    A product two offers include is shown once, with the offer that provides it: the highest
    level (Gold over Silver over Action Pack), then the latest start. Two queries, however many
    offers and products (the catalogue's inclusions of the area are read once). Raises nothing.
    """
    on = on or clock.today()
    offers = list(partner.offers.active(on).select_related("competency"))
    if not offers:
        return []
    inclusions = Inclusion.objects.filter(
        product__area=area, kind__in={offer.kind for offer in offers}
    ).select_related("product")
    best = {}
    for inclusion in inclusions:
        for offer in offers:
            if not includes(inclusion, offer):
                continue
            held = best.get(inclusion.product_id)
            if held is None or _rank(offer, inclusion) > _rank(held.offer, held.inclusion):
                best[inclusion.product_id] = EntitledProduct(inclusion.product, offer, inclusion)
    return sorted(best.values(), key=lambda row: (row.product.name, row.product.version))


def entitlement_or_404(partner, offer_id, product_id, area=None, rows=None):
    """The company's entitlement to one product through one of its active offers, or 404: an
    offer of another company, ended, or that doesn't include the product looks like nothing.
    `rows`: the company's entitled_products, when the caller has them already."""
    if rows is None:
        rows = entitled_products(partner, area=area or Product.Area.SOFTWARE)
    for row in rows:
        if row.offer.pk == offer_id and row.product.pk == product_id:
            return row
    raise Http404("No such product among the company's entitlements.")


def revealed_keys(offers):
    """{(offer id, product id): [key, ...]} of the keys of `offers` someone has already seen:
    shown again on every reload to whoever may get keys. One query."""
    shown = {}
    keys = LicenseKey.objects.filter(
        offer__in=offers, first_viewed_at__isnull=False
    ).select_related("first_viewed_by")
    for key in keys.order_by("pk"):
        shown.setdefault((key.offer_id, key.product_id), []).append(key)
    return shown


def get_keys(person, offer, product):
    """The license keys of `product` for `offer`, revealed to `person`: a list of LicenseKey.

    The first call draws as many free keys of the pool as the offer's inclusion says; every
    later call returns the same keys (and draws the rest if the inclusion grew). Drawing is all
    or nothing. The first time each key is revealed, who and when are recorded on it and in
    the company's audit log (a key viewed makes the offer no longer refundable: seed 003,
    DOMAIN.md "Cancel").

    Raises Http404 when the offer isn't `person`'s company's, isn't active, or doesn't include
    the product; PermissionDenied when `person` may not get keys (Global admin and MPN partner
    admin: seed 003); NoKeysLeft when the pool is short (recorded for support staff).
    """
    if offer.partner_id != person.partner_id:
        raise Http404("No such offer.")
    if not can(person, GET_KEYS):
        raise PermissionDenied
    row = entitlement_or_404(offer.partner, offer.pk, product.pk, area=product.area)
    wanted = row.inclusion.keys
    now = clock.now()
    try:
        with transaction.atomic():
            # The offer's row first, as a cancellation locks it: an offer cancelled meanwhile
            # reveals nothing, and a cancellation asked for meanwhile learns of this view.
            locked = MembershipOffer.objects.select_for_update(no_key=True).get(pk=offer.pk)
            if not locked.is_active(clock.today()):
                raise Http404("The offer is no longer active.")
            # One row per offer and product, locked: whoever comes second waits here, then
            # finds the keys the first one drew.
            KeyGrant.objects.bulk_create(
                [KeyGrant(offer=offer, product=product, created_at=now)], ignore_conflicts=True
            )
            KeyGrant.objects.select_for_update().get(offer=offer, product=product)
            keys = list(LicenseKey.objects.filter(offer=offer, product=product).order_by("pk"))
            if len(keys) < wanted:
                keys += _draw(offer, product, wanted - len(keys), now)
                KeyShortage.objects.filter(
                    offer=offer, product=product, resolved_at__isnull=True
                ).update(resolved_at=now)
            unseen = [key for key in keys if key.first_viewed_at is None]
            if unseen:
                # The first view of these keys, in the drawing's transaction: the one place it
                # is recorded. What else a first view decides (an open request to cancel the
                # offer for a refund is declined: DOMAIN.md "Cancel") is told from here.
                _record_first_view(person, offer, product, unseen, now)
                benefit_used.send(
                    sender=LicenseKey, offer=locked, user=person, facts={"product": str(product)}
                )
            return keys
    except NoKeysLeft as short:
        _raise_to_staff(person, offer, product, short, now)
        raise


def _draw(offer, product, count, now):
    # Keys another transaction is drawing are skipped, not waited for: never given twice.
    free = list(
        LicenseKey.objects.select_for_update(skip_locked=True)
        .filter(product=product, offer__isnull=True)
        .order_by("pk")[:count]
    )
    if len(free) < count:
        raise NoKeysLeft(product, count, len(free))
    LicenseKey.objects.filter(pk__in=[key.pk for key in free]).update(offer=offer, drawn_at=now)
    for key in free:
        key.offer, key.drawn_at = offer, now
    return free


def _record_first_view(person, offer, product, keys, now):
    LicenseKey.objects.filter(pk__in=[key.pk for key in keys]).update(
        first_viewed_by=person, first_viewed_at=now
    )
    for key in keys:
        key.first_viewed_by, key.first_viewed_at = person, now
    record(
        offer.partner,
        Action.KEYS_VIEWED,
        f"{len(keys)} license key(s) of {product} for {offer} first viewed by {person.email}",
        person,
        {"offer": offer.facts, "product": str(product), "keys": len(keys)},
    )


def _raise_to_staff(person, offer, product, short, now):
    # Its own transaction: the drawing's was rolled back, the shortage must stay. One open
    # shortage per offer and product (a constraint): staff are told once, however many times
    # the partner asks.
    try:
        with transaction.atomic():
            shortage = KeyShortage.objects.create(
                offer=offer,
                product=product,
                wanted=short.wanted,
                free=short.free,
                asked_by=person,
                asked_at=now,
            )
            url = reverse("admin:software_product_change", args=[product.pk])
            context = {
                "partner": offer.partner.name,
                "offer": offer.facts,
                "product": str(product),
                "wanted": short.wanted,
                "free": short.free,
                "asked_by": person.email,
            }
            for staff in User.objects.staff_who_may("add_licensekey"):
                tell(
                    staff,
                    Notice.Kind.KEYS_RAN_OUT,
                    about=f"key_shortage:{shortage.pk}",
                    context=context,
                    url=url,
                )
    except IntegrityError:
        return
    logger.warning(
        "No keys left: %s asked for %s key(s) of %s for %s (%s free)",
        offer.partner,
        short.wanted,
        product,
        offer,
        short.free,
    )


def free_keys(product):
    """How many keys of `product` the pool still has. One query."""
    return product.keys.filter(offer__isnull=True).count()


def load_keys(product, data, now=None):
    """Load the keys in `data` (bytes of a CSV or text file: one key per row, in its first
    column; a header "key" and blank rows are skipped) into `product`'s pool. Returns how many.

    All or nothing: raises KeysRefused naming each bad row (not a key, too long, twice in the
    file, already in the pool) and loads none; a key loaded by someone else at the same moment
    is refused by the pool's unique column, and nothing is loaded either.
    """
    if product.delivery != Product.Delivery.KEYS:
        raise KeysRefused([_("%(product)s is not delivered with keys.") % {"product": product}])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KeysRefused([_("The file is not UTF-8 text.")]) from None
    problems, keys, rows = [], [], {}
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            problems.append(_("Row %(row)s: not readable as CSV.") % {"row": reader.line_num or 1})
            break
        number = reader.line_num
        # Full-width letters and digits typed through a Japanese or Chinese IME count as ASCII.
        key = unicodedata.normalize("NFKC", row[0]).strip().upper() if row else ""
        if not key or (number == 1 and key == "KEY"):
            continue
        if len(key) > KEY_MAX_LENGTH:
            problems.append(
                _("Row %(row)s: a key has at most %(max)s characters.")
                % {"row": number, "max": KEY_MAX_LENGTH}
            )
        elif not KEY_PATTERN.match(key):
            problems.append(
                _("Row %(row)s: “%(key)s” is not a key (letters, digits and dashes).")
                % {"row": number, "key": key[:40]}
            )
        elif key in rows:
            problems.append(
                _("Row %(row)s: %(key)s is in the file already (row %(first)s).")
                % {"row": number, "key": key, "first": rows[key]}
            )
        else:
            rows[key] = number
            keys.append(key)
    for key in LicenseKey.objects.filter(key__in=keys).values_list("key", flat=True):
        problems.append(
            _("Row %(row)s: %(key)s is in the pool already.") % {"row": rows[key], "key": key}
        )
    if not keys and not problems:
        problems.append(_("The file has no keys."))
    if problems:
        raise KeysRefused(sorted(problems, key=_row_number))
    now = now or clock.now()
    try:
        with transaction.atomic():
            LicenseKey.objects.bulk_create(
                LicenseKey(product=product, key=key, loaded_at=now) for key in keys
            )
    except IntegrityError:
        raise KeysRefused(
            [_("Some of these keys were loaded at the same moment by someone else; try again.")]
        ) from None
    logger.info("Loaded %s key(s) of %s", len(keys), product)
    return len(keys)


def _row_number(problem):
    digits = re.search(r"\d+", problem)
    return int(digits.group()) if digits else 0
