from django.urls import path

from . import views

app_name = "devtools"

VISUAL_STUDIO = "mpn/membership/benefits/visualstudio"

urlpatterns = [
    path(
        f"{VISUAL_STUDIO}/<int:offer_id>/<int:product_id>/<int:number>/assign",
        views.assign,
        name="assign",
    ),
]
