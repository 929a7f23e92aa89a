import datetime
import uuid

import pytest

from entitlements.models import Role
from entitlements.rules import Benefit, Level

from .factories import OfferFactory, PartnerFactory, UserFactory, competency, contract_for


def make_contoso():
    partner = PartnerFactory(name="Contoso Ltd", mpn_id="4412345")
    OfferFactory(partner=partner, competency=competency("Cloud Platform"), level=Level.GOLD)
    OfferFactory(partner=partner, competency=competency("Data Analytics"), level=Level.SILVER)
    return partner


@pytest.fixture
def contoso(db):
    return make_contoso()


@pytest.fixture
def alice(contoso):
    """Contoso's Global admin."""
    return UserFactory(
        email="alice@contoso.example",
        first_name="Alice",
        last_name="Admin",
        partner=contoso,
        roles=[Role.GLOBAL_ADMIN],
    )


@pytest.fixture
def mona(contoso):
    """Contoso's MPN partner admin."""
    return UserFactory(
        email="mona@contoso.example", partner=contoso, roles=[Role.MPN_PARTNER_ADMIN]
    )


@pytest.fixture
def aaron(contoso):
    """Contoso's Admin agent."""
    return UserFactory(email="aaron@contoso.example", partner=contoso, roles=[Role.ADMIN_AGENT])


@pytest.fixture
def ursula(contoso):
    """Contoso's User admin."""
    return UserFactory(email="ursula@contoso.example", partner=contoso, roles=[Role.USER_ADMIN])


@pytest.fixture
def nora(contoso):
    """Contoso's employee with no role."""
    return UserFactory(email="nora@contoso.example", partner=contoso)


@pytest.fixture
def bob(db):
    """Fabrikam's Global admin: another company, with Action Pack."""
    fabrikam = PartnerFactory(name="Fabrikam Inc")
    OfferFactory(partner=fabrikam, action_pack=True)
    return UserFactory(email="bob@fabrikam.example", partner=fabrikam, roles=[Role.GLOBAL_ADMIN])


@pytest.fixture
def carol(db):
    """An Admin agent of Tailspin, a CSP reseller not associated with MPN."""
    tailspin = PartnerFactory(name="Tailspin Toys", mpn_id="", is_mpn_associated=False, is_csp=True)
    return UserFactory(email="carol@tailspin.example", partner=tailspin, roles=[Role.ADMIN_AGENT])


@pytest.fixture
def support(db):
    """Sam, support staff: in the Support staff group, no company."""
    from django.contrib.auth.models import Group

    sam = UserFactory(email="sam@benefits.example", partner=None, is_staff=True)
    sam.groups.add(Group.objects.get(name="Support staff"))
    return sam


@pytest.fixture
def sign_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete():
    """After each transactional test, Django empties every table with one TRUNCATE of all of
    them, which on PostgreSQL makes new files for each table and its indexes: it took most of
    such a test's teardown (0.3-1.5 s; DELETE of the same few hundred rows took 0.05 s). Here
    the rows are deleted instead, in one transaction with the foreign keys checked at its end,
    which leaves the same empty tables. Asked to reset sequences or cascade, Django's own."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED"] + [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))}"
            for table in tables
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


def own_caches(caches):
    return {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for name, config in caches.items()
    }


@pytest.fixture(autouse=True)
def own_cache_keys(settings, request):
    """Each test its own cache keys, so rate limits kept in a shared Redis don't leak between
    tests, without flushing a database the broker may share."""
    settings.CACHES = own_caches(settings.CACHES)


@pytest.fixture(autouse=True)
def language_of_its_own():
    """Each test starts in the default language: a page a test asked for in Japanese leaves
    Japanese active in the thread (LocaleMiddleware activates, nothing deactivates), and the
    next test in the process would format its expected dates in it."""
    from django.utils import translation

    yield
    translation.deactivate()


# Every factory user hashes a password; the production hasher is slow by design.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


class MovableClock:
    def __init__(self, start):
        self.at = start

    def now(self):
        return self.at

    def advance(self, **delta):
        self.at += datetime.timedelta(**delta)
        return self.at


@pytest.fixture
def clock(monkeypatch, settings):
    """Activation's clock, set to the coming Monday, 09:00 UTC, and moved by the test."""
    from activation import clock as activation_clock

    settings.ACTIVATION_BUSINESS_DAYS = 3
    settings.SIMULATED_DAY_SECONDS = 86400
    today = datetime.datetime.now(datetime.UTC).date()
    monday = today + datetime.timedelta(days=(7 - today.weekday()) % 7)
    movable = MovableClock(datetime.datetime.combine(monday, datetime.time(9), datetime.UTC))
    monkeypatch.setattr(activation_clock, "now", movable.now)
    return movable


def restore_reference_data():
    """What the data migrations made (competencies, the product catalogue, the Support staff
    group and its permissions), made again after a transactional test flushed the database."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    importlib.import_module("entitlements.migrations.0002_competencies").add_competencies(
        apps, None
    )
    catalogue = importlib.import_module("support.migrations.0003_product_catalogue")
    catalogue.add_catalogue(apps, None)
    group, _ = Group.objects.get_or_create(name="Support staff")
    for module in (
        "entitlements.migrations.0003_support_staff_group",
        "activation.migrations.0002_support_staff_permissions",
        "support.migrations.0003_product_catalogue",
        "notices.migrations.0003_support_staff_permissions",
        "cases.migrations.0003_support_staff_permissions",
        "cases.migrations.0004_advisory_hours",
        "cancellations.migrations.0002_support_staff_permissions",
        "cloud.migrations.0002_support_staff_permissions",
        "software.migrations.0003_support_staff_permissions",
        "devtools.migrations.0002_support_staff_permissions",
        "marketing.migrations.0002_support_staff_permissions",
        "customers.migrations.0002_support_staff_permissions",
    ):
        for (app_label, model), actions in importlib.import_module(module).GRANTS.items():
            if model == "incident":
                continue  # support's incidents are cases now (cases.migrations)
            for action in actions:
                group.permissions.add(
                    Permission.objects.get(
                        content_type__app_label=app_label, codename=f"{action}_{model}"
                    )
                )


@pytest.fixture(autouse=True)
def reference_data(request):
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        # The browser tests' demo (tests/e2e/conftest.py, load_demo) brings its own.
        if "portal" not in request.fixturenames:
            restore_reference_data()


@pytest.fixture
def product_support(alice, contoso):
    """Contoso's Gold Microsoft Product Support contract: 20 incidents."""
    return contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)


@pytest.fixture
def signature_5_pack(alice, contoso):
    """Contoso's Silver Data Analytics Signature Cloud Support: 5 incidents."""
    return contract_for(contoso.offers.get(level="silver"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice)
