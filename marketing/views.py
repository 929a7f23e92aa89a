"""The Go-To-Market page: the company's marketing contact and its Go-To-Market offers by
benefit, activated through the activation engine (seed 003, "Manage Go-To-Market offers";
issue 17)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import get_text_list
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from phonenumber_field.formfields import PhoneNumberField

from activation.services import NotActivatable
from activation.views import say_what_activate_did
from benefits_portal.forms import DescribedForm
from entitlements.permissions import (
    ACTIVATE_BENEFITS,
    SET_MARKETING_CONTACT,
    VIEW_BENEFITS,
    can,
    capability_required,
    people_who_can,
    roles_that_can,
)

from . import services

PHONE_EXAMPLE = "+81 3 1234 5678"


class ContactForm(DescribedForm):
    """Seed 003's steps: a user from the list, an email address other than the one they sign
    in with, a contact phone and a preferred language; `seen`, the version of the contact the
    admin saw (services.version_of)."""

    user = forms.ModelChoiceField(
        queryset=None,
        label=_("User"),
        empty_label=_("Choose a user"),
        error_messages={
            "required": _("Choose one of your company's active users."),
            "invalid_choice": _("Choose one of your company's active users."),
        },
    )
    email = forms.EmailField(
        label=_("Email address for Go-To-Market instructions"),
        max_length=254,
        help_text=_("Different from the address the user signs in with."),
        error_messages={
            "required": _("Enter the email address the instructions go to."),
            "invalid": _("Enter a valid email address, such as name@example.com."),
        },
    )
    phone = PhoneNumberField(
        label=_("Contact phone"),
        region=None,
        help_text=_("With the country code, for example %(example)s.") % {"example": PHONE_EXAMPLE},
        error_messages={
            "required": _("Enter a phone number for the marketing contact."),
            "invalid": _("Enter the phone number with its country code, for example %(example)s.")
            % {"example": PHONE_EXAMPLE},
        },
    )
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=settings.LANGUAGES,
        error_messages={
            "required": _("Choose the language the instructions are written in."),
            "invalid_choice": _("Choose one of the languages in the list."),
        },
    )
    # Any text: one that isn't the contact's version is a change made meanwhile.
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, partner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = partner.users.filter(is_active=True).order_by(
            "first_name", "last_name", "email"
        )
        self.fields["user"].label_from_instance = lambda u: f"{u.display_name} ({u.email})"

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if phone.extension:
            # Kept in E.164, which has no extension: it would be dropped unseen.
            raise forms.ValidationError(_("Enter the phone number without an extension."))
        return phone


def _roles(capability):
    return get_text_list([str(role.label) for role in roles_that_can(capability)], gettext("or"))


def _context(request, partner):
    can_set_contact = can(request.user, SET_MARKETING_CONTACT)
    return {
        "partner": partner,
        "contact": services.contact_of(partner),
        "can_activate": can(request.user, ACTIVATE_BENEFITS),
        "can_set_contact": can_set_contact,
        "activator_roles": _roles(ACTIVATE_BENEFITS),
        "contact_roles": _roles(SET_MARKETING_CONTACT),
    }


def _back_to(row):
    return redirect("marketing:row", offer_id=row.offer.pk, product_id=row.product.pk)


def _page(request, partner, open_key=None):
    context = {
        **_context(request, partner),
        "benefits": services.go_to_market(partner),
        "open_key": open_key,
        "setters": (
            []
            if can(request.user, SET_MARKETING_CONTACT)
            else people_who_can(partner, SET_MARKETING_CONTACT)
        ),
    }
    return render(request, "marketing/go_to_market.html", context)


@require_GET
@capability_required(VIEW_BENEFITS)
def go_to_market(request, partner):
    """The marketing contact and every Go-To-Market offer of the company's memberships."""
    return _page(request, partner)


