from django.urls import path

from . import views

app_name = "software"

SOFTWARE = "mpn/membership/benefits/software"

urlpatterns = [
    path(f"{SOFTWARE}/<int:offer_id>/<int:product_id>", views.product, name="product"),
    path(f"{SOFTWARE}/<int:offer_id>/<int:product_id>/keys", views.get_keys, name="get_keys"),
    path(f"{SOFTWARE}/downloads/<int:download_id>", views.download, name="download"),
]
