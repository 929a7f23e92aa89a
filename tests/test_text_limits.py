"""Text people type has a length limit, in the form (with a message that keeps the text) and
in the database, on every database."""

import html

import pytest
from django.apps import apps
from django.db import DataError, IntegrityError, models, transaction
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from activation import services as activation
from activation.models import ActivationRequest
from cases.models import Case
from entitlements.rules import Benefit
from support.models import IncidentCredit, ProductVersion, SupportContract

from .test_activation_admin import act
from .test_support import add, contract_for, incident_fields, step2
from .test_support_admin import give_back

PROJECT_APPS = {"accounts", "entitlements", "activation", "support", "cases", "audit"}


@pytest.fixture
def product_support(alice, contoso):
    """Contoso's Gold Microsoft Product Support contract: 20 incidents."""
    return contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)


@pytest.fixture
def pending(alice, contoso, clock):
    return activation.request_activation(
        contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice
    )[0]


@pytest.fixture
def five_pack(alice, contoso):
    contract = contract_for(
        contoso.offers.get(level="silver"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice
    )
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=2)
    return contract


def test_every_text_field_has_a_limit_the_database_holds_too():
    unlimited = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        held = {
            constraint.condition.lhs.source_expressions[0].name: constraint.condition.rhs
            for constraint in model._meta.constraints
            if isinstance(getattr(constraint, "condition", None), LessThanOrEqual)
            and isinstance(constraint.condition.lhs, Length)
        }
        for field in model._meta.get_fields():
            if isinstance(field, models.TextField) and (
                field.max_length is None or held.get(field.name) != field.max_length
            ):
                unlimited.append(f"{model.__name__}.{field.name}")
    assert unlimited == []


def test_a_description_over_the_limit_is_refused_and_the_text_kept(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    story = "Event 1135 after patching. " + "x" * 10_000
    response = client.post(
        step2("Windows Server", "2025"), incident_fields(product_support.pk, description=story)
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Ensure this value has at most 10000 characters (it has 10027)." in page
    assert story in page  # to shorten, not to type again
    assert not Case.objects.exists()
    product_support.refresh_from_db()
    assert product_support.incidents_remaining == 20


def test_an_incident_of_two_and_a_half_megabytes_is_refused(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    response = client.post(
        step2("Windows Server", "2025"),
        incident_fields(product_support.pk, title="y" * 300, description="x" * 2_500_000),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ensure this value has at most 200 characters (it has 300)." in page
    assert "Ensure this value has at most 10000 characters (it has 2500000)." in page
    assert not Case.objects.exists()


def test_a_description_at_the_limit_is_accepted(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    response = client.post(
        step2("Windows Server", "2025"),
        incident_fields(product_support.pk, description="x" * 10_000),
    )
    assert response.status_code == 302
    assert len(Case.objects.get().description) == 10_000


def test_the_description_box_does_not_cut_a_pasted_text_short(sign_in, bob, product_support):
    client = sign_in(bob)
    add(client, product_support)
    page = client.get(step2("Windows Server", "2025")).content.decode()
    textarea = page[page.index("<textarea") : page.index(">", page.index("<textarea"))]
    assert "maxlength" not in textarea


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Case, "title"),
        (Case, "description"),
        (Case, "contact_name"),
        (Case, "contact_phone"),
        (IncidentCredit, "reason"),
        (ActivationRequest, "failure_reason"),
    ],
)
def test_the_database_refuses_text_over_the_limit(product_support, model, field):
    row = {
        Case: lambda: Case.objects.create(
            partner=product_support.partner,
            opened_by=product_support.activation.requested_by,
            contract=product_support,
            product_version=(version := ProductVersion.objects.first()),
            product=version.product,
            first_response_due=timezone.now(),
            title="t",
            description="d",
            severity="B",
            contact_name="n",
            contact_email="n@example.com",
        ),
        IncidentCredit: lambda: IncidentCredit.objects.create(
            contract=product_support, incidents=1, reason="r"
        ),
        ActivationRequest: lambda: product_support.activation,
    }[model]()
    limit = model._meta.get_field(field).max_length
    # PostgreSQL's varchar refuses a CharField's excess itself; the check constraint the rest.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**{field: "x" * (limit + 1)})
    model.objects.filter(pk=row.pk).update(**{field: "x" * limit})


def test_a_rejection_reason_over_the_limit_is_refused_in_words(sign_in, support, pending):
    reason = "Membership under review. " + "x" * 1000
    response = act(sign_in(support), "reject_with_reason", pending, apply="Reject", reason=reason)
    page = html.unescape(response.content.decode())
    assert "Ensure this value has at most 1000 characters (it has 1025)." in page
    assert reason in page
    pending.refresh_from_db()
    assert pending.state == ActivationRequest.State.SUBMITTED


def test_a_give_back_reason_over_the_limit_is_refused_in_words(sign_in, support, five_pack):
    response = give_back(
        sign_in(support), five_pack, apply="Give back", incidents=1, reason="x" * 1001
    )
    assert (
        "Ensure this value has at most 1000 characters (it has 1001)." in response.content.decode()
    )
    five_pack.refresh_from_db()
    assert five_pack.incidents_remaining == 2
    assert not IncidentCredit.objects.exists()
