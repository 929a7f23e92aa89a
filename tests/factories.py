import datetime

import factory
from django.utils import timezone

from accounts.models import User
from entitlements.models import Competency, MembershipOffer, Partner
from entitlements.rules import CLOUD_COMPETENCIES, Level, OfferKind
from entitlements.services import set_roles

PASSWORD = "Partner!2026"


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
    def roles(user, create, roles, **kwargs):
        if create and roles:
            set_roles(user, roles)


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
