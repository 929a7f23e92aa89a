from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from activation.admin import ReadOnlyAdminMixin, action_form

from . import services
from .models import ContractLink, Incident, IncidentCredit, Product, ProductVersion, SupportContract


class VersionInline(admin.TabularInline):
    model = ProductVersion
    extra = 1
    can_delete = False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "csp_plan", "versions_list"]
    list_filter = ["kind", "csp_plan"]
    search_fields = ["name"]
    inlines = [VersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions")

    @admin.display(description=_("versions (newest first)"))
    def versions_list(self, product):
        return ", ".join(v.name or "–" for v in product.versions.all())


class LinkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ContractLink
    fields = ["user", "added_at"]
    readonly_fields = fields
    extra = 0


class CreditInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = IncidentCredit
    fields = ["given_at", "incidents", "reason", "given_by"]
    readonly_fields = fields
    extra = 0


class GiveBackForm(forms.Form):
    incidents = forms.IntegerField(label=_("Incidents"), min_value=1, initial=1)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=IncidentCredit._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(SupportContract)
class SupportContractAdmin(admin.ModelAdmin):
    list_display = [
        "contract_id",
        "access_id",
        "partner",
        "benefit",
        "starts_on",
        "ends_on",
        "incidents",
    ]
    list_filter = ["benefit", "ends_on"]
    list_select_related = ["partner"]
    search_fields = ["access_id", "contract_id", "partner__name", "partner__mpn_id"]
    readonly_fields = [f.name for f in SupportContract._meta.fields]
    inlines = [LinkInline, CreditInline]
    actions = ["give_back_incidents"]

    def has_add_permission(self, request):
        return False  # contracts come from activations only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("incidents remaining"))
    def incidents(self, contract):
        if contract.is_unlimited:
            return _gettext("Unlimited")
        return _gettext("%(remaining)s of %(total)s") % {
            "remaining": contract.incidents_remaining,
            "total": contract.incidents_total,
        }

    @admin.action(description=_("Give incidents back…"), permissions=["change"])
    def give_back_incidents(self, request, queryset):
        form = GiveBackForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for contract in queryset:
                try:
                    services.give_back_incidents(
                        contract.pk,
                        form.cleaned_data["incidents"],
                        form.cleaned_data["reason"],
                        request.user,
                    )
                except ValueError as refusal:
                    self.message_user(request, str(refusal), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        _gettext("Gave %(count)s incident(s) back to %(contract)s.")
                        % {"count": form.cleaned_data["incidents"], "contract": contract},
                        messages.SUCCESS,
                    )
            return None
        return action_form(
            self,
            request,
            title=_("Give incidents back"),
            intro=_(
                "Incidents given back are added to the contract's incidents remaining, up to "
                "what it started with, and recorded with your reason."
            ),
            items=queryset.select_related("partner"),
            form=form,
            action="give_back_incidents",
            submit=_("Give back"),
        )


@admin.register(ContractLink)
class ContractLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["contract", "user", "added_at"]
    list_select_related = ["contract__partner", "user"]
    search_fields = ["user__email", "contract__access_id", "contract__contract_id"]
    date_hierarchy = "added_at"


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "title",
        "severity",
        "state",
        "product_version",
        "plan",
        "opened_by",
        "opened_at",
    ]
    list_filter = ["state", "severity", "product_version__product"]
    list_select_related = ["product_version__product", "contract__partner", "opened_by"]
    search_fields = [
        "title",
        "opened_by__email",
        "contract__access_id",
        "contract__contract_id",
        "contract__partner__name",
    ]
    readonly_fields = [
        "opened_by",
        "contract",
        "product_version",
        "title",
        "description",
        "severity",
        "contact_name",
        "contact_email",
        "contact_phone",
        "opened_at",
    ]
    date_hierarchy = "opened_at"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("plan"))
    def plan(self, incident):
        return incident.plan_name


@admin.register(IncidentCredit)
class IncidentCreditAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of incidents given back: who, when, how many, why."""

    list_display = ["given_at", "contract", "incidents", "reason", "given_by"]
    list_select_related = ["contract__partner", "given_by"]
    search_fields = ["contract__contract_id", "contract__access_id", "given_by__email"]
