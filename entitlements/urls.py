from django.urls import path

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
    path(f"{BENEFITS}/software", views.not_available_yet, {"title": "Software"}, name="software"),
    path(f"{BENEFITS}/cloud", views.not_available_yet, {"title": "Cloud"}, name="cloud"),
    path(
        f"{BENEFITS}/visualstudio",
        views.not_available_yet,
        {"title": "Visual Studio subscriptions"},
        name="visual_studio",
    ),
    path(
        f"{BENEFITS}/gotomarket",
        views.not_available_yet,
        {"title": "Go-To-Market"},
        name="go_to_market",
    ),
]
