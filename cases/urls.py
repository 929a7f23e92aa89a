from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("cases", views.case_list, name="list"),
    path("cases/advisory", views.advisory, name="advisory"),
    path("cases/<int:pk>", views.case_page, name="case"),
    path("cases/<int:pk>/note", views.add_note, name="note"),
    path("cases/<int:pk>/close", views.close, name="close"),
    path("cases/contracts/<int:contract_id>", views.ledger, name="ledger"),
]
