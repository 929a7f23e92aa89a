import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import at_most
from entitlements.rules import Benefit

from . import clock

PENDING = ["submitted", "in_review", "provisioning"]
OPEN = [*PENDING, "active", "failed"]  # at most one of these per benefit or cloud product
# A reason support staff type when rejecting, as the partner reads it; notes of the trail.
REASON_MAX_LENGTH = 1000
NOTE_MAX_LENGTH = 2000


class Failure(models.TextChoices):
    """Why processing stopped. The message is composed when shown, in the reader's language."""

    OFFER_ENDED = "offer_ended", _("%(offer)s ended on %(ended)s, before the activation completed.")
    LEFT_MPN = (
        "left_mpn",
        _("%(partner)s is no longer associated with the Microsoft Partner Network."),
    )
    BENEFIT_WITHDRAWN = "benefit_withdrawn", _("%(offer)s no longer includes %(benefit)s.")
    TOO_MANY_ATTEMPTS = (
        "too_many_attempts",
        _("Processing stopped after %(attempts)s attempts. Select Try again, or contact support."),
    )
    INTERNAL_ERROR = (
        "internal_error",
        _(
            "Processing stopped because of an error on our side. Support staff have been told; "
            "select Try again, or contact support."
        ),
    )
    NO_IDS = "no_ids", _("No unused Access ID could be drawn. Select Try again.")
    # Seed 003: a Go-To-Market offer's instructions are emailed to the marketing contact.
    NO_MARKETING_CONTACT = (
        "no_marketing_contact",
        _(
            "%(partner)s has no marketing contact to email the instructions to. Add one at the "
            "top of the Go-To-Market page, then select Try again."
        ),
    )


class ActivationRequestQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(state__in=PENDING, due_at__lte=now)

    def latest_by_benefit(self, offers):
        """{(offer id, benefit): its latest request} for the technical benefits of `offers`,
        with its requester and contract.

        A benefit's open request is its latest: no new request can be made while one is open.
        """
        return self._latest(offers, "benefit", ["requested_by", "contract"], product__isnull=True)

    def latest_by_product(self, offers):
        """{(offer id, product id): its latest request} for catalogue products (cloud
        subscriptions, Go-To-Market offers), as `latest_by_benefit` for technical benefits;
        with the cloud subscription it made, if any."""
        related = ["requested_by", "product", "cloud_subscription"]
        return self._latest(offers, "product_id", related, product__isnull=False)

    def _latest(self, offers, key, related, **kind):
        offers = {offer.pk: offer for offer in offers}
        requests = self.filter(offer__in=list(offers), **kind).select_related(*related)
        latest = {}
        # Older requests are read too and dropped here: a company has a handful per benefit,
        # fewer rows than a window query costs to compose.
        for request in requests.order_by("pk"):
            request.offer = offers[request.offer_id]  # the caller has it already
            latest[request.offer_id, getattr(request, key)] = request
        return latest


