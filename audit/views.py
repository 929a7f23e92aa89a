import csv
import datetime

from django import forms
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from entitlements.permissions import VIEW_AUDIT_LOG, capability_required

from .models import AuditEntry

PER_PAGE = 50
THE_PORTAL = "portal"  # the person filter's value for what the portal did itself
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BAD_DATE = _("Enter a date as year-month-day, for example 2026-11-30.")
# The days a filter may name: wide enough for any entry, narrow enough that a day's start and
# the next day's stay datetimes in every time zone (9999-12-31 + 1 day overflows).
FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 1), datetime.date(9998, 12, 31)


class LogFilter(forms.Form):
    """The log's filters, all optional: what happened, who did it, from and to which day."""

    action = forms.ChoiceField(label=_("What"), required=False)
    person = forms.ChoiceField(label=_("Who"), required=False)
    start = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": BAD_DATE},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": BAD_DATE},
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, data, people):
        super().__init__(data)
        self.fields["action"].choices = [("", _("Everything")), *AuditEntry.Action.choices]
        self.fields["person"].choices = [
            ("", _("Everyone")),
            (THE_PORTAL, _("The portal")),
            *((email, email) for email in people),
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        for name, day in (("start", start), ("end", end)):
            if day and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Enter a date from 2000-01-01 to 9998-12-31."))
                cleaned.pop(name, None)
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date is before the start date."))
        return cleaned

    def apply(self, entries):
        """The entries the valid filters let through; a filter with an error is left out."""
        data = self.cleaned_data if self.is_bound else {}
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("person") == THE_PORTAL:
            entries = entries.filter(actor_email="")
        elif data.get("person"):
            entries = entries.filter(actor_email=data["person"])
        if data.get("start"):
            entries = entries.filter(at__gte=_day_starts(data["start"]))
        if data.get("end"):
            entries = entries.filter(at__lt=_day_starts(data["end"] + datetime.timedelta(days=1)))
        return entries


def _day_starts(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _filtered(request, partner):
    entries = AuditEntry.objects.filter(partner=partner)
    people = (
        entries.exclude(actor_email="")
        .order_by("actor_email")
        .values_list("actor_email", flat=True)
        .distinct()
    )
    form = LogFilter(request.GET, people)
    form.is_valid()  # errors are shown; the valid filters still apply
    return form, form.apply(entries).select_related("actor")


@require_GET
@capability_required(VIEW_AUDIT_LOG)
def audit_log(request, partner):
    form, entries = _filtered(request, partner)
    return _log_page(request, partner, form, entries)


def _log_page(request, partner, form, entries, status=200):
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "partner": partner, "form": form, "query": query.urlencode()}
    return render(request, "audit/log.html", context, status=status)


class _Echo:
    def write(self, value):
        return value


def safe_cell(value):
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (OWASP's advice on CSV injection)."""
    value = str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


@require_GET
@capability_required(VIEW_AUDIT_LOG)
def audit_log_csv(request, partner):
    """The filtered log as CSV, streamed row by row in the reader's language; the same
    company and the same permission as the page."""
    form, entries = _filtered(request, partner)
    if form.errors:
        # A file with more rows than were asked for would pass for the filtered log: the
        # page says what to correct instead.
        return _log_page(request, partner, form, entries, status=400)
    writer = csv.writer(_Echo())
    the_portal = gettext("The portal")

    def rows():
        yield "\ufeff"  # a byte order mark: spreadsheets then read Japanese and Chinese right
        yield writer.writerow(
            [gettext("When"), gettext("What"), gettext("Details"), gettext("Who")]
        )
        for entry in entries.iterator(chunk_size=500):
            at = timezone.localtime(entry.at)
            yield writer.writerow(
                [
                    safe_cell(value)
                    for value in (
                        at.isoformat(timespec="seconds"),
                        entry.get_action_display(),
                        entry.details,
                        entry.actor_email or the_portal,
                    )
                ]
            )

    today = formats.date_format(timezone.localdate(), "Y-m-d")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{today}.csv"'
    return response