@require_GET
@capability_required(VIEW_BENEFITS)
def row(request, partner, offer_id, product_id):
    """One Go-To-Market offer: the page with it expanded, or, asked by htmx, the row alone."""
    found = services.offer_or_404(partner, offer_id, product_id)
    if not request.htmx:
        return _page(request, partner, open_key=found.key)
    context = {**_context(request, partner), "row": found}
    return render(request, "marketing/_row_content.html", context)


@require_http_methods(["GET", "POST"])
@capability_required(SET_MARKETING_CONTACT)
def contact(request, partner):
    """Add, Update or Change the marketing contact (seed 003): the form, kept as typed when
    something is wrong; `?change` starts from no user, to choose someone else."""
    current = services.contact_of(partner)
    changing = current is None or "change" in request.GET
    if request.method == "POST":
        form = ContactForm(partner, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved, changed = services.set_contact(
                    partner,
                    request.user,
                    user=data["user"],
                    email=data["email"],
                    phone=data["phone"],
                    language=data["language"],
                    seen=data["seen"],
                )
            except services.ChangedMeanwhile as refusal:
                form.add_error(None, str(refusal))
                # Saving again overwrites what is there now, knowingly.
                form.data = form.data.copy()
                form.data["seen"] = services.version_of(services.contact_of(partner))
            except services.Refused as refusal:
                form.add_error(refusal.field, str(refusal))
            else:
                if changed:
                    messages.success(
                        request,
                        gettext(
                            "%(who)s is your marketing contact: Go-To-Market instructions go to "
                            "%(email)s."
                        )
                        % {"who": saved.user.display_name, "email": saved.email},
                    )
                else:
                    messages.info(request, gettext("The marketing contact is unchanged."))
                return redirect("entitlements:go_to_market")
        status = 400
    else:
        initial = {"seen": services.version_of(current), "language": get_language()}
        if current and not changing:
            initial.update(
                user=current.user_id,
                email=current.email,
                phone=current.phone,
                language=current.language,
            )
        form = ContactForm(partner, initial=initial)
        status = 200
    context = {"partner": partner, "form": form, "contact": current, "changing": changing}
    return render(request, "marketing/contact.html", context, status=status)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def activate(request, partner, offer_id, product_id):
    found = services.offer_or_404(partner, offer_id, product_id)
    try:
        activation, created = services.activate(found, request.user)
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return redirect(reverse("entitlements:go_to_market") + "#marketing-contact")
    except NotActivatable as refusal:
        messages.error(request, str(refusal))
        return _back_to(found)
    say_what_activate_did(
        request,
        activation,
        created,
        str(found.product),
        found.key,
        gettext(
            "Activation of %(product)s requested. It can take several days; the "
            "instructions then go to your marketing contact."
        )
        % {"product": found.product},
    )
    return _back_to(found)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def send_instructions(request, partner, offer_id, product_id):
    """Email an active offer's instructions to the marketing contact as it is now: once per
    contact and address (after a change of contact, or an address that bounced)."""
    found = services.offer_or_404(partner, offer_id, product_id)
    try:
        contact, sent = services.send_instructions(found)
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return _back_to(found)
    message = (
        gettext("The instructions for %(product)s are on their way to %(email)s.")
        if sent
        else gettext(
            "The instructions for %(product)s went to %(email)s already. To send them "
            "elsewhere, update the marketing contact."
        )
    )
    messages.success(request, message % {"product": found.product, "email": contact.email})
    return _back_to(found)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def retry(request, partner, offer_id, product_id):
    found = services.offer_or_404(partner, offer_id, product_id)
    try:
        started = services.retry(found, request.user)
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return redirect(reverse("entitlements:go_to_market") + "#marketing-contact")
    if started:
        messages.success(
            request,
            gettext("Activation of %(benefit)s started again.") % {"benefit": found.product},
        )
    else:
        messages.info(request, gettext("There is no failed activation to try again."))
    return _back_to(found)
