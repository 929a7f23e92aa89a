"""The entitlement table, as pure functions: no database."""

import pytest

from entitlements.rules import (
    AdvisoryHours,
    Benefit,
    Entitlement,
    Level,
    OfferKind,
    advisory_hours,
    technical_support,
)

AP, COMP = OfferKind.ACTION_PACK, OfferKind.COMPETENCY


@pytest.mark.parametrize(
    ("kind", "level", "cloud", "expected"),
    [
        (AP, None, False, [Entitlement(Benefit.PRODUCT_SUPPORT, 10)]),
        (
            COMP,
            Level.SILVER,
            True,
            [
                Entitlement(Benefit.PRODUCT_SUPPORT, 15),
                Entitlement(Benefit.SIGNATURE_CLOUD_SUPPORT, None),
            ],
        ),
        (
            COMP,
            Level.SILVER,
            False,
            [
                Entitlement(Benefit.PRODUCT_SUPPORT, 15),
                Entitlement(Benefit.SIGNATURE_CLOUD_SUPPORT, 5, "Signature 5-pack"),
            ],
        ),
        (
            COMP,
            Level.GOLD,
            True,
            [
                Entitlement(Benefit.PRODUCT_SUPPORT, 20),
                Entitlement(Benefit.SIGNATURE_CLOUD_SUPPORT, None),
            ],
        ),
        (
            COMP,
            Level.GOLD,
            False,
            [
                Entitlement(Benefit.PRODUCT_SUPPORT, 20),
                Entitlement(Benefit.SIGNATURE_CLOUD_SUPPORT, 10, "Signature 10-pack"),
            ],
        ),
    ],
)
def test_it_follows_the_entitlement_table(kind, level, cloud, expected):
    assert technical_support(kind, level, cloud) == expected


def entitlement(kind, level, cloud_competency, benefit):
    """One benefit of the table's row, or None when the row lacks it."""
    return next(
        (e for e in technical_support(kind, level, cloud_competency) if e.benefit == benefit), None
    )


def test_action_pack_has_no_cloud_support_even_if_asked_as_cloud():
    assert [e.benefit for e in technical_support(AP, None, True)] == [Benefit.PRODUCT_SUPPORT]
    assert entitlement(AP, None, False, Benefit.SIGNATURE_CLOUD_SUPPORT) is None


def test_unlimited_means_no_count():
    unlimited = entitlement(COMP, Level.GOLD, True, Benefit.SIGNATURE_CLOUD_SUPPORT)
    assert unlimited.is_unlimited
    assert not entitlement(COMP, Level.GOLD, False, Benefit.PRODUCT_SUPPORT).is_unlimited


def test_a_competency_needs_a_level():
    with pytest.raises(ValueError, match="Silver or Gold"):
        technical_support(COMP, None, False)
    with pytest.raises(ValueError, match="Silver or Gold"):
        technical_support(COMP, "platinum", False)


@pytest.mark.parametrize(
    ("offers", "expected"),
    [
        ([], None),
        ([(AP, None)], AdvisoryHours(5, presales_unlimited=False)),
        ([(COMP, Level.SILVER)], AdvisoryHours(20, presales_unlimited=True)),
        ([(COMP, Level.GOLD)], AdvisoryHours(50, presales_unlimited=True)),
        # Hours come with the best membership and are not added up.
        ([(AP, None), (COMP, Level.SILVER)], AdvisoryHours(20, presales_unlimited=True)),
        ([(COMP, Level.SILVER), (COMP, Level.GOLD)], AdvisoryHours(50, presales_unlimited=True)),
        ([(COMP, Level.GOLD), (COMP, Level.GOLD)], AdvisoryHours(50, presales_unlimited=True)),
    ],
)
def test_advisory_hours_follow_the_best_membership(offers, expected):
    assert advisory_hours(offers) == expected
