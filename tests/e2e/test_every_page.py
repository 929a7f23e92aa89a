"""Every page of the portal, as the person who would see it, at a phone's width and a desktop's,
in English, Japanese and Simplified Chinese: no sideways scrolling, and axe finds nothing
serious. The pages hold a 200-character word someone typed, which must wrap, not widen them."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import access, people
from accounts.models import EntraTenant, User
from audit.models import AuditEntry
from audit.services import record
from cancellations import services as cancellations
from cases import services as cases
from entitlements.models import Competency, MembershipOffer, Role
from entitlements.rules import Level, OfferKind
from notices.services import mark_all_read, tell
from support import services as support_services
from support.models import ContractLink, ProductVersion

from .conftest import AXE, AXE_VIOLATIONS, PASSWORD
from .test_accessibility import activated

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (390, 1280)
LANGUAGES = ("en", "ja", "zh-hans")
LONG_WORD = "Supercalifragilistic" * 10  # 200 characters, no space to break at


def the_pages():
    """{email or None (signed out): [paths]}: every page a person reaches, with demo data in it."""
    admin = User.objects.get(email="admin@contoso.example")
    contract = activated()  # a benefit with its IDs and timeline, and an audit trail
    ContractLink.objects.create(user=admin, contract=contract)
    version = ProductVersion.objects.get(product__name="Windows Server", name="2025")
    case = support_services.open_incident(
        admin,
        version,
        contract.pk,
        title=LONG_WORD,
        description=LONG_WORD,
        severity="B",
        contact_name="Megan Bowen",
        contact_email="admin@contoso.example",
    )
    cases.add_note(case.pk, admin, LONG_WORD)
    record(admin.partner, AuditEntry.Action.CONTRACT_LINKED, LONG_WORD, admin)
    # Someone invited with a name that must wrap, and a link that no longer works.
    invited = people.invite(
        admin.partner, admin, "new@contoso.example", "Nina", LONG_WORD[:150], [], "ja"
    )
    withdrawn = people.invite(admin.partner, admin, "old@contoso.example", "Olga", "Old", [], "")
    people.revoke(admin, withdrawn.user)
    agent = User.objects.get(email="agent@contoso.example")
    # An open access request and a declined one, each with a long word typed in.
    member = User.objects.get(email="member@contoso.example")
    access.request_access(member, Role.ADMIN_AGENT, LONG_WORD)
    access.decline(admin, access.request_access(member, Role.USER_ADMIN, "Why"), LONG_WORD)
    tenant = EntraTenant.objects.create(partner=admin.partner, tenant_id=uuid.uuid4())
    tenant.group_roles.create(group_id=uuid.uuid4(), role=Role.MPN_PARTNER_ADMIN)
    offer = contract.activation.offer
    # The notices page: the IDs ready (unread), and reminders, one read, with long words.
    for kind in ("contract_expiring_7", "incidents_low"):
        tell(
            admin,
            kind,
            about=f"contract:{contract.pk}",
            context={
                "benefit": contract.benefit,
                "partner": LONG_WORD,
                "contract_id": LONG_WORD,
                "ends_on": contract.ends_on,
                "incidents_remaining": 2,
            },
            url=reverse("support:contracts"),
        )
    mark_all_read(admin)
    tell(
        admin,
        "renewal_window",
        about="offer:0",
        context={
            "offer": offer.facts,
            "partner": LONG_WORD,
            "ended_on": offer.ends_on,
            "window_ends_on": offer.ends_on,
        },
    )
    step_2 = f"{reverse('support:create')}?version={version.pk}&support_type=technical"
    # Offers: one that can't be cancelled (its benefit activated, and too late), one that can
    # (its form), one whose cancellation waits and one whose request was declined.
    fresh = MembershipOffer.objects.create(
        partner=admin.partner,
        kind=OfferKind.COMPETENCY,
        competency=Competency.objects.get(name="Security"),
        level=Level.SILVER,
        starts_on=timezone.localdate() - datetime.timedelta(days=3),
        ends_on=timezone.localdate() + datetime.timedelta(days=362),
    )
    waiting = MembershipOffer.objects.create(
        partner=admin.partner,
        kind=OfferKind.COMPETENCY,
        competency=Competency.objects.get(name="DevOps"),
        level=Level.SILVER,  # Gold Cloud Platform still provides the software below
        starts_on=timezone.localdate() - datetime.timedelta(days=3),
        ends_on=timezone.localdate() + datetime.timedelta(days=362),
    )
    declined = cancellations.request_cancellation(admin, waiting, LONG_WORD)
    cancellations.decline(User.objects.get(email="support@benefits.example"), declined, LONG_WORD)
    cancellations.request_cancellation(admin, waiting, LONG_WORD)
    # Software: one product's keys revealed (copy buttons), another's pool run out.
    from software import services as software_services
    from software.models import LicenseKey, Product

    gold = offer.partner.offers.get(level="gold", competency__name="Cloud Platform")
    software_services.get_keys(admin, gold, Product.objects.get(name="Windows Server"))
    visio = Product.objects.get(name__startswith="Visio")
    LicenseKey.objects.filter(product=visio, offer__isnull=True).delete()
    software_row = reverse("software:product", args=[gold.pk, visio.pk])
    from api import services as api_services

    api_services.create_token(
        admin,
        LONG_WORD[:100],
        ["benefits:read", "support:read"],
        timezone.now() + datetime.timedelta(days=90),
    )
    # A webhook endpoint with a long URL: one delivery tried twice (the first with a long
    # answer), one waiting.
    from ..factories import WebhookEndpointFactory

    endpoint = WebhookEndpointFactory(
        created_by=admin,
        url=f"https://{'a' * 60}.example/{LONG_WORD}",
        events=["activation.completed", "case.state_changed"],
    )
    for n, due in enumerate([None, timezone.now()]):
        delivery = endpoint.deliveries.create(
            event="case.state_changed",
            subject=f"case:{case.pk}",
            key=f"case:{n}",
            message_id=f"msg_{uuid.uuid4().hex}",
            payload={},
            created_at=timezone.now(),
            due_at=due,
            attempts=2 - n,
            delivered_at=None if due else timezone.now(),
        )
        if due is None:
            delivery.attempt_log.create(
                at=timezone.now(), status_code=500, milliseconds=1200, excerpt=LONG_WORD * 2
            )
            delivery.attempt_log.create(at=timezone.now(), status_code=204, milliseconds=35)
    from customers.models import Customer

    fourth_coffee = Customer.objects.get(domain="fourthcoffee.onmicrosoft.com")
    # A customer whose name and domain must wrap in the list.
    Customer.objects.create(
        partner=fourth_coffee.partner, name=LONG_WORD, domain=f"{'a' * 60}.{'b' * 60}.example"
    )
    return {
        "admin@contoso.example": [
            reverse("entitlements:technical_benefits"),
            reverse("entitlements:benefit_detail", args=[offer.pk, "product_support"]),
            reverse("entitlements:software"),
            f"{software_row}?language=ja&os=windows_x86",  # one row open, downloads narrowed
            f"{reverse('entitlements:software')}?q=nothing-matches",
            reverse("entitlements:cloud"),
            # The Azure credit the demo assigned to its Global admin: the redemption page.
            reverse("cloud:credit", args=[admin.azure_credits.get().redemption_code]),
            reverse("entitlements:visual_studio"),
            reverse("entitlements:go_to_market"),  # the contact, an offer active
            reverse("marketing:contact"),  # Update: the form filled in
            reverse("contract_holders"),
            reverse("audit:log"),
            reverse("accounts:users"),
            reverse("accounts:invite"),
            reverse("accounts:user", args=[invited.user_id]),
            reverse("accounts:user", args=[agent.pk]),
            reverse("accounts:my_access"),
            reverse("accounts:access_requests"),
            reverse("accounts:entra"),  # sign-in with Microsoft Entra ID, a group mapped
            reverse("integrations:tokens"),  # a token listed, and the form
            reverse("integrations:webhooks"),  # an endpoint listed, and the form
            reverse("integrations:webhook", args=[endpoint.pk]),  # its delivery log
            reverse("notices:notices"),  # read and unread, the bell counting one
            reverse("socialaccount_connections"),
            reverse("support:create"),
            step_2,  # steps 2 and 3: the plans, and the form to describe the problem
            reverse("support:incidents"),
            reverse("cases:list"),
            f"{reverse('cases:list')}?state=nonsense",  # a filter in error, said
            reverse("cases:case", args=[case.pk]),  # its conversation, a note to add
            reverse("cases:ledger", args=[contract.pk]),
            reverse("cases:advisory"),  # hours left, the requests, the form
            reverse("cancellations:offers"),
            reverse("cancellations:offer", args=[offer.pk]),  # why it can't be cancelled
            reverse("cancellations:offer", args=[fresh.pk]),  # the form
            reverse("cancellations:offer", args=[waiting.pk]),  # waiting; one declined
            reverse("account_change_password"),
            reverse("account_email"),
            reverse("usersessions_list"),
            reverse("mfa_index"),
            reverse("mfa_deactivate_totp"),
            reverse("mfa_reauthenticate"),
            reverse("mfa_view_recovery_codes"),
            reverse("mfa_generate_recovery_codes"),
            reverse("account_logout"),  # "Are you sure you want to sign out?"
            "/no/such/page",  # 404
        ],
        "member@contoso.example": [
            reverse("entitlements:technical_benefits"),  # no role in the company
            reverse("contract_holders"),  # 403
            reverse("accounts:my_access"),  # no role: the request form, and their requests
            reverse("mfa_activate_totp"),
            reverse("account_reauthenticate"),
        ],
        # Action Pack: no cloud support, said on both sides.
        "admin@fabrikam.example": [
            reverse("entitlements:technical_benefits"),
            reverse("entitlements:software"),
            reverse("entitlements:go_to_market"),  # no marketing contact yet
            reverse("customers:customers"),  # not in CSP: told so
            reverse("cases:advisory"),  # Action Pack: presales uses hours
            reverse("support:create"),
            reverse("support:incidents"),
        ],
        # Users read-only, and as a User admin sees a Global admin's page: nothing to change.
        "mpnadmin@contoso.example": [reverse("accounts:users")],
        # Software for an Admin agent: Get keys disabled, who can named.
        # An offer, and who may ask to cancel it.
        "agent@contoso.example": [
            reverse("entitlements:software"),
            reverse("entitlements:visual_studio"),  # who can assign, named
            reverse("entitlements:go_to_market"),  # who can set the contact, named
            reverse("cancellations:offer", args=[fresh.pk]),
        ],
        "useradmin@contoso.example": [
            reverse("accounts:users"),
            reverse("accounts:invite"),
            reverse("accounts:user", args=[admin.pk]),
        ],
        "agent@tailspin.example": [
            reverse("entitlements:technical_benefits"),
            reverse("customers:customers"),
            # A degraded service with its open incident, and one resolved yesterday.
            reverse("customers:customer", args=[fourth_coffee.pk]),
            reverse("customers:new_request", args=[fourth_coffee.pk]),
            reverse("customers:requests"),  # the demo's billing request
            f"{reverse('customers:requests')}?customer={fourth_coffee.pk}&state=nonsense",
            reverse("cases:case", args=[fourth_coffee.requests.get().pk]),
        ],
        "support@benefits.example": [reverse("accounts:my_access")],  # no company
        # Not yet moved from Partner Membership Center: told so, offered no action.
        "admin@adventureworks.example": [
            reverse("entitlements:technical_benefits"),
            reverse("entitlements:cloud"),
            reverse("cancellations:offers"),
        ],
        "admin@northwind.example": [
            reverse("entitlements:technical_benefits"),
            reverse("entitlements:software"),  # no software benefits
        ],
        None: [
            reverse("account_login"),
            reverse("account_reset_password"),
            reverse("account_reset_password_done"),
            "/accounts/password/reset/key/1-not-a-key/",  # a used or mistyped reset link
            reverse("account_signup"),  # closed: accounts are made for people
            reverse("account_inactive"),
            reverse("accounts:invitation", args=[invited.key]),  # choose a password
            reverse("accounts:invitation", args=[withdrawn.key]),  # a withdrawn link
            reverse("accounts:invitation", args=["not-a-key"]),  # 404
            "/no/such/page",
        ],
    }


def checking(browser, width, **options):
    """A browser context at `width` px, axe-core loaded in each page it opens (given once for
    the context: sending it to every page took as long as running it), under the portal's own
    Content Security Policy."""
    context = browser.new_context(viewport={"width": width, "height": 800}, **options)
    context.add_init_script(path=str(AXE))
    return context


def problems_of(page):
    """What is wrong with the page as shown: sideways scrolling, serious axe violations."""
    found = []
    width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if width[0] > width[1]:
        found.append(f"scrolls sideways: {width[0]} px wide in {width[1]} px")
    violations = page.evaluate(AXE_VIOLATIONS)
    found += [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    return found


# A test per language, so that test processes side by side share the sweep.
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_at_a_phone_and_a_desktop(browser, portal, sign_in_as, axe, language):
    pages = the_pages()
    signed_in = {}
    for email in (email for email in pages if email):
        context = browser.new_context()
        sign_in_as(context.new_page(), email, PASSWORD)
        signed_in[email] = context.storage_state()
        context.close()

    problems = []
    # Each account reads the language it keeps (signing in kept the browser's).
    User.objects.update(language=language)
    for width in WIDTHS:
        for email, paths in pages.items():
            context = checking(browser, width, storage_state=signed_in.get(email))
            context.add_cookies([{"name": "django_language", "value": language, "url": portal}])
            page = context.new_page()
            for path in paths:
                page.goto(portal + path)
                assert page.locator("html").get_attribute("lang") == language, page.url
                # Every expander open, so what they hold is checked too.
                page.evaluate(
                    "document.querySelectorAll('main details').forEach(d => { d.open = true; })"
                )
                problems += [
                    f"{email} {language} {width}px {path}: {problem}"
                    for problem in problems_of(page)
                ]
            context.close()
    assert problems == []


def test_the_two_factor_step_of_signing_in(browser, portal):
    """The page between the password and the session, in each language and width."""
    problems = []
    for language in LANGUAGES:
        # Each account reads the language it keeps (signing in kept the browser's).
        User.objects.update(language=language)
        for width in WIDTHS:
            context = checking(browser, width)
            context.add_cookies([{"name": "django_language", "value": language, "url": portal}])
            page = context.new_page()
            page.goto(f"{portal}/accounts/login/")
            page.locator("input[name=login]").fill("admin@contoso.example")
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_url("**/accounts/2fa/authenticate/")
            problems += [f"{language} {width}px: {problem}" for problem in problems_of(page)]
            context.close()
    assert problems == []


def test_the_error_pages_that_render_without_the_portal(browser, portal, rf):
    """The 500 page (rendered with no request or database) and the expired-page 403 (a form
    whose CSRF token no longer holds), as Django's own views render them, served at a
    portal address so that they load the portal's stylesheet."""
    from django.utils import translation
    from django.views.csrf import csrf_failure
    from django.views.defaults import server_error

    def serve(html):
        return lambda route: route.fulfill(body=html, content_type="text/html")

    problems = []
    for language in LANGUAGES:
        with translation.override(language):
            pages = {
                "/__500": server_error(rf.get("/")).content.decode(),
                "/__403_csrf": csrf_failure(rf.post("/")).content.decode(),
            }
        for width in WIDTHS:
            context = checking(browser, width)
            page = context.new_page()
            for path, html in pages.items():
                page.route(portal + path, serve(html))
                page.goto(portal + path)
                assert page.locator("html").get_attribute("lang") == language, path
                assert page.locator('meta[name="viewport"]').count() == 1, path
                problems += [f"{language} {width}px {path}: {p}" for p in problems_of(page)]
            context.close()
    assert problems == []
