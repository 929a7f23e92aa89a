from django.urls import path

from . import views

app_name = "cancellations"

OFFERS = "mpn/membership/offers"

urlpatterns = [
    path(OFFERS, views.offers, name="offers"),
    path(f"{OFFERS}/<int:offer_id>", views.offer, name="offer"),
    path(f"{OFFERS}/<int:offer_id>/cancel", views.request_cancellation, name="request"),
]
