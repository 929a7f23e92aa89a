from django.urls import path

from cloud import views as cloud_views
from devtools import views as devtools_views
from marketing import views as marketing_views
from software import views as software_views

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
    # The Software, Cloud, Visual Studio and Go-To-Market pages live in their rooms; their
    # names stay here, where the menu finds them.
    path(f"{BENEFITS}/software", software_views.software, name="software"),
    path(f"{BENEFITS}/cloud", cloud_views.cloud_page, name="cloud"),
    path(f"{BENEFITS}/visualstudio", devtools_views.visual_studio, name="visual_studio"),
    path(f"{BENEFITS}/gotomarket", marketing_views.go_to_market, name="go_to_market"),
]
