"""The catalogue support staff keep (products, the offers that include them, their downloads),
the pool of license keys they load from a file, and the companies that found it empty."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from activation.admin import ReadOnlyAdminMixin
from benefits_portal.admin import TypedSearchMixin

from . import services
from .models import Download, Inclusion, KeyShortage, LicenseKey, Product

MAX_KEYS_FILE_BYTES = 2 * 1024 * 1024


class InclusionInline(admin.TabularInline):
    model = Inclusion
    extra = 1
    can_delete = False


class DownloadInline(admin.TabularInline):
    model = Download
    fields = ["language", "operating_system", "file", "size"]
    readonly_fields = ["size"]
    extra = 1
    can_delete = False


class PoolFilter(admin.SimpleListFilter):
    title = _("keys pool")
    parameter_name = "pool"

    def lookups(self, request, model_admin):
        return [("ran_out", _("ran out for a company")), ("empty", _("no free key"))]

    def queryset(self, request, queryset):
        if self.value() == "ran_out":
            return queryset.filter(open_shortages__gt=0)
        if self.value() == "empty":
            return queryset.filter(delivery=Product.Delivery.KEYS, free_keys=0)
        return queryset


@admin.register(Product)
class ProductAdmin(TypedSearchMixin, admin.ModelAdmin):
    list_display = ["__str__", "editions", "area", "delivery", "free", "ran_out"]
    list_filter = ["area", "delivery", PoolFilter]
    search_fields = ["name", "version"]
    inlines = [InclusionInline, DownloadInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                free_keys=Count("keys", filter=Q(keys__offer__isnull=True), distinct=True),
                open_shortages=Count(
                    "key_shortages",
                    filter=Q(key_shortages__resolved_at__isnull=True),
                    distinct=True,
                ),
            )
        )

    @admin.display(description=_("free keys"), ordering="free_keys")
    def free(self, product):
        url = reverse("admin:software_licensekey_changelist")
        return format_html(
            '<a href="{}?product__id__exact={}&amp;drawn=free">{}</a>',
            url,
            product.pk,
            product.free_keys,
        )

    @admin.display(description=_("companies waiting for keys"), ordering="open_shortages")
    def ran_out(self, product):
        if not product.open_shortages:
            return "–"
        url = reverse("admin:software_keyshortage_changelist")
        return format_html(
            '<a href="{}?product__id__exact={}&amp;open=yes">{}</a>',
            url,
            product.pk,
            product.open_shortages,
        )


class DrawnFilter(admin.SimpleListFilter):
    title = _("drawn")
    parameter_name = "drawn"

    def lookups(self, request, model_admin):
        return [("free", _("free")), ("drawn", _("drawn for a company"))]

    def queryset(self, request, queryset):
        if self.value() == "free":
            return queryset.filter(offer__isnull=True)
        if self.value() == "drawn":
            return queryset.filter(offer__isnull=False)
        return queryset


class LoadKeysForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(delivery=Product.Delivery.KEYS)
    )
    file = forms.FileField(
        label=_("File of keys"),
        help_text=_(
            "CSV or text, UTF-8: one key per row, in the first column (a header “key” is "
            "skipped). All or nothing: a bad row refuses the whole file."
        ),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_KEYS_FILE_BYTES:
            raise forms.ValidationError(_("At most 2 MB."))
        return file


@admin.register(LicenseKey)
class LicenseKeyAdmin(TypedSearchMixin, admin.ModelAdmin):
    """The pool. "Add" loads a file of keys for one product; keys are never edited here."""

    list_display = ["key", "product", "company", "drawn_at", "first_viewed_by", "first_viewed_at"]
    list_filter = [DrawnFilter, "product"]
    search_fields = ["key", "offer__partner__name", "offer__partner__mpn_id"]
    list_select_related = ["product", "offer__partner", "first_viewed_by"]
    readonly_fields = list_display + ["offer", "loaded_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("company"), ordering="offer__partner__name")
    def company(self, key):
        return key.offer.partner if key.offer else "–"

    def add_view(self, request, form_url="", extra_context=None):
        """Load keys from a file, all or nothing; the form comes back with each bad row named."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = LoadKeysForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            product = form.cleaned_data["product"]
            try:
                loaded = services.load_keys(product, form.cleaned_data["file"].read())
            except services.KeysRefused as refused:
                for problem in refused.problems:
                    form.add_error("file", problem)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s key of %(product)s loaded.",
                        "%(count)s keys of %(product)s loaded.",
                        loaded,
                    )
                    % {"count": loaded, "product": product},
                    messages.SUCCESS,
                )
                url = reverse("admin:software_licensekey_changelist")
                return redirect(f"{url}?product__id__exact={product.pk}&drawn=free")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Load license keys"),
            "form": form,
            "opts": self.model._meta,
            "has_view_permission": self.has_view_permission(request),
        }
        context["refused"] = _("Nothing was loaded. Correct the file and load it again.")
        context["submit"] = _("Load keys")
        return TemplateResponse(request, "admin/upload.html", context)


class OpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("waiting for keys")), ("no", _("keys drawn since"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(KeyShortage)
class KeyShortageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Companies that asked for keys when the pool had too few: load keys for the product, and
    their next Get keys draws them (the page offers it again by itself)."""

    list_display = ["company", "product", "wanted", "free", "asked_by", "asked_at", "resolved_at"]
    list_filter = [OpenFilter, "product"]
    list_select_related = ["offer__partner", "product", "asked_by"]
    search_fields = ["offer__partner__name", "offer__partner__mpn_id", "product__name"]

    @admin.display(description=_("company"), ordering="offer__partner__name")
    def company(self, shortage):
        return shortage.offer.partner
