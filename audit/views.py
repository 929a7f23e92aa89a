from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from entitlements.permissions import VIEW_AUDIT_LOG, capability_required

from .models import AuditEntry

PER_PAGE = 50


@require_GET
@capability_required(VIEW_AUDIT_LOG)
def audit_log(request, partner):
    entries = AuditEntry.objects.filter(partner=partner).select_related("actor")
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "partner": partner})
