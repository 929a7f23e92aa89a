"""The role-to-capability map: the one place that says who may do what."""

import pytest

from entitlements import permissions as p
from entitlements.models import Role


@pytest.mark.parametrize(
    ("role", "view", "activate", "assign_roles"),
    [
        (Role.GLOBAL_ADMIN, True, True, True),
        (Role.MPN_PARTNER_ADMIN, True, True, False),
        (Role.ADMIN_AGENT, True, False, False),
        (Role.USER_ADMIN, False, False, True),
    ],
)
def test_each_role_gets_what_the_documents_say(role, view, activate, assign_roles):
    granted = p.CAPABILITIES[role]
    assert (p.VIEW_BENEFITS in granted) is view
    assert (p.ACTIVATE_BENEFITS in granted) is activate
    assert (p.ASSIGN_ROLES in granted) is assign_roles


def test_every_role_is_mapped():
    assert set(p.CAPABILITIES) == set(Role)


def test_only_global_and_mpn_partner_admins_activate():
    assert p.roles_that_can(p.ACTIVATE_BENEFITS) == [Role.GLOBAL_ADMIN, Role.MPN_PARTNER_ADMIN]


def test_only_global_admins_assign_any_role():
    assert p.roles_that_can(p.ASSIGN_ANY_ROLE) == [Role.GLOBAL_ADMIN]


def test_capabilities_of_several_roles_add_up(db):
    from .factories import UserFactory

    user = UserFactory(roles=[Role.ADMIN_AGENT, Role.USER_ADMIN])
    assert p.can(user, p.VIEW_BENEFITS)
    assert p.can(user, p.MANAGE_USERS)
    assert not p.can(user, p.ACTIVATE_BENEFITS)


def test_a_company_outside_mpn_gets_no_benefit_capability(db):
    from .factories import PartnerFactory, UserFactory

    csp = PartnerFactory(mpn_id="", is_mpn_associated=False, is_csp=True)
    user = UserFactory(partner=csp, roles=[Role.GLOBAL_ADMIN])
    assert not p.can(user, p.VIEW_BENEFITS)
    assert p.can(user, p.MANAGE_USERS)
