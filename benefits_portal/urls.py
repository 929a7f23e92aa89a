from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import entra_views, language
from api.api import urls as api_urls
from support import views as support_views

from . import health, views

CONTRACTS = "dashboard/mpn/membership/benefits/contracts"

admin.site.site_header = "Partner benefits: support staff"
admin.site.site_title = "Partner benefits admin"
# The admin signs in through allauth: the same rate limits and two-factor authentication.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("alive", views.alive, name="alive"),
    path("health", health.health, name="health"),
    path("", views.home, name="home"),
    # Parent paths a person might type, each to the nearest page.
    path("dashboard", views.home, name="dashboard"),
    path("dashboard/mpn", views.home, name="dashboard_mpn"),
    path("dashboard/mpn/membership", views.home, name="dashboard_membership"),
    path("dashboard/mpn/membership/benefits", views.home, name="dashboard_benefits"),
    path(
        "dashboard/account",
        RedirectView.as_view(pattern_name="audit:log"),
        name="dashboard_account",
    ),
    # Before allauth's own: Microsoft Entra ID's sign-in callback (accounts.entra_views).
    path("accounts/oidc/<str:provider_id>/login/callback/", entra_views.callback),
    path("accounts/", include("allauth.urls")),
    # Django's language switch, which also keeps a signed-in person's choice on the account.
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("entitlements.urls")),
    path("dashboard/", include("activation.urls")),
    path("dashboard/", include("audit.urls")),
    path("dashboard/", include("accounts.urls")),
    path("dashboard/", include("notices.urls")),
    path("dashboard/", include("cases.urls")),
    path("dashboard/", include("cancellations.urls")),
    path("dashboard/", include("cloud.urls")),
    path("dashboard/", include("software.urls")),
    path("dashboard/", include("devtools.urls")),
    path("dashboard/", include("marketing.urls")),
    path("dashboard/", include("api.urls")),
    path("api/v1/", api_urls()),
    path("dashboard/", include("customers.urls")),
    path("supportforbusiness/", include("support.urls")),
    # Who holds the company's support contracts, for its Global admins.
    path(CONTRACTS, support_views.contract_holders, name="contract_holders"),
    path(
        f"{CONTRACTS}/<int:contract_id>/holders/<int:link_id>/remove",
        support_views.remove_holder,
        name="remove_contract_holder",
    ),
    path(
        f"{CONTRACTS}/<int:contract_id>/reissue",
        support_views.reissue_ids,
        name="reissue_contract_ids",
    ),
]
