from django.urls import path

from . import views

app_name = "marketing"

GO_TO_MARKET = "mpn/membership/benefits/gotomarket"
ROW = f"{GO_TO_MARKET}/<int:offer_id>/<int:product_id>"

urlpatterns = [
    path(f"{GO_TO_MARKET}/contact", views.contact, name="contact"),
    path(ROW, views.row, name="row"),
    path(f"{ROW}/activate", views.activate, name="activate"),
    path(f"{ROW}/retry", views.retry, name="retry"),
    path(f"{ROW}/instructions", views.send_instructions, name="send_instructions"),
]
