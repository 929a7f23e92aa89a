from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("account/auditlog", views.audit_log, name="log"),
    path("account/auditlog/export", views.audit_log_csv, name="csv"),
]
