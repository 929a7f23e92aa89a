"""Every URL × every kind of user × method, with the expected answer, in one declared table.

A URL the table doesn't cover fails the walk; a cell whose answer differs fails its test; a
refused request must change nothing.
"""

import contextlib
import copy
import datetime
import uuid

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import people
from accounts.models import AccessRequest, EntraGroupRole, EntraTenant, Invitation, User
from activation.models import ActivationRequest
from api import services as api_services
from cancellations.models import CancellationRequest
from cases.models import Case, CaseEntry
from cloud import services as cloud
from cloud.models import CloudSubscription, CreditAssignment
from customers.models import Customer
from devtools.models import SubscriptionAssignment
from entitlements.models import Role, RoleAssignment
from entitlements.rules import Benefit, Level, OfferKind
from marketing.models import MarketingContact
from notices.models import Notice, WebhookDelivery, WebhookEndpoint
from notices.services import tell
from software.models import Download, LicenseKey
from support.models import ContractLink, SupportContract

from .conftest import FAST_PASSWORD_HASHERS, make_contoso, own_caches
from .factories import PartnerFactory, UserFactory, WebhookEndpointFactory, pool, software
from .test_cases import open_incident
from .test_cloud import cloud_catalogue
from .test_go_to_market import go_to_market
from .test_support import contract_for
from .test_visual_studio import visual_studio

ACTORS = [
    "signed_out",
    "global_admin",
    "mpn_partner_admin",
    "admin_agent",
    "user_admin",
    "no_role",
    "other_company_admin",  # Fabrikam's Global admin, on Contoso's objects
    "csp_only_user",
    "support_staff",
]
SIGNED_IN = ACTORS[1:]
LOGIN = "login"  # 302 to the sign-in page

CONTOSO_GOLD = "contoso_gold"  # the id arguments, resolved per test
CONTOSO_CONTRACT = "contoso_contract"
CONTOSO_HOLDER = "contoso_holder"
CONTOSO_PERSON = "contoso_person"  # Contoso's user without a role
CONTOSO_INVITATION = "contoso_invitation"  # the key of a link Contoso's Global admin sent
CONTOSO_REQUEST = "contoso_request"  # Contoso's no-role user asking for Admin agent
CONTOSO_GROUP_ROLE = "contoso_group_role"  # a mapping of Contoso's Entra tenant
ENTRA = "entra"  # the Entra app's provider id
CONTOSO_NOTICE = "contoso_notice"  # a notice of Contoso's user without a role
CONTOSO_CASE = "contoso_case"  # an incident Contoso's no-role user opened
CONTOSO_OFFER = "contoso_offer"  # Contoso's Gold competency
CONTOSO_DYNAMICS = "contoso_dynamics"  # Contoso Gold's Dynamics 365 Sales, license-based
CONTOSO_CLOUD = "contoso_cloud"  # Contoso Gold's Microsoft 365 E3, provisioned
CONTOSO_AZURE = "contoso_azure"  # Contoso Gold's Azure credit, assigned to the no-role user
CONTOSO_CREDIT = "contoso_credit"  # the redemption code of that assignment
CONTOSO_SOFTWARE = "contoso_software"  # a product Contoso's Gold offer includes
CONTOSO_DOWNLOAD = "contoso_download"  # that product's file
CONTOSO_VISUAL_STUDIO = "contoso_visual_studio"  # Contoso Gold's first Visual Studio subscription
CONTOSO_GO_TO_MARKET = "contoso_go_to_market"  # a Go-To-Market offer of Contoso's Gold offer
CONTOSO_CUSTOMER = "contoso_customer"  # a customer of Contoso, in CSP here
CONTOSO_TOKEN = "contoso_token"  # an API token Contoso's Global admin created
CONTOSO_WEBHOOK = "contoso_webhook"  # a webhook endpoint of Contoso's
CONTOSO_DELIVERY = "contoso_delivery"  # a delivery to that endpoint, delivered


def everyone(answer):
    return dict.fromkeys(ACTORS, answer)


def signed_in(answer):
    return {"signed_out": LOGIN, **dict.fromkeys(SIGNED_IN, answer)}


