from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from activation.admin import ReadOnlyAdminMixin, action_form
from benefits_portal.admin import TypedSearchMixin

from . import services
from .models import ContractLink, IncidentCredit, Product, ProductVersion, SupportContract


class VersionInline(admin.TabularInline):
    model = ProductVersion
    extra = 1
    can_delete = False


@admin.register(Product)
class ProductAdmin(TypedSearchMixin, admin.ModelAdmin):
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
    fields = ["given_at", "incidents", "reason", "case", "given_by"]
    readonly_fields = fields
    extra = 0


class GiveBackForm(forms.Form):
    incidents = forms.IntegerField(label=_("Incidents"), min_value=1, initial=1)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=IncidentCredit._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class ReissueForm(forms.Form):
    """The confirmation of a re-issue, carrying the Access IDs it showed."""

    seen = forms.JSONField(widget=forms.HiddenInput)

    @staticmethod
    def seen_of(contracts):
        return {str(pk): access_id for pk, access_id in contracts.values_list("pk", "access_id")}

    def clean_seen(self):
        seen = self.cleaned_data["seen"]
        if not isinstance(seen, dict):
            raise forms.ValidationError(_("Select the contracts again."))
        return seen


@admin.register(SupportContract)
class SupportContractAdmin(TypedSearchMixin, admin.ModelAdmin):
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
    actions = ["give_back_incidents", "reissue_ids"]

    def has_add_permission(self, request):
        return False  # contracts come from activations only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("incidents remaining"))
    def incidents(self, contract):
        if contract.is_unlimited:
            return gettext("Unlimited")
        return gettext("%(remaining)s of %(total)s") % {
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
                        ngettext(
                            "Gave %(count)s incident back to %(contract)s.",
                            "Gave %(count)s incidents back to %(contract)s.",
                            form.cleaned_data["incidents"],
                        )
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

    @admin.action(description=_("Re-issue Access ID and Contract ID…"), permissions=["change"])
    def reissue_ids(self, request, queryset):
        if "apply" in request.POST:
            form = ReissueForm(request.POST)
        else:
            form = ReissueForm(initial={"seen": ReissueForm.seen_of(queryset)})
        if form.is_bound and form.is_valid():
            seen = form.cleaned_data["seen"]
            for contract in queryset:
                # The IDs shown on the confirmation page: a second submit finds them gone.
                contract, reissued = services.reissue_ids(
                    contract.pk, seen.get(str(contract.pk), ""), request.user
                )
                if reissued:
                    self.message_user(
                        request,
                        gettext("New IDs for %(contract)s; every account lost the contract.")
                        % {"contract": contract},
                        messages.SUCCESS,
                    )
                else:
                    self.message_user(
                        request,
                        gettext("No change to %(contract)s: its IDs were already re-issued.")
                        % {"contract": contract},
                        messages.WARNING,
                    )
            return None
        return action_form(
            self,
            request,
            title=_("Re-issue Access ID and Contract ID"),
            intro=_(
                "Each contract gets a new Access ID and Contract ID; the old ones stop working "
                "and the contract is removed from every account that added it. The company's "
                "admins see the new IDs on the Technical benefits page. Audited in each "
                "company's log."
            ),
            items=queryset.select_related("partner"),
            form=form,
            action="reissue_ids",
            submit=_("Re-issue"),
        )


@admin.register(ContractLink)
class ContractLinkAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["contract", "user", "added_at"]
    list_select_related = ["contract__partner", "user"]
    search_fields = ["user__email", "contract__access_id", "contract__contract_id"]
    date_hierarchy = "added_at"
    actions = ["remove_links"]

    def has_remove_permission(self, request):
        # Links are never edited, only removed, by whoever may change contracts.
        return request.user.has_perm("support.change_supportcontract")

    @admin.action(description=_("Remove the contract from these accounts"), permissions=["remove"])
    def remove_links(self, request, queryset):
        removed = sum(
            services.remove_link(link.contract, link.pk, request.user)
            for link in queryset.select_related("contract__partner")
        )
        self.message_user(
            request,
            ngettext(
                "Removed %(count)s contract from its account; audited in its company's log.",
                "Removed %(count)s contracts from their accounts; audited in their companies' "
                "logs.",
                removed,
            )
            % {"count": removed},
            messages.SUCCESS,
        )


@admin.register(IncidentCredit)
class IncidentCreditAdmin(TypedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of incidents given back: who, when, how many, why."""

    list_display = ["given_at", "contract", "incidents", "reason", "case", "given_by"]
    list_select_related = ["contract__partner", "given_by", "case"]
    search_fields = ["contract__contract_id", "contract__access_id", "given_by__email"]
