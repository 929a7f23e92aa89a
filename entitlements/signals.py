"""What other rooms learn of an offer without importing the rooms above them."""

from django.dispatch import Signal

# A benefit of an offer was used for the first time in a way that ends its refund (seed 003;
# later docs): an activation requested, a license key first viewed. Sent inside the
# transaction that used it, with the offer's row locked, with `offer` (the MembershipOffer),
# `user` (who used it) and `facts` (a dict of plain values saying what was used).
benefit_used = Signal()

# An account left its company's active users: deactivated, removed, or moved to another
# company. Sent inside that transaction with `user`, `actor` and `why` ("deactivated",
# "removed", "moved"): what the account held for the company ends with it (its API tokens).
account_left = Signal()
