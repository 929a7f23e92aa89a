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


@pytest.fixture
def people(db):
    """One company's people, a role each, and another company's Global admin."""
    from .factories import PartnerFactory, UserFactory

    contoso = PartnerFactory()
    return {
        "global": UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN]),
        "second_global": UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN]),
        "user_admin": UserFactory(partner=contoso, roles=[Role.USER_ADMIN]),
        "mpn": UserFactory(partner=contoso, roles=[Role.MPN_PARTNER_ADMIN]),
        "nobody": UserFactory(partner=contoso),
        "elsewhere": UserFactory(roles=[Role.GLOBAL_ADMIN]),
    }


def test_a_global_admin_grants_every_role_a_user_admin_all_but_global_admin(people):
    assert p.grantable_roles(people["global"]) == list(Role)
    assert Role.GLOBAL_ADMIN not in p.grantable_roles(people["user_admin"])
    assert set(p.grantable_roles(people["user_admin"])) == set(Role) - {Role.GLOBAL_ADMIN}
    assert p.grantable_roles(people["mpn"]) == []
    assert p.grantable_roles(people["nobody"]) == []


def test_a_user_admin_changes_neither_a_global_admin_nor_their_own_roles(people):
    user_admin = people["user_admin"]
    assert p.may_change_roles(user_admin, people["mpn"])
    assert p.may_change_roles(user_admin, people["nobody"])
    assert not p.may_change_roles(user_admin, people["global"])
    assert not p.may_change_roles(user_admin, user_admin)
    assert not p.may_manage(user_admin, people["global"])
    assert p.may_manage(user_admin, people["nobody"])


def test_a_global_admin_changes_anyone_in_the_company_and_their_own_roles(people):
    admin = people["global"]
    assert p.may_change_roles(admin, people["second_global"])
    assert p.may_change_roles(admin, admin)
    assert p.may_manage(admin, people["second_global"])
    assert not p.may_manage(admin, admin)  # deactivating or removing oneself: not here


def test_an_mpn_partner_admin_sees_roles_and_changes_nothing(people):
    mpn = people["mpn"]
    assert p.can(mpn, p.VIEW_ROLES)
    assert not p.may_change_roles(mpn, people["nobody"])
    assert not p.may_manage(mpn, people["nobody"])


def test_nobody_changes_another_companys_people(people):
    elsewhere = people["elsewhere"]
    for person in ("global", "user_admin", "nobody"):
        assert not p.may_change_roles(elsewhere, people[person])
        assert not p.may_manage(elsewhere, people[person])


def test_a_request_is_decided_by_someone_who_may_grant_its_role_never_the_requester(people):
    from accounts.models import AccessRequest

    def asking(person, role):
        return AccessRequest(partner=person.partner, user=person, role=role, reason="Need it")

    for_global = asking(people["nobody"], Role.GLOBAL_ADMIN)
    for_mpn = asking(people["nobody"], Role.MPN_PARTNER_ADMIN)
    assert p.may_decide(people["global"], for_global)
    assert not p.may_decide(people["user_admin"], for_global)
    assert p.may_decide(people["user_admin"], for_mpn)
    assert not p.may_decide(people["mpn"], for_mpn)
    assert not p.may_decide(people["elsewhere"], for_mpn)
    assert not p.may_decide(people["global"], asking(people["global"], Role.ADMIN_AGENT))


def test_a_time_boxed_role_past_its_end_grants_nothing_before_the_sweeper_runs(people):
    import datetime

    from django.utils import timezone

    nobody = people["nobody"]
    nobody.role_assignments.create(
        role=Role.MPN_PARTNER_ADMIN, expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert not p.can(nobody, p.VIEW_BENEFITS)
    later = type(nobody).objects.get(pk=nobody.pk)
    later.role_assignments.update(expires_at=timezone.now() + datetime.timedelta(days=1))
    assert p.can(later, p.VIEW_BENEFITS)


def test_my_access_can_say_every_capability_in_plain_words():
    every = frozenset().union(*p.CAPABILITIES.values())
    assert set(p.IN_PLAIN_WORDS) == every


def test_a_user_admin_decides_no_request_of_a_global_admin(people):
    from accounts.models import AccessRequest

    asked = AccessRequest(
        partner=people["global"].partner,
        user=people["global"],
        role=Role.ADMIN_AGENT,
        reason="Customers",
    )
    assert not p.may_decide(people["user_admin"], asked)
    assert p.may_decide(people["second_global"], asked)
