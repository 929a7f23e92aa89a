from django.urls import path
from django.utils.translation import gettext_lazy as _

from cloud import views as cloud_views

from . import views

app_name = "entitlements"

BENEFITS = "mpn/membership/benefits"

urlpatterns = [
    path(f"{BENEFITS}/technical", views.technical_benefits, name="technical_benefits"),
    path(
        f"{BENEFITS}/technical/<int:offer_id>/<slug:benefit>",
        views.benefit_detail,
        name="benefit_detail",
    ),
    path(
        f"{BENEFITS}/software", views.not_available_yet, {"title": _("Software")}, name="software"
    ),
    # The Cloud page is the cloud room's; its route keeps the name the menu links to.
    path(f"{BENEFITS}/cloud", cloud_views.cloud_page, name="cloud"),
    path(
        f"{BENEFITS}/visualstudio",
        views.not_available_yet,
        {"title": _("Visual Studio subscriptions")},
        name="visual_studio",
    ),
    path(
        f"{BENEFITS}/gotomarket",
        views.not_available_yet,
        {"title": _("Go-To-Market")},
        name="go_to_market",
    ),
]
