import datetime
import time

import factory
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.utils import timezone

from accounts.models import User, sync_email_address
from entitlements.models import Competency, MembershipOffer, Partner
from entitlements.permissions import needs_two_factor
from entitlements.rules import CLOUD_COMPETENCIES, Level, OfferKind
from entitlements.services import set_roles
from notices.models import WebhookEndpoint

PASSWORD = "Partner!2026"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    mpn_id = factory.Sequence(lambda n: f"{5000000 + n}")
    is_mpn_associated = True
    is_csp = False


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    partner = factory.SubFactory(PartnerFactory)
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def address_book(user, create, extracted, **kwargs):
        """As every real account has: its email, verified and primary, in allauth's book."""
        if create:
            sync_email_address(user)

    @factory.post_generation
    def roles(user, create, roles, **kwargs):
        if create and roles:
            set_roles(user, roles)

    @factory.post_generation
    def two_factor(user, create, wanted, **kwargs):
        """Accounts that must use an authenticator app have one, unless told otherwise."""
        if create and (wanted if wanted is not None else needs_two_factor(user)):
            TOTP.activate(user, TOTP_SECRET)


def totp_code(secret=None):
    """The code an authenticator app with the secret shows now; in the last two seconds of a
    30-second period, the next one (a code read then may reach the server after its period
    ended, as a person would wait for the next code)."""
    while 30 - time.time() % 30 < 2:
        time.sleep(0.2)
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret or TOTP_SECRET, counter))


def competency(name):
    # get_or_create: tests that flush the database lose what the migrations made.
    return Competency.objects.get_or_create(
        name=name, defaults={"is_cloud": name in CLOUD_COMPETENCIES}
    )[0]


class OfferFactory(factory.django.DjangoModelFactory):
    """An offer active today, by default Gold Cloud Platform."""

    class Meta:
        model = MembershipOffer

    partner = factory.SubFactory(PartnerFactory)
    kind = OfferKind.COMPETENCY
    competency = factory.LazyFunction(lambda: competency("Cloud Platform"))
    level = Level.GOLD
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=100))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + datetime.timedelta(days=365))

    class Params:
        action_pack = factory.Trait(kind=OfferKind.ACTION_PACK, competency=None, level="")
        expired = factory.Trait(
            starts_on=factory.LazyFunction(
                lambda: timezone.localdate() - datetime.timedelta(days=400)
            )
        )


def sign_in_with_the_form(client, email, password=PASSWORD, code=None):
    """The real sign-in: email and password, then the authenticator code if asked for."""
    response = client.post("/accounts/login/", {"login": email, "password": password})
    if response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/":
        response = client.post(response["Location"], {"code": code or totp_code()})
    return response


def contract_for(offer, benefit, requester):
    """The support contract of `offer`'s `benefit`, activated by `requester` and completed."""
    from activation import services as activation
    from support.models import SupportContract

    request, _ = activation.request_activation(offer, benefit, requester)
    activation.complete_now(request.pk, None)
    return SupportContract.objects.get(activation=request)


def software(name, version="2022", keys=1, kind=OfferKind.ACTION_PACK, level="", **fields):
    """A software product of the catalogue, included (with `keys` keys each) in offers of
    `kind` and `level` (every competency) that started in the last ten years."""
    from software.models import Inclusion, Product

    product = Product.objects.create(name=name, version=version, **fields)
    Inclusion.objects.create(
        product=product,
        kind=kind,
        level=level,
        keys=keys,
        since=timezone.localdate() - datetime.timedelta(days=3650),
    )
    return product


def pool(product, count, prefix=None):
    """`count` free keys of `product` in the pool; their keys, in order."""
    from software.models import LicenseKey

    prefix = prefix or f"P{product.pk:04d}"
    keys = [f"{prefix}-{n:05d}-AAAAA-BBBBB" for n in range(count)]
    LicenseKey.objects.bulk_create(
        LicenseKey(product=product, key=key, loaded_at=timezone.now()) for key in keys
    )
    return keys


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """A webhook endpoint of its creator's company, told of case state changes; made as it is,
    without add_endpoint's check that its address is public (nothing calls it)."""

    class Meta:
        model = WebhookEndpoint

    created_by = factory.SubFactory(UserFactory)
    partner = factory.SelfAttribute("created_by.partner")
    url = factory.Sequence(lambda n: f"https://hooks{n}.example/portal")
    events = factory.LazyFunction(lambda: ["case.state_changed"])
    secret = "whsec_c2VjcmV0IG9mIGEgdGVzdA=="
    created_at = factory.LazyFunction(timezone.now)
