import datetime
import uuid
from pathlib import Path

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from accounts.models import sync_email_address
from entitlements.models import Competency, MembershipOffer, Partner, Role
from entitlements.permissions import needs_two_factor
from entitlements.rules import Level, OfferKind
from entitlements.services import save_offer, set_roles

PASSWORD = "Partner!2026"  # noqa: S105 - the documented demo password
# Every role that sees the Access ID and Contract ID (Global admin, MPN partner admin, Admin
# agent) and support staff must use an authenticator app; the demo ones share this
# published secret (add it to any authenticator app, or: oathtool --totp -b SECRET).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - demo only, published

# name, MPN ID, associated with MPN, in CSP, not yet moved from Partner Membership Center
PARTNERS = {
    "contoso": ("Contoso Ltd", "4412345", True, True, False),
    "fabrikam": ("Fabrikam Inc", "4423456", True, False, False),
    "northwind": ("Northwind Traders", "4434567", True, False, False),
    "tailspin": ("Tailspin Toys", "", False, True, False),
    "wideworld": ("Wide World Importers", "4445678", True, False, False),
    "adventureworks": ("Adventure Works", "4456789", True, False, True),
}
# company, kind, competency, level, days since it started (a year each: Northwind's ended a
# month ago; Wide World's is young enough to cancel for a refund, seed 003's 30 days)
OFFERS = [
    ("contoso", OfferKind.COMPETENCY, "Cloud Platform", Level.GOLD, 120),
    ("contoso", OfferKind.COMPETENCY, "Data Analytics", Level.SILVER, 120),
    ("fabrikam", OfferKind.ACTION_PACK, None, "", 120),
    ("northwind", OfferKind.COMPETENCY, "Datacenter", Level.SILVER, 395),
    ("wideworld", OfferKind.ACTION_PACK, None, "", 12),
    ("adventureworks", OfferKind.COMPETENCY, "Security", Level.SILVER, 60),
]
# email, first name, last name, company, roles
PEOPLE = [
    ("admin@contoso.example", "Megan", "Bowen", "contoso", [Role.GLOBAL_ADMIN]),
    ("mpnadmin@contoso.example", "Adele", "Vance", "contoso", [Role.MPN_PARTNER_ADMIN]),
    ("agent@contoso.example", "Lee", "Gu", "contoso", [Role.ADMIN_AGENT]),
    ("useradmin@contoso.example", "Nestor", "Wilke", "contoso", [Role.USER_ADMIN]),
    ("member@contoso.example", "Pradeep", "Gupta", "contoso", []),
    ("admin@fabrikam.example", "Diego", "Siciliani", "fabrikam", [Role.GLOBAL_ADMIN]),
    ("admin@northwind.example", "Isaiah", "Langer", "northwind", [Role.GLOBAL_ADMIN]),
    ("agent@tailspin.example", "Lynne", "Robbins", "tailspin", [Role.ADMIN_AGENT]),
    ("admin@wideworld.example", "Alex", "Wilber", "wideworld", [Role.GLOBAL_ADMIN]),
    ("admin@adventureworks.example", "Johanna", "Lorenz", "adventureworks", [Role.GLOBAL_ADMIN]),
]
SUPPORT_STAFF = ("support@benefits.example", "Joni", "Sherman")
# The Cloud page's catalogue: product, delivery, {(kind, level): what each offer includes}.
CATALOGUE_SINCE = datetime.date(2020, 1, 1)
CLOUD_PRODUCTS = [
    (
        "Microsoft Azure",
        "assigned_credit",
        {
            (OfferKind.ACTION_PACK, ""): {"monthly_credit": 100},
            (OfferKind.COMPETENCY, Level.SILVER): {"monthly_credit": 100},
            (OfferKind.COMPETENCY, Level.GOLD): {"monthly_credit": 150},
        },
    ),
    (
        "Microsoft 365 E3",
        "provisioned",
        {
            (OfferKind.ACTION_PACK, ""): {"licenses": 5, "activate_within_days": 365},
            (OfferKind.COMPETENCY, Level.SILVER): {"licenses": 10, "activate_within_days": 365},
            (OfferKind.COMPETENCY, Level.GOLD): {"licenses": 25, "activate_within_days": 365},
        },
    ),
    (
        "Dynamics 365 Sales",
        "keys",
        {
            (OfferKind.COMPETENCY, Level.SILVER): {"licenses": 5},
            (OfferKind.COMPETENCY, Level.GOLD): {"licenses": 10},
        },
    ),
]
# The software catalogue: name, version, editions, special instructions, and the keys each
# offer includes ((kind, level): keys), for offers started since 2020.
SOFTWARE = [
    (
        "Windows Server",
        "2022",
        "Standard, Datacenter",
        "Use the Datacenter key on virtualization hosts only; Standard covers two virtual "
        "machines per licensed server.",
        {
            (OfferKind.ACTION_PACK, ""): 1,
            (OfferKind.COMPETENCY, Level.SILVER): 2,
            (OfferKind.COMPETENCY, Level.GOLD): 5,
        },
    ),
    (
        "SQL Server",
        "2022",
        "Standard, Enterprise",
        "For internal use only: not for production workloads of your customers.",
        {
            (OfferKind.ACTION_PACK, ""): 1,
            (OfferKind.COMPETENCY, Level.SILVER): 2,
            (OfferKind.COMPETENCY, Level.GOLD): 5,
        },
    ),
    (
        "Office LTSC Professional Plus",
        "2021",
        "Volume license",
        "",
        {
            (OfferKind.ACTION_PACK, ""): 1,
            (OfferKind.COMPETENCY, Level.SILVER): 1,
            (OfferKind.COMPETENCY, Level.GOLD): 3,
        },
    ),
    (
        "Visio LTSC Professional",
        "2021",
        "",
        "",
        {(OfferKind.COMPETENCY, Level.SILVER): 1, (OfferKind.COMPETENCY, Level.GOLD): 2},
    ),
]
SOFTWARE_SINCE = datetime.date(2020, 1, 1)
# Visual Studio subscriptions: product, {(kind, level): how many each offer includes}.
VISUAL_STUDIO = [
    ("Visual Studio Enterprise", {(OfferKind.COMPETENCY, Level.GOLD): 5}),
    (
        "Visual Studio Professional",
        {(OfferKind.ACTION_PACK, ""): 3, (OfferKind.COMPETENCY, Level.SILVER): 3},
    ),
]
# Go-To-Market offers: benefit, offer, instructions emailed to the marketing contact, and the
# memberships that include it ((kind, level)).
SILVER, GOLD = (OfferKind.COMPETENCY, Level.SILVER), (OfferKind.COMPETENCY, Level.GOLD)
GO_TO_MARKET = [
    (
        "Microsoft Action Pack",
        "Partner listing in Microsoft solution finder",
        "Sign in to the partner marketing center and complete your company profile: the listing "
        "goes live within five business days.",
        [(OfferKind.ACTION_PACK, "")],
    ),
    (
        "Silver Core",
        "Marketing campaign in a box",
        "Download the campaign kit from the partner marketing center; customize it with your "
        "logo before use.",
        [SILVER],
    ),
    (
        "Silver Core",
        "Microsoft Partner Network logo",
        "Use the logo only as the brand guidelines in the kit describe.",
        [SILVER],
    ),
    (
        "Gold Core",
        "Customer case study",
        "Your Microsoft partner marketing manager will call to choose the customer story.",
        [GOLD],
    ),
    (
        "ISV Co-sell ready",
        "Co-sell with Microsoft sellers",
        "Publish your solution's one-pager and reference architecture in Partner Center.",
        [GOLD],
    ),
]
# Contoso's marketing contact: its MPN partner admin, at another address.
MARKETING_CONTACT = ("mpnadmin@contoso.example", "marketing@contoso.example", "+14255550100", "en")
# CSP: the online services customers subscribe to, with their management portal, and
# the CSP partners' customers (company, name, domain, delegated admin relationship, services).
SERVICES = [
    ("Dynamics 365", "https://admin.powerplatform.microsoft.com/"),
    ("Microsoft 365", "https://admin.microsoft.com/"),
    ("Microsoft Azure", "https://portal.azure.com/"),
]
CUSTOMERS = [
    (
        "tailspin",
        "Fourth Coffee",
        "fourthcoffee.onmicrosoft.com",
        "active",
        ["Microsoft 365", "Microsoft Azure"],
    ),
    ("tailspin", "Litware Inc", "litware.onmicrosoft.com", "active", ["Dynamics 365"]),
    ("tailspin", "Proseware", "proseware.onmicrosoft.com", "expired", ["Microsoft 365"]),
    (
        "contoso",
        "Wingtip Toys",
        "wingtiptoys.onmicrosoft.com",
        "active",
        ["Microsoft Azure", "Microsoft 365"],
    ),
    ("contoso", "Adatum Corporation", "adatum.onmicrosoft.com", "active", ["Microsoft 365"]),
]
DEMO_KEYS_PER_PRODUCT = 20
DEMO_FILES = Path(__file__).resolve().parents[3] / "software" / "demo_files"
# Invited by Contoso's Global admin; the link is in the email the portal printed or sent.
INVITED = ("newhire@contoso.example", "Miyu", "Sato")


