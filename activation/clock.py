"""The one clock of activation processing. Tests move it instead of sleeping."""

from django.utils import timezone


def now():
    return timezone.now()


def today():
    return timezone.localdate(now())
