from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("notices", views.notices, name="notices"),
    path("notices/read", views.mark_all_read, name="mark_all_read"),
    path("notices/<int:notice_id>/read", views.mark_read, name="mark_read"),
]
