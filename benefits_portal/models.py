from django.db import models


class LimitCounter(models.Model):
    """How many times one key (an action by an account or from an address) was counted in one
    fixed window. Kept in the database so that every web process shares it, with Redis or
    without, and counted with one atomic upsert (see benefits_portal.limits)."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_start"],
                name="limit_counter_once_per_window",
                violation_error_message="This key is already counted in that window.",
            )
        ]

    def __str__(self):
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.hits}"