def benefit_page(*, viewers, other_company, method_ok):
    """A Technical benefits URL: who may see it, what another company's admin gets."""
    answers = {"signed_out": LOGIN, "other_company_admin": other_company}
    for actor in SIGNED_IN:
        if actor != "other_company_admin":
            answers[actor] = method_ok if actor in viewers else 403
    return answers


VIEWERS = {"global_admin", "mpn_partner_admin", "admin_agent"}
ACTIVATORS = {"global_admin", "mpn_partner_admin"}
ROLE_VIEWERS = {"global_admin", "mpn_partner_admin", "user_admin"}
USER_MANAGERS = {"global_admin", "user_admin"}


def user_action(method_ok):
    """A button of a user's page: POST only, for those who manage users."""
    return {
        "args": CONTOSO_PERSON,
        "GET": everyone(405),
        "POST": benefit_page(viewers=USER_MANAGERS, other_company=404, method_ok=method_ok),
    }


DECIDERS = {"global_admin", "user_admin"}


def case_page(method_ok):
    """A case the no-role user opened: theirs, and their company's admins'; 404 to others."""
    return {
        "signed_out": LOGIN,
        **dict.fromkeys(SIGNED_IN, 404),
        **dict.fromkeys(["global_admin", "mpn_partner_admin", "no_role"], method_ok),
    }


