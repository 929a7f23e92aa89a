from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("customers", views.customers, name="customers"),
    path("customers/requests", views.requests, name="requests"),
    path("customers/<int:customer_id>", views.customer, name="customer"),
    path("customers/<int:customer_id>/requests/new", views.new_request, name="new_request"),
]
