from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.home, name="home"),
    path("create", views.create, name="create"),
    path("contracts", views.contracts, name="contracts"),
    path("contracts/add", views.add_contract, name="add_contract"),
    path("incidents", views.incidents, name="incidents"),
]
