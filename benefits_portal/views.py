from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def alive(request):
    """For a load balancer's health check: the portal answers, touching nothing else."""
    return HttpResponse("ok", content_type="text/plain")
