from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("customers", views.customers, name="customers"),
    path("customers/<int:customer_id>", views.customer, name="customer"),
]