class Command(BaseCommand):
    help = "Create the demo companies, offers and accounts. Safe to run again: adds what's missing."

    @transaction.atomic
    def handle(self, *args, **options):
        today = timezone.localdate()
        partners = {}
        for key, (name, mpn_id, mpn, csp, in_pmc) in PARTNERS.items():
            partners[key], _ = Partner.objects.get_or_create(
                name=name,
                defaults={
                    "mpn_id": mpn_id,
                    "is_mpn_associated": mpn,
                    "is_csp": csp,
                    "in_partner_membership_center": in_pmc,
                },
            )

        for key, kind, competency, level, age in OFFERS:
            starts_on = today - datetime.timedelta(days=age)
            held = MembershipOffer.objects.filter(
                partner=partners[key],
                kind=kind,
                competency=Competency.objects.get(name=competency) if competency else None,
            )
            if not held.exists():  # through the service, so the company's log shows it
                save_offer(
                    MembershipOffer(
                        partner=partners[key],
                        kind=kind,
                        competency=Competency.objects.get(name=competency) if competency else None,
                        level=level,
                        starts_on=starts_on,
                        ends_on=starts_on + datetime.timedelta(days=365),
                    )
                )

        rows = []
        for email, first, last, key, roles in PEOPLE:
            user = self._account(email, first, last, partner=partners[key])
            if not user.role_assignments.exists():
                set_roles(user, roles)
            labels = ", ".join(a.get_role_display() for a in user.role_assignments.all())
            rows.append((email, partners[key].name, labels or "no role"))

        self._people_and_access(partners["contoso"])
        self._cloud(partners["contoso"])
        self._software()
        self._visual_studio(partners["contoso"])
        self._go_to_market(partners["contoso"])
        self._customers(partners)

        email, first, last = SUPPORT_STAFF
        staff = self._account(email, first, last, partner=None, is_staff=True)
        staff.groups.add(Group.objects.get(name="Support staff"))
        rows.append((email, "support staff", "Django admin at /admin/"))

        for user in get_user_model().objects.filter(email__in=[row[0] for row in rows]):
            if needs_two_factor(user) and not Authenticator.objects.filter(user=user).exists():
                TOTP.activate(user, TOTP_SECRET)

        self.stdout.write(self.style.SUCCESS(f"Demo accounts (every password: {PASSWORD})"))
        self.stdout.write(
            f"Global admins, MPN partner admins, Admin agents and support staff also need a code "
            f"from an authenticator app set up "
            f"with the secret {TOTP_SECRET} (or: oathtool --totp -b {TOTP_SECRET})"
        )
        for email, company, roles in rows:
            self.stdout.write(f"  {email:<28} {company:<18} {roles}")

    def _cloud(self, contoso):
        """The cloud products of the catalogue, and Contoso's Azure credit assigned to its
        Global admin ("assign yourself", seed 003), through the service, as a person would."""
        from cloud import services as cloud

        for number, (name, delivery, included) in enumerate(CLOUD_PRODUCTS):
            product = _product(name, "cloud", delivery, included)
            if delivery == "keys":
                _pool(product, f"C{number}")
        admin = get_user_model().objects.get(email="admin@contoso.example")
        for row in cloud.cloud_benefits(contoso):
            if (
                row.product.delivery == "assigned_credit"
                and not row.offer.credit_assignments.exists()
            ):
                cloud.assign_credit(row, admin, admin)

    def _visual_studio(self, contoso):
        """The Visual Studio subscriptions of the catalogue, and one of Contoso's Gold ones
        assigned by its Global admin to its MPN partner admin, through the service."""
        from devtools import services as devtools

        for name, included in VISUAL_STUDIO:
            terms = {offer: {"licenses": count, "keys": 0} for offer, count in included.items()}
            _product(name, "visual_studio", "assigned_to_users", terms)
        User = get_user_model()
        admin = User.objects.get(email="admin@contoso.example")
        [gold, *_others] = devtools.subscriptions(contoso)
        if not gold.assigned:
            mpn_admin = User.objects.get(email="mpnadmin@contoso.example")
            devtools.assign(gold, 1, mpn_admin, admin)

    def _go_to_market(self, contoso):
        """The Go-To-Market offers of the catalogue, Contoso's marketing contact, and one of its
        offers activated by its Global admin, through the services and the activation engine,
        as a person would; Fabrikam has no contact, so its Activate is refused."""
        from activation import services as activation
        from marketing import services as marketing

        for benefit, name, instructions, included in GO_TO_MARKET:
            _product(
                name,
                "go_to_market",
                "provisioned",
                {offer: {"keys": 0} for offer in included},
                go_to_market_benefit=benefit,
                instructions=instructions,
            )
        User = get_user_model()
        admin = User.objects.get(email="admin@contoso.example")
        holder, email, phone, language = MARKETING_CONTACT
        if marketing.contact_of(contoso) is None:
            marketing.set_contact(
                contoso,
                admin,
                user=User.objects.get(email=holder),
                email=email,
                phone=PhoneNumber.from_string(phone),
                language=language,
                seen="",
            )
        [(_benefit, [row, *_others]), *_more] = marketing.go_to_market(contoso)
        if row.activation is None:
            request, _created = marketing.activate(row, admin)
            activation.complete_now(request.pk, None)

    def _customers(self, partners):
        """The services customers subscribe to, Tailspin's and Contoso's customers (Contoso is
        an MPN member and a CSP reseller both), and a health feed with
        Microsoft 365 degraded by an open incident and an Azure incident resolved yesterday,
        imported as support staff would."""
        from customers import services as customers
        from customers.models import Customer, Service, ServiceIncident, Subscription

        for name, portal in SERVICES:
            Service.objects.get_or_create(name=name, defaults={"portal_url": portal})
        for key, name, domain, relationship, subscribed in CUSTOMERS:
            customer, _ = Customer.objects.get_or_create(
                partner=partners[key],
                domain=domain,
                defaults={"name": name, "relationship": relationship},
            )
            for service in subscribed:
                Subscription.objects.get_or_create(
                    customer=customer, service=Service.objects.get(name=service)
                )
        self._demo_request(Customer.objects.get(domain=CUSTOMERS[0][2]))
        if ServiceIncident.objects.exists():
            return  # the feed is support staff's now
        now = timezone.now()
        customers.import_health(
            {
                "services": [
                    {
                        "name": "Microsoft 365",
                        "health": "degraded",
                        "incidents": [
                            {
                                "reference": "EX512345",
                                "title": "Some users can't open shared mailboxes in Outlook",
                                "impact": "Users may see an error when opening a shared "
                                "mailbox in Outlook on the web; their own mailbox works.",
                                "started_at": (now - datetime.timedelta(hours=3)).isoformat(),
                                "updated_at": (now - datetime.timedelta(minutes=40)).isoformat(),
                                "resolved_at": None,
                            }
                        ],
                    },
                    {
                        "name": "Microsoft Azure",
                        "health": "healthy",
                        "incidents": [
                            {
                                "reference": "AZ198765",
                                "title": "Virtual machines slow to start in West Europe",
                                "impact": "Starting a virtual machine took up to ten minutes.",
                                "started_at": (
                                    now - datetime.timedelta(days=1, hours=5)
                                ).isoformat(),
                                "updated_at": (now - datetime.timedelta(days=1)).isoformat(),
                                "resolved_at": (now - datetime.timedelta(days=1)).isoformat(),
                            }
                        ],
                    },
                ]
            },
            now=now,
        )

    def _demo_request(self, customer):
        """A billing request Tailspin's Admin agent filed for Fourth Coffee, once: its key is
        the same on every run."""
        from cases.models import Case
        from customers import services as customers

        customers.file_request(
            get_user_model().objects.get(email="agent@tailspin.example"),
            customer,
            uuid.uuid5(uuid.NAMESPACE_URL, "demo:fourth-coffee-billing"),
            service=customer.services.get(name="Microsoft 365"),
            category=Case.Category.BILLING,
            severity="C",
            title="Microsoft 365 Business Standard billed twice in November",
            description="Fourth Coffee's November invoice lists its 25 Microsoft 365 Business "
            "Standard licences twice. Their admin center shows 25 licences.",
            contact_name="Ana Bowman",
            contact_email="ana.bowman@fourthcoffee.example",
            contact_phone="+1 425 555 0142",
        )

    def _people_and_access(self, contoso):
        """Something on Contoso's Users and Access requests pages: a person invited and not yet
        joined (in Japanese), and an Admin agent asking to become MPN partner admin."""
        from accounts import access, people
        from accounts.models import AccessRequest

        User = get_user_model()
        admin = User.objects.get(email="admin@contoso.example")
        if not User.objects.filter(email=INVITED[0]).exists():
            people.invite(contoso, admin, *INVITED, [Role.ADMIN_AGENT], "ja")
        agent = User.objects.get(email="agent@contoso.example")
        if not AccessRequest.objects.filter(user=agent).exists():
            access.request_access(
                agent, Role.MPN_PARTNER_ADMIN, "I prepare the activations for our competencies."
            )

    def _software(self):
        """The software catalogue, a pool of fake keys for each product, and placeholder files
        in English, Japanese and Chinese for Windows 64-bit and 32-bit."""
        from django.core.files import File

        from software.models import Download, Inclusion, Product

        for number, (name, version, editions, instructions, included) in enumerate(SOFTWARE):
            product, _ = Product.objects.get_or_create(
                name=name,
                version=version,
                defaults={"editions": editions, "instructions": instructions},
            )
            for (kind, level), keys in included.items():
                Inclusion.objects.get_or_create(
                    product=product,
                    kind=kind,
                    level=level,
                    since=SOFTWARE_SINCE,
                    defaults={"keys": keys},
                )
            _pool(product, f"D{number}")
            for language in ("en", "ja", "zh-hans"):
                for system in ("windows_x64", "windows_x86"):
                    if Download.objects.filter(
                        product=product, language=language, operating_system=system
                    ).exists():
                        continue
                    download = Download(product=product, language=language, operating_system=system)
                    slug = f"{name}-{version}".lower().replace(" ", "-")
                    with open(DEMO_FILES / f"setup-{language}-{system}.txt", "rb") as source:
                        download.file.save(f"{slug}-{language}-{system}.txt", File(source))

    def _account(self, email, first, last, **fields):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            email=email, defaults={"first_name": first, "last_name": last, **fields}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        sync_email_address(user)
        return user


def _product(name, area, delivery, included, **fields):
    """The catalogue's product `name` of `area` (with `fields` when it is new), and its terms in
    offers since 2020: `included` maps (kind, level) to the Inclusion's fields. Returns the
    Product."""
    from software.models import Inclusion, Product

    product, _ = Product.objects.get_or_create(
        name=name, version="", defaults={"area": area, "delivery": delivery, **fields}
    )
    for (kind, level), terms in included.items():
        Inclusion.objects.get_or_create(
            product=product,
            kind=kind,
            level=level,
            competency=None,
            since=CATALOGUE_SINCE,
            defaults=terms,
        )
    return product


def _pool(product, prefix):
    """DEMO_KEYS_PER_PRODUCT fake license keys of `product` in the pool (none added twice)."""
    from software.models import LicenseKey

    LicenseKey.objects.bulk_create(
        [
            LicenseKey(
                product=product,
                key=f"{prefix}{n:03d}X-XXXXX-XXXXX-XXXXX-{product.version}X",
                loaded_at=timezone.now(),
            )
            for n in range(DEMO_KEYS_PER_PRODUCT)
        ],
        ignore_conflicts=True,  # loaded again: the pool's keys are unique
    )
