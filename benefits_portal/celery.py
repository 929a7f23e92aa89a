import os
from pathlib import Path

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benefits_portal.settings")
# The embedded default's broker (broker.py), named in CELERY_BROKER_URL as atomicfs://.
TRANSPORT_ALIASES["atomicfs"] = "benefits_portal.broker:Transport"

app = Celery("benefits_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The filesystem transport does not make its own folders.
for folder in app.conf.broker_transport_options.values():
    if isinstance(folder, str) and folder.startswith("/"):
        Path(folder).mkdir(parents=True, exist_ok=True)
