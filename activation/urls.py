from django.urls import path

from . import views

app_name = "activation"

BENEFIT = "mpn/membership/benefits/technical/<int:offer_id>/<slug:benefit>"

urlpatterns = [
    path(f"{BENEFIT}/activate", views.activate, name="activate"),
    path(f"{BENEFIT}/retry", views.retry, name="retry"),
]