class ActivationRequest(models.Model):
    """A request to activate one benefit of one membership offer: a technical benefit
    (`benefit`), or a product of the catalogue that takes days (`product`: a cloud
    subscription to provision, a Go-To-Market offer; `benefit` empty). One engine for every
    benefit that takes days (issues 16, 17).

    States:

        submitted -> in_review -> provisioning -> active
             \\___________\\______________\\______> failed -> (retry) back to where it stopped
        any pending state -> rejected (by support staff, with a reason; final)

    The state lives here, with `due_at`, the time the request is next to move. Workers only
    nudge; a beat sweeper moves whatever is due, so a lost message delays and never loses.
    At most one open (pending, active or failed) request per benefit, and per product:
    database constraints.
    """

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        PROVISIONING = "provisioning", _("Provisioning")
        ACTIVE = "active", _("Active")
        FAILED = "failed", _("Activation failed")
        REJECTED = "rejected", _("Rejected")

    offer = models.ForeignKey(
        "entitlements.MembershipOffer", on_delete=models.PROTECT, related_name="activations"
    )
    benefit = models.CharField(max_length=32, choices=Benefit.choices, blank=True)
    product = models.ForeignKey(
        "software.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activations",
        help_text=_("A cloud subscription or a Go-To-Market offer; empty for a technical benefit."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="activation_requests",
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.SUBMITTED)
    requested_at = models.DateTimeField()
    in_review_at = models.DateTimeField(null=True, blank=True)
    provisioning_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expected_at = models.DateTimeField(help_text=_("When processing is expected to complete."))
    due_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the request next moves; empty once it stopped.")
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text=_("Transient failures of the current step.")
    )
    failure_code = models.CharField(max_length=20, choices=Failure.choices, blank=True)
    failure_reason = models.TextField(
        max_length=REASON_MAX_LENGTH,
        blank=True,
        help_text=_("Why it failed or was rejected, as the partner reads it (English)."),
    )
    failure_facts = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text=_("What the reason says, as it was when the request failed."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActivationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "benefit"],
                condition=Q(state__in=OPEN, product__isnull=True),
                name="one_open_activation_per_benefit",
                violation_error_message=_("This benefit already has an activation request."),
            ),
            models.UniqueConstraint(
                fields=["offer", "product"],
                condition=Q(state__in=OPEN, product__isnull=False),
                name="one_open_activation_per_cloud_product",
                violation_error_message=_("This benefit already has an activation request."),
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=True) & ~Q(benefit="")
                | Q(product__isnull=False, benefit=""),
                name="activation_of_a_benefit_or_a_cloud_product",
                violation_error_message=_(
                    "An activation is of a technical benefit or of a cloud product, not both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(state__in=PENDING, due_at__isnull=False)
                | (~Q(state__in=PENDING) & Q(due_at__isnull=True)),
                name="activation_due_only_while_pending",
                violation_error_message=_(
                    "Only a pending activation request has a time when it next moves."
                ),
            ),
            at_most(
                "failure_reason",
                REASON_MAX_LENGTH,
                "activation_failure_reason_length",
                _("A reason is at most 1,000 characters."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(due_at__isnull=False),
                name="activation_due",
            ),
        ]

    def __str__(self):
        return f"{self.name}, {self.offer} ({self.get_state_display()})"

    @property
    def name(self):
        """What is being activated: the technical benefit's name (in the active language) or
        the product's."""
        return str(self.product) if self.product_id else self.get_benefit_display()

    @property
    def is_pending(self):
        return self.state in PENDING

    @property
    def poll_seconds(self):
        """How soon a page showing this pending request should look again: every 3 seconds
        when the next stage is near, twice a minute while it is days away."""
        wait = (self.due_at - clock.now()).total_seconds() if self.due_at else 30
        return int(min(30, max(3, wait)))

    def facts_now(self):
        """What a failure's reason states, as it is now: kept in `failure_facts` when the
        request fails, so the reason reads the same however the offer changes later."""
        return {
            "ended": self.offer.ends_on.isoformat(),
            "partner": self.offer.partner.name,
            "attempts": self.attempts,
        }

    @property
    def failure_message(self):
        """Why it stopped, in the reader's language; support's own words for a rejection.
        Dates, names and counts are those of the moment it failed."""
        if not self.failure_code:
            return self.failure_reason
        facts = self.failure_facts or self.facts_now()
        return Failure(self.failure_code).label % {
            "offer": self.offer.title,
            "ended": formats.date_format(
                datetime.date.fromisoformat(facts["ended"]), "DATE_FORMAT"
            ),
            "partner": facts["partner"],
            "benefit": self.name,
            "attempts": facts["attempts"],
        }

    def timeline(self):
        """The stages with the time each was reached (None: not yet)."""
        return [
            (self.State.SUBMITTED.label, self.requested_at),
            (self.State.IN_REVIEW.label, self.in_review_at),
            (self.State.PROVISIONING.label, self.provisioning_at),
            (self.State.ACTIVE.label, self.completed_at),
        ]


class ActivationEvent(models.Model):
    """The audit trail: every change of an activation request's state. Never edited."""

    request = models.ForeignKey(ActivationRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text=_("Empty when the processing itself made the change."),
        related_name="+",
    )
    from_state = models.CharField(
        max_length=16, choices=ActivationRequest.State.choices, blank=True
    )
    to_state = models.CharField(max_length=16, choices=ActivationRequest.State.choices)
    note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            at_most(
                "note",
                NOTE_MAX_LENGTH,
                "activation_event_note_length",
                _("A note is at most 2,000 characters."),
            ),
        ]

    def __str__(self):
        return f"{self.from_state or 'new'} → {self.to_state} at {self.at:%Y-%m-%d %H:%M}"


class SweeperRun(models.Model):
    """When the sweeper last ran: one row, rewritten by every batch of every sweep.

    Beat's sweeper is the only path that moves a request whose message was lost; the health
    endpoint reads this row to tell whether it still runs.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    ran_at = models.DateTimeField()
    moved = models.PositiveIntegerField(default=0)  # requests that sweep has moved so far

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="sweeper_run_one_row",
                violation_error_message=_("The sweeper keeps a single record of its last run."),
            ),
        ]

    def __str__(self):
        return f"Last sweep at {self.ran_at:%Y-%m-%d %H:%M:%S}, moved {self.moved}"

    @classmethod
    def record(cls, moved):
        """Stamp a sweep's batch now (real time, not the activations' clock), with how many
        requests that sweep has moved. One statement, so two workers' sweeps stamping at once
        can't collide on creating the row."""
        cls.objects.bulk_create(
            [cls(id=1, ran_at=timezone.now(), moved=moved)],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["ran_at", "moved"],
        )

    @classmethod
    def last(cls):
        """When a sweep last ran (an aware datetime), or None if none has yet."""
        return cls.objects.filter(id=1).values_list("ran_at", flat=True).first()
