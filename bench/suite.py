"""The default run: every operation an IdP sends, one phase each, against one server.

``scim_load.py`` runs each phase on every server before moving to the next:
the machine's drift over the run then touches both sides of each ratio. The
phases share state (ids created by earlier phases), kept on the ``Suite``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from httpload import BodyCheck, Pool, Request
from payloads import (
    DEACTIVATE,
    Requests,
    add_members,
    expect_page,
    expect_total,
    group_document,
    remove_member,
    user_document,
    user_name,
)
from phases import CREATED, DELETED, OK, PATCHED, Limits, PhaseResult, ids_from, measure
from servers import Server

GROUP_BATCH = 100


@dataclass(frozen=True, slots=True)
class SuiteSizes:
    requests: int  # phases of cheap operations
    heavy: int  # list pages; groups (each gets one 100-member PATCH)
    warmup: int


class Suite:
    def __init__(
        self,
        runner: asyncio.Runner,
        server: Server,
        pool: Pool,
        sizes: SuiteSizes,
        limits: Limits,
        run_tag: str,
        seed: int,
    ) -> None:
        self._runner = runner
        self.server = server
        self._pool = pool
        self._sizes = sizes
        # Replaced before each phase by scim_load.py, which shares out the run's time budget.
        self.limits = limits
        self._run = run_tag
        # The same seed on every server: both receive the same sequence of requests.
        self._rng = random.Random(seed)
        self._req = Requests(server.endpoint, server.base_path)
        self._users: list[tuple[int, str]] = []  # (number, id)
        self._groups: list[str] = []
        self._members: dict[str, set[str]] = {}
        self._pairs: list[tuple[str, str]] = []  # (group id, user id) added one at a time
        self._tenant_size = 0

    def _measure(
        self,
        op: str,
        requests: list[Request],
        expect: frozenset[int],
        check: BodyCheck | None = None,
    ) -> PhaseResult:
        result, _ = measure(
            self._runner, self.server, self._pool, op, requests, expect, self.limits, check=check
        )
        return result

    def warm_up(self) -> None:
        """Touch every code path once, unmeasured, so first-call costs stay out of the figures."""
        count = self._sizes.warmup
        docs = [user_document(f"w{self._run}", i) for i in range(count)]
        load = self._runner.run(
            self._pool.run(
                [self._req.create_user(d) for d in docs],
                CREATED,
                time_limit_s=self.limits.time_limit_s,
                keep_bodies=True,
            )
        )
        created = [(n, i) for n, i in enumerate(ids_from(load, count)) if i is not None]
        ids = [i for _, i in created]
        self._tenant_size += len(ids)
        group = self._runner.run(
            self._pool.run(
                [self._req.create_group(group_document(f"w{self._run}", 0))],
                CREATED,
                time_limit_s=self.limits.time_limit_s,
                keep_bodies=True,
            )
        )
        group_ids = [g for g in ids_from(group, 1) if g is not None]
        requests = [self._req.get_user(i) for i in ids]
        requests += [self._req.filter_user_name(docs[0]["userName"]), self._req.list_page(1, 10)]
        requests += [self._req.patch_user(i, DEACTIVATE) for i in ids[:5]]
        requests += [self._req.replace_user(i, docs[n]) for n, i in created[:5]]
        for g in group_ids:
            requests.append(self._req.patch_group(g, add_members(ids[:5])))
            requests += [self._req.patch_group(g, remove_member(i)) for i in ids[:5]]
            requests.append(self._req.get_group_without_members(g))
        self._runner.run(
            self._pool.run(
                requests,
                frozenset({200, 204}),
                time_limit_s=self.limits.time_limit_s,
            )
        )

    # -- phases, in the order they run --------------------------------------------

    def create_user(self) -> PhaseResult | None:
        count = self._sizes.requests
        requests = [self._req.create_user(user_document(self._run, n)) for n in range(count)]
        result, load = measure(
            self._runner,
            self.server,
            self._pool,
            "create_user",
            requests,
            CREATED,
            self.limits,
            keep_bodies=True,
        )
        self._users = [(n, i) for n, i in enumerate(ids_from(load, count)) if i is not None]
        self._tenant_size += len(self._users)
        return result

    def get_user(self) -> PhaseResult | None:
        if not self._users:
            return None
        picks = [self._rng.choice(self._users)[1] for _ in range(self._sizes.requests)]
        return self._measure("get_user", [self._req.get_user(i) for i in picks], OK)

    def filter_eq_hit(self) -> PhaseResult | None:
        if not self._users:
            return None
        names = [
            user_name(self._run, self._rng.choice(self._users)[0])
            for _ in range(self._sizes.requests)
        ]
        requests = [self._req.filter_user_name(n) for n in names]
        return self._measure("filter_eq_hit", requests, OK, check=expect_total(1))

    def filter_eq_miss(self) -> PhaseResult | None:
        names = [f"nobody{n}.{self._run}@example.com" for n in range(self._sizes.requests)]
        requests = [self._req.filter_user_name(n) for n in names]
        return self._measure("filter_eq_miss", requests, OK, check=expect_total(0))

    def list_page_100(self) -> PhaseResult | None:
        if not self._users:
            return None
        count = min(100, self._tenant_size)
        last_start = max(1, self._tenant_size - count + 1)
        starts = [self._rng.randint(1, last_start) for _ in range(self._sizes.heavy)]
        requests = [self._req.list_page(s, count) for s in starts]
        return self._measure("list_page_100", requests, OK, check=expect_page(count))

    def put_user(self) -> PhaseResult | None:
        if not self._users:
            return None
        requests = []
        for k in range(self._sizes.requests):
            number, user_id = self._users[k % len(self._users)]
            revision = k // len(self._users) + 1
            document = user_document(self._run, number, revision=revision)
            requests.append(self._req.replace_user(user_id, document))
        return self._measure("put_user", requests, OK)

    def patch_deactivate(self) -> PhaseResult | None:
        if not self._users:
            return None
        ids = [self._users[k % len(self._users)][1] for k in range(self._sizes.requests)]
        requests = [self._req.patch_user(i, DEACTIVATE) for i in ids]
        return self._measure("patch_deactivate", requests, PATCHED)

    def create_group(self) -> PhaseResult | None:
        count = self._sizes.heavy
        requests = [self._req.create_group(group_document(self._run, n)) for n in range(count)]
        result, load = measure(
            self._runner,
            self.server,
            self._pool,
            "create_group",
            requests,
            CREATED,
            self.limits,
            keep_bodies=True,
        )
        self._groups = [g for g in ids_from(load, count) if g is not None]
        self._members = {g: set() for g in self._groups}
        return result

    def add_100_members(self) -> PhaseResult | None:
        if not self._users or not self._groups:
            return None
        ids = [i for _, i in self._users]
        # Leave non-members in every group for the single-member phases that follow.
        batch = max(1, min(GROUP_BATCH, len(ids) // 2))
        requests = []
        for position, group in enumerate(self._groups):
            start = position * batch
            members = [ids[(start + k) % len(ids)] for k in range(batch)]
            self._members[group].update(members)
            requests.append(self._req.patch_group(group, add_members(members)))
        return self._measure("add_100_members", requests, PATCHED)

    def _single_member_pairs(self) -> list[tuple[str, str]]:
        """(group, user) pairs not yet members: each add later has a matching remove."""
        ids = [i for _, i in self._users]
        pairs: list[tuple[str, str]] = []
        for k in range(self._sizes.requests):
            group = self._groups[k % len(self._groups)]
            offset = self._rng.randrange(len(ids))
            for probe in range(len(ids)):  # bounded: stops at the first non-member
                user = ids[(offset + probe) % len(ids)]
                if user not in self._members[group]:
                    self._members[group].add(user)
                    pairs.append((group, user))
                    break
        return pairs

    def add_member(self) -> PhaseResult | None:
        if not self._users or not self._groups:
            return None
        pairs = self._single_member_pairs()
        requests = [self._req.patch_group(g, add_members([u])) for g, u in pairs]
        result, load = measure(
            self._runner, self.server, self._pool, "add_member", requests, PATCHED, self.limits
        )
        # Remove only who joined: a phase cut short by its time limit added fewer.
        self._pairs = [pairs[k] for k in sorted(load.succeeded)]
        return result

    def remove_member(self) -> PhaseResult | None:
        if not self._pairs:
            return None
        requests = [self._req.patch_group(g, remove_member(u)) for g, u in self._pairs]
        return self._measure("remove_member", requests, PATCHED)

    def get_group_no_members(self) -> PhaseResult | None:
        if not self._groups:
            return None
        picks = [self._rng.choice(self._groups) for _ in range(self._sizes.requests)]
        requests = [self._req.get_group_without_members(g) for g in picks]
        return self._measure("get_group_no_members", requests, OK)

    def delete_user(self) -> PhaseResult | None:
        if not self._users:
            return None
        count = min(self._sizes.requests, len(self._users))
        requests = [self._req.delete_user(i) for _, i in self._users[:count]]
        return self._measure("delete_user", requests, DELETED)


PHASES: list[tuple[str, Callable[[Suite], PhaseResult | None]]] = [
    ("create_user", Suite.create_user),
    ("get_user", Suite.get_user),
    ("filter_eq_hit", Suite.filter_eq_hit),
    ("filter_eq_miss", Suite.filter_eq_miss),
    ("list_page_100", Suite.list_page_100),
    ("put_user", Suite.put_user),
    ("patch_deactivate", Suite.patch_deactivate),
    ("create_group", Suite.create_group),
    ("add_100_members", Suite.add_100_members),
    ("add_member", Suite.add_member),
    ("remove_member", Suite.remove_member),
    ("get_group_no_members", Suite.get_group_no_members),
    ("delete_user", Suite.delete_user),
]
