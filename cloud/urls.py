from django.urls import path

from . import views

app_name = "cloud"

CLOUD = "mpn/membership/benefits/cloud"
ROW = f"{CLOUD}/<int:offer_id>/<int:product_id>"

urlpatterns = [
    path(ROW, views.row, name="row"),
    path(f"{ROW}/activate", views.activate, name="activate"),
    path(f"{ROW}/retry", views.retry, name="retry"),
    path(f"{ROW}/assign", views.assign, name="assign"),
    path(f"{ROW}/keys", views.get_keys, name="get_keys"),
    path(f"{CLOUD}/credit/<slug:code>", views.credit, name="credit"),
]