MATRIX = {
    "home": {"GET": everyone(302)},
    # Parent paths a person might type: each redirects to the nearest page.
    "dashboard": {"GET": everyone(302)},
    "dashboard_mpn": {"GET": everyone(302)},
    "dashboard_membership": {"GET": everyone(302)},
    "dashboard_benefits": {"GET": everyone(302)},
    "dashboard_account": {"GET": everyone(302)},
    "alive": {"GET": everyone(200), "POST": everyone(405)},
    # Open to anyone; 503 here because no sweep has run in the test database.
    "health": {"GET": everyone(503), "POST": everyone(405)},
    "set_language": {"POST": everyone(302)},
    "entitlements:technical_benefits": {
        "GET": benefit_page(viewers=VIEWERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "entitlements:benefit_detail": {
        "args": CONTOSO_GOLD,
        "GET": benefit_page(viewers=VIEWERS, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    "activation:activate": {
        "args": CONTOSO_GOLD,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    "activation:retry": {
        "args": CONTOSO_GOLD,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    "audit:log": {
        "GET": benefit_page(viewers={"global_admin"}, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "audit:csv": {
        "GET": benefit_page(viewers={"global_admin"}, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "contract_holders": {
        "GET": benefit_page(viewers={"global_admin"}, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "remove_contract_holder": {
        "args": CONTOSO_HOLDER,
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=302),
    },
    "reissue_contract_ids": {
        "args": CONTOSO_CONTRACT,
        "GET": everyone(405),
        # Without the Access ID the admin saw (a post from elsewhere), nothing is re-issued.
        "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=400),
    },
    # Account settings → Users: seen by those who see roles, changed by those who manage users.
    "accounts:users": {
        "GET": benefit_page(viewers=ROLE_VIEWERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "accounts:invite": {
        "GET": benefit_page(viewers=USER_MANAGERS, other_company=200, method_ok=200),
        # An empty form: refused, nothing made.
        "POST": benefit_page(viewers=USER_MANAGERS, other_company=400, method_ok=400),
    },
    "accounts:user": {
        "args": CONTOSO_PERSON,
        "GET": benefit_page(viewers=ROLE_VIEWERS, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    "accounts:change_roles": user_action(302),
    "accounts:deactivate": user_action(302),
    "accounts:reactivate": user_action(302),
    # The person joined long ago: no invitation to send or withdraw (said, nothing changed).
    "accounts:resend": user_action(302),
    "accounts:revoke": user_action(302),
    "accounts:remove": user_action(302),
    # The invitation's page opens for anyone with the link; an empty form is refused.
    "accounts:invitation": {
        "args": CONTOSO_INVITATION,
        "GET": everyone(200),
        "POST": everyone(400),
    },
    # Membership offers and cancelling one for a refund: those who see the benefits; asking,
    # those who may activate (an empty reason is refused).
    "cancellations:offers": {
        "GET": benefit_page(viewers=VIEWERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "cancellations:offer": {
        "args": CONTOSO_OFFER,
        "GET": benefit_page(viewers=VIEWERS, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    "cancellations:request": {
        "args": CONTOSO_OFFER,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=400),
    },
    "entitlements:cloud": {
        "GET": benefit_page(viewers=VIEWERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "cloud:row": {
        "args": CONTOSO_CLOUD,
        "GET": benefit_page(viewers=VIEWERS, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    "cloud:activate": {
        "args": CONTOSO_CLOUD,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    "cloud:retry": {
        "args": CONTOSO_CLOUD,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    # A license-based subscription's keys: the two admins (the pool is empty: told so).
    "cloud:get_keys": {
        "args": CONTOSO_DYNAMICS,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    # Only a Global admin assigns (seed 003); an empty form changes nothing and says why.
    "cloud:assign": {
        "args": CONTOSO_AZURE,
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=302),
    },
    # The redemption page: its assignee's alone; anyone else finds nothing there.
    "cloud:credit": {
        "args": CONTOSO_CREDIT,
        "GET": {"signed_out": LOGIN, **dict.fromkeys(SIGNED_IN, 404), "no_role": 200},
        "POST": everyone(405),
    },
    # Software: seen (and downloaded) by those who see benefits; keys got by the two admins.
    "entitlements:software": {
        "GET": benefit_page(viewers=VIEWERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "software:product": {
        "args": CONTOSO_SOFTWARE,
        "GET": benefit_page(viewers=VIEWERS, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    "software:get_keys": {
        "args": CONTOSO_SOFTWARE,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    "software:download": {
        "args": CONTOSO_DOWNLOAD,
        "GET": benefit_page(viewers=VIEWERS, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    # Visual Studio subscriptions: seen by those who see benefits, assigned by a Global admin
    # alone (seed 003); an empty form changes nothing and says why.
    "entitlements:visual_studio": {
        "GET": benefit_page(viewers=VIEWERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "devtools:assign": {
        "args": CONTOSO_VISUAL_STUDIO,
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=302),
    },
    # Go-To-Market: seen by those who see benefits; the marketing contact set, and offers
    # activated, by the two admins (seed 003). Without a contact, Activate is refused with a
    # redirect to the page that says why; an empty contact form is refused.
    "entitlements:go_to_market": {
        "GET": benefit_page(viewers=VIEWERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "marketing:contact": {
        "GET": benefit_page(viewers=ACTIVATORS, other_company=200, method_ok=200),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=400, method_ok=400),
    },
    "marketing:row": {
        "args": CONTOSO_GO_TO_MARKET,
        "GET": benefit_page(viewers=VIEWERS, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    "marketing:activate": {
        "args": CONTOSO_GO_TO_MARKET,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    "marketing:retry": {
        "args": CONTOSO_GO_TO_MARKET,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    "marketing:send_instructions": {
        "args": CONTOSO_GO_TO_MARKET,
        "GET": everyone(405),
        "POST": benefit_page(viewers=ACTIVATORS, other_company=404, method_ok=302),
    },
    # A CSP partner's customers: its Global admins and Admin agents; a company not in CSP is
    # told so (Fabrikam, support staff); another CSP partner (Tailspin) finds no such customer.
    "customers:customers": {
        "GET": {
            **benefit_page(
                viewers={"global_admin", "admin_agent"}, other_company=403, method_ok=200
            ),
            "csp_only_user": 200,
        },
        "POST": everyone(405),
    },
    "customers:customer": {
        "args": CONTOSO_CUSTOMER,
        "GET": {
            **benefit_page(
                viewers={"global_admin", "admin_agent"}, other_company=403, method_ok=200
            ),
            "csp_only_user": 404,
        },
        "POST": everyone(405),
    },
    # Service requests on a customer's behalf: the same people; an empty form is refused.
    "customers:requests": {
        "GET": {
            **benefit_page(
                viewers={"global_admin", "admin_agent"}, other_company=403, method_ok=200
            ),
            "csp_only_user": 200,
        },
        "POST": everyone(405),
    },
    "customers:new_request": {
        "args": CONTOSO_CUSTOMER,
        "GET": {
            **benefit_page(
                viewers={"global_admin", "admin_agent"}, other_company=403, method_ok=200
            ),
            "csp_only_user": 404,
        },
        "POST": {
            **benefit_page(
                viewers={"global_admin", "admin_agent"}, other_company=403, method_ok=400
            ),
            "csp_only_user": 404,
        },
    },
    # Account settings → API tokens: Global admins; an empty form is refused (issue 19).
    "integrations:tokens": {
        "GET": benefit_page(viewers={"global_admin"}, other_company=200, method_ok=200),
        "POST": benefit_page(viewers={"global_admin"}, other_company=400, method_ok=400),
    },
    "integrations:revoke": {
        "args": CONTOSO_TOKEN,
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=302),
    },
    # Account settings → Webhooks: Global admins; an empty form is refused (issue 19).
    "integrations:webhooks": {
        "GET": benefit_page(viewers={"global_admin"}, other_company=200, method_ok=200),
        "POST": benefit_page(viewers={"global_admin"}, other_company=400, method_ok=400),
    },
    "integrations:webhook": {
        "args": CONTOSO_WEBHOOK,
        "GET": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=200),
        "POST": everyone(405),
    },
    **{
        name: {
            "args": CONTOSO_WEBHOOK,
            "GET": everyone(405),
            "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=302),
        }
        for name in ("integrations:webhook_enabled", "integrations:webhook_remove")
    },
    "integrations:redeliver": {
        "args": CONTOSO_DELIVERY,
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=302),
    },
    # Support for Business is open to every signed-in account, of any company.
    "support:home": {"GET": signed_in(302), "POST": everyone(405)},
    "support:create": {"GET": signed_in(200), "POST": signed_in(400)},
    "support:contracts": {"GET": signed_in(302), "POST": everyone(405)},
    "support:add_contract": {"GET": everyone(405), "POST": signed_in(400)},
    "support:incidents": {"GET": signed_in(200), "POST": everyone(405)},
    # Cases: everyone's own, and the company's for those who may see them (Global admin, MPN
    # partner admin); any other case is a 404. An empty note is refused.
    "cases:list": {"GET": signed_in(200), "POST": everyone(405)},
    # Advisory requests: any user of an MPN company; an empty form is refused.
    "cases:advisory": {
        "GET": {**signed_in(200), "csp_only_user": 403, "support_staff": 403},
        "POST": {**signed_in(400), "csp_only_user": 403, "support_staff": 403},
    },
    "cases:case": {"args": CONTOSO_CASE, "GET": case_page(200), "POST": everyone(405)},
    "cases:note": {"args": CONTOSO_CASE, "GET": everyone(405), "POST": case_page(400)},
    "cases:close": {"args": CONTOSO_CASE, "GET": everyone(405), "POST": case_page(302)},
    # A contract's ledger: those who see the company's benefits, and the accounts holding it.
    "cases:ledger": {
        "args": CONTOSO_CONTRACT,
        "GET": {
            "signed_out": LOGIN,
            **dict.fromkeys(SIGNED_IN, 404),
            **dict.fromkeys([*VIEWERS, "no_role"], 200),
        },
        "POST": everyone(405),
    },
    # allauth's own pages: no sign-up; sign-in and password reset open to visitors.
    "account_login": {"GET": {"signed_out": 200, **dict.fromkeys(SIGNED_IN, 302)}},
    # "Sign up closed" to visitors; the signed-in are sent on to their page.
    "account_signup": {
        "GET": {"signed_out": 200, **dict.fromkeys(SIGNED_IN, 302)},
        "POST": {"signed_out": 200, **dict.fromkeys(SIGNED_IN, 302)},
    },
    "account_reset_password": {"GET": everyone(200)},
    "account_logout": {"POST": everyone(302)},
    "account_change_password": {"GET": signed_in(200)},
    "usersessions_list": {"GET": signed_in(200)},
    "mfa_index": {"GET": signed_in(200)},
    # My access: every signed-in person's own page; support staff have no role to ask for.
    "accounts:my_access": {"GET": signed_in(200), "POST": everyone(405)},
    "accounts:request_access": {
        "GET": everyone(405),
        # An empty form: refused, nothing asked.
        "POST": {**signed_in(400), "support_staff": 403},
    },
    "accounts:withdraw_access_request": {
        "args": CONTOSO_REQUEST,
        "GET": everyone(405),
        # Only the person who asked; anyone else's request is no request at all.
        "POST": {**signed_in(404), "no_role": 302},
    },
    # Access requests: those who may give roles (Global admins; User admins, all but Global
    # admin: the request is for Admin agent).
    "accounts:access_requests": {
        "GET": benefit_page(viewers=DECIDERS, other_company=200, method_ok=200),
        "POST": everyone(405),
    },
    "accounts:approve_access_request": {
        "args": CONTOSO_REQUEST,
        "GET": everyone(405),
        "POST": benefit_page(viewers=DECIDERS, other_company=404, method_ok=302),
    },
    "accounts:decline_access_request": {
        "args": CONTOSO_REQUEST,
        "GET": everyone(405),
        "POST": benefit_page(viewers=DECIDERS, other_company=404, method_ok=302),
    },
    # The Django admin: support staff only.
    "admin:index": {
        "GET": {**dict.fromkeys(ACTORS, 302), "support_staff": 200},
    },
    # Account settings → Sign-in with Microsoft Entra ID: Global admins, each of their own
    # company (an empty form is a 400; another company's mapping a 404).
    "accounts:entra": {
        "GET": benefit_page(viewers={"global_admin"}, other_company=200, method_ok=200),
        "POST": benefit_page(viewers={"global_admin"}, other_company=400, method_ok=400),
    },
    "accounts:entra_disconnect": {
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=302, method_ok=302),
    },
    "accounts:entra_add_group": {
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=400, method_ok=400),
    },
    "accounts:entra_remove_group": {
        "args": CONTOSO_GROUP_ROLE,
        "GET": everyone(405),
        "POST": benefit_page(viewers={"global_admin"}, other_company=404, method_ok=302),
    },
    # allauth's sign-in with Entra: no app is configured in the tests, so there is none.
    "openid_connect_login": {"args": ENTRA, "GET": everyone(404), "POST": everyone(404)},
    "openid_connect_callback": {"args": ENTRA, "GET": everyone(404)},
    # Notices: every signed-in person's own; anyone else's notice is no notice at all.
    "notices:notices": {"GET": signed_in(200), "POST": everyone(405)},
    "notices:mark_all_read": {"GET": everyone(405), "POST": signed_in(302)},
    "notices:mark_read": {
        "args": CONTOSO_NOTICE,
        "GET": everyone(405),
        "POST": {**signed_in(404), "no_role": 302},
    },
    # An account's connected Entra accounts; allauth's other third-party pages alike.
    "socialaccount_connections": {"GET": signed_in(200), "POST": signed_in(200)},
}

# URL families answered by a library's own access rules, checked through one member above:
# every allauth page behaves like the ones listed, and every admin page like admin:index.
FAMILIES = {
    "account_": "account_login",
    "admin:": "admin:index",
    "mfa_": "mfa_index",
    "socialaccount_": "socialaccount_connections",
    "openid_connect_": "openid_connect_login",
    # The JSON API: every endpoint × token scope × holder in tests/test_api_matrix.py.
    "api:": "api:openapi-json",
}


def named_urls(resolver=None, namespace=""):
    """(name, whether it takes an object's id) of every named URL."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_urls(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", "<int:" in str(pattern.pattern)


def test_every_named_url_has_a_row_in_the_matrix():
    missing = sorted(
        name
        for name, _ in set(named_urls())
        if name not in MATRIX and not any(name.startswith(prefix) for prefix in FAMILIES)
    )
    assert missing == []


def test_every_url_taking_an_id_gives_another_company_404():
    with_ids = {name for name, takes_id in named_urls() if takes_id}
    ours = {name for name in with_ids if not name.startswith(tuple(FAMILIES))}
    assert ours  # the walk found them
    for name in ours:
        row = MATRIX[name]
        assert row["args"] in (
            CONTOSO_GOLD,
            CONTOSO_CONTRACT,
            CONTOSO_HOLDER,
            CONTOSO_PERSON,
            CONTOSO_REQUEST,
            CONTOSO_GROUP_ROLE,
            CONTOSO_NOTICE,
            CONTOSO_CASE,
            CONTOSO_OFFER,
            CONTOSO_CLOUD,
            CONTOSO_DYNAMICS,
            CONTOSO_AZURE,
            CONTOSO_SOFTWARE,
            CONTOSO_DOWNLOAD,
            CONTOSO_VISUAL_STUDIO,
            CONTOSO_GO_TO_MARKET,
            CONTOSO_CUSTOMER,
            CONTOSO_TOKEN,
            CONTOSO_WEBHOOK,
            CONTOSO_DELIVERY,
        )
        # Another company's user who could open such a page of their own finds nothing.
        answers = [
            row[m][actor]
            for m in ("GET", "POST")
            if m in row
            for actor in ("other_company_admin", "csp_only_user")
        ]
        assert 404 in answers, name


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The world, made once for the module's cells (made for each, it took most of each cell's
    time) in a transaction that is rolled back after the last one. Each cell runs in a
    savepoint of it (the `db` fixture), so what a cell changes is undone before the next."""
    with contextlib.ExitStack() as made:
        with django_db_blocker.unblock():
            made.enter_context(
                override_settings(
                    CACHES=own_caches(settings.CACHES), PASSWORD_HASHERS=FAST_PASSWORD_HASHERS
                )
            )
            made.enter_context(transaction.atomic())
            world = make_world(make_contoso())
            # Its foreign keys checked now, once: left deferred, each cell's savepoint would
            # check them all again (Django checks constraints at the end of each test).
            connection.check_constraints()
        yield world
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            made.close()


@pytest.fixture
def world(db, shared_world):
    # A copy: what a cell does to the objects in memory stays in that cell.
    return copy.deepcopy(shared_world)


def make_world(contoso):
    """One user of each kind; Contoso's objects are the ones whose ids are asked for."""
    fabrikam = PartnerFactory(name="Fabrikam Inc")
    tailspin = PartnerFactory(name="Tailspin", mpn_id="", is_mpn_associated=False, is_csp=True)
    staff = UserFactory(partner=None, is_staff=True)
    from django.contrib.auth.models import Group

    staff.groups.add(Group.objects.get(name="Support staff"))
    users = {
        "global_admin": UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN]),
        "mpn_partner_admin": UserFactory(partner=contoso, roles=[Role.MPN_PARTNER_ADMIN]),
        "admin_agent": UserFactory(partner=contoso, roles=[Role.ADMIN_AGENT]),
        "user_admin": UserFactory(partner=contoso, roles=[Role.USER_ADMIN]),
        "no_role": UserFactory(partner=contoso),
        "other_company_admin": UserFactory(partner=fabrikam, roles=[Role.GLOBAL_ADMIN]),
        "csp_only_user": UserFactory(partner=tailspin, roles=[Role.ADMIN_AGENT]),
        "support_staff": staff,
    }
    gold = contoso.offers.get(level="gold")
    contract = contract_for(gold, Benefit.PRODUCT_SUPPORT, users["global_admin"])
    link = ContractLink.objects.create(user=users["no_role"], contract=contract)
    invitation = people.invite(
        contoso, users["global_admin"], "invited@contoso.example", "Ivy", "Invited", [], "en"
    )
    asked = AccessRequest.objects.create(
        partner=contoso, user=users["no_role"], role=Role.ADMIN_AGENT, reason="Customers"
    )
    tenant = EntraTenant.objects.create(partner=contoso, tenant_id=uuid.uuid4())
    group_role = tenant.group_roles.create(group_id=uuid.uuid4(), role=Role.ADMIN_AGENT)
    tell(users["no_role"], "contract_expiring_7", about=f"contract:{contract.pk}")
    notice = Notice.objects.get(recipient=users["no_role"])
    case = open_incident(users["no_role"], contract)
    products = cloud_catalogue()
    [azure] = [r for r in cloud.cloud_benefits(contoso) if r.product == products["azure"]]
    credit, _ = cloud.assign_credit(azure, users["no_role"], users["global_admin"])
    product = software("SQL Server", kind=OfferKind.COMPETENCY, level=Level.GOLD)
    pool(product, 2)
    download = Download(product=product, language="en", operating_system="windows_x64")
    download.file.save("setup.txt", ContentFile(b"setup"))
    enterprise = visual_studio("Visual Studio Enterprise", gold=2)
    case_study = go_to_market("Gold Core", "Customer case study", "gold")
    contoso.is_csp = True  # a reseller too, with a customer
    contoso.save()
    customer = Customer.objects.create(partner=contoso, name="Fourth Coffee", domain="fc.example")
    api_token, _raw = api_services.create_token(
        users["global_admin"],
        "CI",
        ["benefits:read"],
        timezone.now() + datetime.timedelta(days=30),
    )
    endpoint = WebhookEndpointFactory(created_by=users["global_admin"])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="case.state_changed",
        subject=f"case:{case.pk}",
        key="case-moved",
        message_id="msg_1",
        payload={"type": "case.state_changed"},
        created_at=timezone.now(),
        delivered_at=timezone.now(),
    )
    args = {
        CONTOSO_WEBHOOK: [endpoint.pk],
        CONTOSO_DELIVERY: [endpoint.pk, delivery.pk],
        CONTOSO_TOKEN: [api_token.pk],
        CONTOSO_CUSTOMER: [customer.pk],
        CONTOSO_GO_TO_MARKET: [gold.pk, case_study.pk],
        CONTOSO_VISUAL_STUDIO: [gold.pk, enterprise.pk, 1],
        CONTOSO_SOFTWARE: [gold.pk, product.pk],
        CONTOSO_DOWNLOAD: [download.pk],
        CONTOSO_NOTICE: [notice.pk],
        CONTOSO_CASE: [case.pk],
        CONTOSO_GROUP_ROLE: [group_role.pk],
        ENTRA: ["entra"],
        CONTOSO_GOLD: [gold.pk, "product_support"],
        CONTOSO_OFFER: [gold.pk],
        CONTOSO_CONTRACT: [contract.pk],
        CONTOSO_HOLDER: [contract.pk, link.pk],
        CONTOSO_PERSON: [users["no_role"].pk],
        CONTOSO_INVITATION: [invitation.key],
        CONTOSO_REQUEST: [asked.pk],
        CONTOSO_CLOUD: [gold.pk, products["m365"].pk],
        CONTOSO_DYNAMICS: [gold.pk, products["dynamics"].pk],
        CONTOSO_AZURE: [azure.offer.pk, products["azure"].pk],
        CONTOSO_CREDIT: [credit.redemption_code],
    }
    return users, args


def cells():
    for name, row in MATRIX.items():
        for method in ("GET", "POST"):
            for actor, answer in row.get(method, {}).items():
                yield pytest.param(name, method, actor, answer, id=f"{name}-{method}-{actor}")


def stored():
    return (
        ActivationRequest.objects.count(),
        ContractLink.objects.count(),
        list(Case.objects.values_list("pk", "state", "resolution")),
        CaseEntry.objects.count(),
        list(SupportContract.objects.values_list("access_id", "contract_id")),
        list(User.objects.order_by("pk").values_list("pk", "is_active", "partner_id", "password")),
        list(RoleAssignment.objects.order_by("pk").values_list("user_id", "role", "expires_at")),
        list(Invitation.objects.order_by("pk").values_list("accepted_at", "revoked_at")),
        list(AccessRequest.objects.order_by("pk").values_list("pk", "decision")),
        list(EntraTenant.objects.values_list("partner", "tenant_id")),
        list(EntraGroupRole.objects.values_list("pk", flat=True)),
        list(Notice.objects.order_by("pk").values_list("pk", "read_at")),
        list(CancellationRequest.objects.values_list("pk", "state")),
        list(CreditAssignment.objects.values_list("pk", "assignee", "ended_at")),
        CloudSubscription.objects.count(),
        list(LicenseKey.objects.order_by("pk").values_list("offer", "first_viewed_by")),
        list(SubscriptionAssignment.objects.values_list("pk", "assignee", "ended_at")),
        list(MarketingContact.objects.values_list("pk", "user", "email", "phone", "language")),
        list(WebhookEndpoint.objects.values_list("pk", "disabled_at")),
        list(WebhookDelivery.objects.values_list("pk", "due_at")),
    )


@pytest.mark.parametrize(("name", "method", "actor", "answer"), list(cells()))
def test_each_cell_answers_as_declared(client, world, name, method, actor, answer):
    users, args = world
    if actor != "signed_out":
        client.force_login(users[actor])
    url = reverse(name, args=args.get(MATRIX[name].get("args"), []))
    before = stored()

    response = client.get(url) if method == "GET" else client.post(url)

    if answer == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(("/accounts/login/", "/admin/login/"))
    else:
        assert response.status_code == answer
    if answer in (LOGIN, 400, 403, 404, 405):
        assert stored() == before  # a refused request changes nothing
