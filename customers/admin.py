"""Support staff keep CSP partners' customers, their services and the service health feed
(seed 002); the feed can be typed in or imported as JSON ("Import health feed")."""

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from benefits_portal.admin import TypedSearchMixin

from . import services
from .models import Customer, Service, ServiceIncident, Subscription

MAX_FEED_BYTES = 2 * 1024 * 1024


class SubscriptionInline(admin.TabularInline):
    """The services a customer subscribes to, each with its own portal address if any."""

    model = Subscription
    extra = 1
    autocomplete_fields = ["service"]


@admin.register(Customer)
class CustomerAdmin(TypedSearchMixin, admin.ModelAdmin):
    """A CSP partner's customers, as its reseller records say."""

    list_display = ["name", "domain", "partner", "relationship"]
    list_filter = ["relationship", ("partner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["partner"]
    search_fields = ["name", "domain", "partner__name", "partner__mpn_id"]
    inlines = [SubscriptionInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "partner":
            # Only companies of the Cloud Solution Provider program resell to customers.
            from entitlements.models import Partner

            # A customer of a partner that left CSP since stays editable.
            customer_of = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Partner.objects.filter(
                Q(is_csp=True) | Q(customers__pk=customer_of)
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceIncidentInline(admin.StackedInline):
    model = ServiceIncident
    extra = 0
    fields = ["reference", "title", "impact", "started_at", "updated_at", "resolved_at"]


class FeedForm(forms.Form):
    """A health feed file; `file` is cleaned to the parsed JSON."""

    file = forms.FileField(
        label=_("Health feed (JSON)"),
        help_text=_(
            'UTF-8 JSON: {"services": [{"name", "health": healthy, degraded or interruption, '
            '"incidents": [{"reference", "title", "impact", "started_at", "updated_at", '
            '"resolved_at"}]}]}, times in ISO 8601 with their time zone. All or nothing.'
        ),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_FEED_BYTES:
            raise forms.ValidationError(_("At most 2 MB."))
        try:
            return json.loads(file.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as error:
            raise forms.ValidationError(_("Not UTF-8 JSON: %(error)s") % {"error": error}) from None
        except RecursionError:
            raise forms.ValidationError(_("Not UTF-8 JSON: nested too deeply.")) from None


@admin.register(Service)
class ServiceAdmin(TypedSearchMixin, admin.ModelAdmin):
    """The online services customers subscribe to, their health and incidents."""

    list_display = ["name", "health", "health_updated_at", "portal_url"]
    list_filter = ["health"]
    search_fields = ["name"]
    inlines = [ServiceIncidentInline]
    change_list_template = "admin/customers/service/change_list.html"

    def save_model(self, request, obj, form, change):
        if "health" in form.changed_data:
            obj.health_updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="customers_service_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Apply a health feed file, all or nothing; the form comes back with every problem."""
        if not (
            self.has_change_permission(request)
            and request.user.has_perm("customers.add_serviceincident")
            and request.user.has_perm("customers.change_serviceincident")
        ):
            return redirect("admin:index")
        form = FeedForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                updated, incidents = services.import_health(form.cleaned_data["file"])
            except services.FeedRefused as refused:
                for problem in refused.problems:
                    form.add_error("file", problem)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s service's health updated",
                        "%(count)s services' health updated",
                        updated,
                    )
                    % {"count": updated}
                    + "; "
                    + ngettext(
                        "%(count)s incident added or updated.",
                        "%(count)s incidents added or updated.",
                        incidents,
                    )
                    % {"count": incidents},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:customers_service_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import health feed"),
            "form": form,
            "opts": self.model._meta,
            "has_view_permission": self.has_view_permission(request),
        }
        context["refused"] = _("Nothing was imported. Correct the feed and import it again.")
        context["submit"] = _("Import")
        return TemplateResponse(request, "admin/upload.html", context)
