"""The lifecycle rule on its own: who is enabled and which roles they hold."""

from __future__ import annotations

from scimgate.model.lifecycle import (
    BY_DISPLAY_NAME,
    BY_EXTERNAL_ID,
    BY_ID,
    DELETED,
    IDP_DEACTIVATED,
    LEFT_MAPPED_GROUPS,
    MULTIPLE,
    SINGLE,
    Effective,
    Match,
    Policy,
    UserFacts,
    recompute,
    rule_matches,
    state_for_active,
)

ENABLED = UserFacts(active=True, enabled=True, reason=None)
STRICT = Policy(SINGLE, "member", deactivate_unmapped=True)
ADMIN, DEV, DEV_TIED = Match("admin", 10, 2), Match("dev", 5, 3), Match("dev", 10, 1)


def test_the_idp_deactivating_a_user_disables_it_whatever_its_groups() -> None:
    assert state_for_active(False, True, deactivate_unmapped=False) == (False, IDP_DEACTIVATED)


def test_an_active_user_in_no_mapped_group_is_disabled_only_when_the_tenant_asks() -> None:
    assert state_for_active(True, False, deactivate_unmapped=True) == (False, LEFT_MAPPED_GROUPS)
    assert state_for_active(True, False, deactivate_unmapped=False) == (True, None)


def test_the_smallest_priority_wins_in_single_mode_and_ties_go_to_the_older_rule() -> None:
    user = UserFacts(True, True, None, (ADMIN, DEV))
    assert recompute(user, Policy(SINGLE)).roles == ("dev",)
    tied = UserFacts(True, True, None, (ADMIN, DEV_TIED))
    assert recompute(tied, Policy(SINGLE)).roles == ("dev",)


def test_multiple_mode_gives_every_matched_role_once_sorted() -> None:
    user = UserFacts(True, True, None, (DEV, ADMIN, DEV_TIED))
    assert recompute(user, Policy(MULTIPLE, "member")).roles == ("admin", "dev")


def test_a_user_matched_by_no_rule_gets_the_default_role_or_none() -> None:
    assert recompute(ENABLED, Policy(SINGLE, "member")).roles == ("member",)
    assert recompute(ENABLED, Policy(SINGLE, None)).roles == ()


def test_leaving_every_mapped_group_disables_and_coming_back_enables() -> None:
    assert recompute(ENABLED, STRICT) == Effective(False, LEFT_MAPPED_GROUPS, ())
    back = UserFacts(True, False, LEFT_MAPPED_GROUPS, (ADMIN,))
    assert recompute(back, STRICT) == Effective(True, None, ("admin",))


def test_a_recompute_never_enables_a_user_the_idp_deactivated_or_deleted() -> None:
    deactivated = UserFacts(False, False, IDP_DEACTIVATED, (ADMIN,))
    assert recompute(deactivated, STRICT) == Effective(False, IDP_DEACTIVATED, ())
    deleted = UserFacts(True, False, DELETED, (ADMIN,), deleted=True)
    assert recompute(deleted, STRICT) == Effective(False, DELETED, ())


def test_a_rule_matches_a_display_name_in_any_case_and_ids_exactly() -> None:
    assert rule_matches(BY_DISPLAY_NAME, "ENG", "Eng", None, "g1")
    assert rule_matches(BY_EXTERNAL_ID, "x1", "Eng", "x1", "g1")
    assert not rule_matches(BY_EXTERNAL_ID, "X1", "Eng", "x1", "g1")
    assert rule_matches(BY_ID, "g1", "Eng", None, "g1")
    assert not rule_matches(BY_ID, "Eng", "Eng", None, "g1")
