"""`FleetLab`: the lab's services over a fleet of worlds (diagnose/lab/fleet.py lays it out).

Each account is one world of the single-account lab; the worlds share the tenant's principals,
its role assignments and definitions, and the vault and key objects their accounts use, so
what follows from a shared resource (a disabled principal revokes every account it serves) is
derived as in the single-account lab. ARM answers each path from the world that holds the
resource (the account, the vault, the identity, else the resource group or subscription),
applies ARM's per-subscription read throttle (a token bucket per subscription and principal:
250, refilled 25 a second, with `x-ms-ratelimit-remaining-subscription-reads`; docs/research/
audit-and-inventory-shapes.md §9) and serves Resource Graph over every world's resources with
its quota. Each vault has its own port (its own data-plane host); Graph, Entra ID, Cosmos DB
and Adobe answer from the first account's world (the lab's environment is that account's
profile, so a plain `run --lab fleet` checks it).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from diagnose.errors import InputError
from diagnose.lab import fleet as layout
from diagnose.lab.envfile import lab_env
from diagnose.lab.faults import INVALID_DOMAIN, SERVICES
from diagnose.lab.jwts import Signer
from diagnose.lab.keys import cached_rsa_key
from diagnose.lab.lab import Lab, _wrong_context, url_host
from diagnose.lab.roles import (
    COSMOS_DATA_CONTRIBUTOR,
    COSMOS_DATA_READER,
    KV_ADMINISTRATOR,
    KV_CRYPTO_SERVICE_ENCRYPTION_USER,
    KV_CRYPTO_USER,
    OWNER,
    READER,
)
from diagnose.lab.services import resourcegraph
from diagnose.lab.services.arm import Arm
from diagnose.lab.services.common import Context
from diagnose.lab.services.cosmos import Cosmos
from diagnose.lab.services.entra import Entra
from diagnose.lab.services.graph import Graph
from diagnose.lab.services.ims import Ims
from diagnose.lab.services.keyvault import KeyVault
from diagnose.lab.services.platform import Platform
from diagnose.lab.state import State
from diagnose.lab.transport import Endpoint, Request, Response, Server, Service
from diagnose.lab.world import (
    DAY,
    CosmosAccount,
    Key,
    Principal,
    RoleAssignment,
    Secret,
    SqlRoleAssignment,
    UserAssignedIdentity,
    Vault,
    World,
    healthy_world,
    stable_id,
)

ARM_READS = (
    250,
    25.0,
)  # bucket size, refill per second (published, per subscription and principal)
GRAPH_QUOTA = (15, 5.0)  # queries per window of seconds (published example)
THROTTLED_ARM_READS = (20, 5.0)  # fleet-throttled (lab's choice: small enough to be met)
THROTTLED_GRAPH_QUOTA = (1, 5.0)


class ReadBuckets:
    """ARM's token buckets: one per (subscription, principal), `size` tokens, `refill` a second."""

    def __init__(self, size: int, refill: float) -> None:
        self.size, self.refill = size, refill
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, subscription: str, principal: str) -> tuple[bool, int, float]:
        """(allowed, tokens left, seconds until a token is back) for one read."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get((subscription, principal), (float(self.size), now))
            tokens = min(float(self.size), tokens + (now - at) * self.refill)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[(subscription, principal)] = (tokens, now)
        wait = 0.0 if allowed else (1.0 - tokens) / self.refill
        return allowed, int(tokens), wait


class FleetArm(Service):
    """ARM over many worlds: each path answered by the world holding its resource."""

    name = "arm"

    def __init__(self, fleet: layout.Fleet, shards: list[Arm], throttled: bool) -> None:
        super().__init__(shards[0].state)
        self.fleet, self.shards, self.base = fleet, shards, shards[0]
        size, refill = THROTTLED_ARM_READS if throttled else ARM_READS
        self.reads = ReadBuckets(size, refill)
        limit, window = THROTTLED_GRAPH_QUOTA if throttled else GRAPH_QUOTA
        self.quota = resourcegraph.Quota(limit, window)
        self._index: dict[str, Arm] = {}
        for arm in reversed(shards):  # the first world holding a scope wins
            w = arm.world
            for scope in (w.subscription_scope, w.group_scope, w.vault.id, w.cosmos.id):
                self._index[scope.lower()] = arm
            for ident in w.identities:
                self._index[ident.id.lower()] = arm
        self._graph = re.compile(resourcegraph.PATH + "/?$", re.I)
        # Resource Graph lives on ARM's host: a service of its own, with ARM's error shapes
        self._resource_graph_service = Arm(self.base.ctx)
        self._resource_graph_service.route("POST", resourcegraph.PATH, self._resource_graph, re.I)

    def shard_for(self, path: str) -> Arm:
        parts = path.rstrip("/").lower().split("/")
        for end in range(len(parts), 2, -1):
            found = self._index.get("/".join(parts[:end]))
            if found is not None:
                return found
        return self.base

    def handle(self, req: Request) -> Response:
        if self._graph.match(req.path):
            return self._resource_graph_service.handle(req)
        parts = req.path.lower().split("/")
        subscription = parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else None
        caller = self._caller(req) if subscription and req.method == "GET" else None
        if subscription and caller:
            allowed, left, wait = self.reads.take(subscription, caller)
            if not allowed:
                return _arm_throttled(self.base, subscription, caller, wait)
            response = self.shard_for(req.path).handle(req)
            response.headers["x-ms-ratelimit-remaining-subscription-reads"] = str(left)
            return response
        return self.shard_for(req.path).handle(req)

    def _caller(self, req: Request) -> str | None:
        token = req.bearer()
        claims = self.base.ctx.signer.verify(token) if token else None
        return str(claims.get("oid")) if claims else None

    def _resource_graph(self, req: Request) -> Response:
        fleet = self.fleet

        def tables(scope: resourcegraph.Scope) -> dict[str, Any]:
            from diagnose.lab import kql

            rows: dict[str, dict[str, Any]] = {}
            for arm in self.shards:
                with arm.state.lock:
                    for row in resourcegraph.resource_rows(
                        arm.state, lambda rid: fleet.tags.get(rid.lower(), {})
                    ):
                        if scope.sees(arm.world, row["id"], row["type"]):
                            rows.setdefault(row["id"].lower(), row)
            return {
                "resources": kql.Table(resourcegraph.COLUMNS, list(rows.values())),
                "resourcechanges": kql.Table(resourcegraph.COLUMNS, []),
            }

        return resourcegraph.answer(
            self.base,
            req,
            tables,
            quota=self.quota,
            management_groups=fleet.subscriptions_below,
        )

    def is_write(self, req: Request) -> bool:
        return self.base.is_write(req)


def _arm_throttled(arm: Arm, subscription: str, caller: str, wait_s: float) -> Response:
    """ARM's 429 (token-bucket era body, docs/research/audit-and-inventory-shapes.md §9)."""
    seconds = max(1, int(-(-wait_s // 1)))
    response = arm.error(
        429,
        "SubscriptionRequestsThrottled",
        f"Number of 'read' requests for subscription '{subscription}' actor '{caller}' exceeded. "
        f"Please try again after '{seconds}' seconds after additional tokens are available. "
        "Refer to https://aka.ms/arm-throttling for additional information.",
    )
    response.headers.update(
        {"Retry-After": str(seconds), "x-ms-ratelimit-remaining-subscription-reads": "0"}
    )
    return response


LEGACY = layout.LEGACY_PRINCIPAL
LEGACY_APP = "ajo-cmk-legacy-app"
LEGACY_SECRET_DAYS = 20  # its secret ends inside a 30-day horizon (lab's choice)


def legacy_application(principals: dict[str, Principal], tenant: str, now: float) -> Principal:
    """The multi-tenant application the two broken accounts name (`UserAssignedIdentity=<id-cmk-
    legacy>&FederatedClientId=<its app id>`, as sp-disabled's world does: diagnose/lab/world.py
    `cmk_identity_as_application`), its service principal disabled. An application's principal is
    Graph's to enable (`az ad sp update --set accountEnabled=true`), so the printed fix heals it,
    where a managed identity's principal refuses the PATCH (docs/lab.md "Identity kinds"). It keeps
    a client secret that ends in LEGACY_SECRET_DAYS days, for `--horizon`."""
    object_id = stable_id(f"sp:{LEGACY_APP}")
    if object_id not in principals:
        principals[object_id] = Principal(
            object_id=object_id,
            app_id=stable_id(f"app:{LEGACY_APP}"),
            display_name=LEGACY_APP,
            enabled=False,
            owner_tenant=tenant,  # multi-tenant: signInAudience AzureADMultipleOrgs
            secrets=[Secret(secrets.token_urlsafe(30), now + LEGACY_SECRET_DAYS * DAY)],
        )
    return principals[object_id]


def build(
    spec: layout.FleetSpec,
    urls: dict[str, str],
    vault_urls: dict[str, str],
    client_certificate_der: bytes | None,
    now: float | None = None,
) -> layout.Fleet:
    """The fleet's worlds (one per account), sharing principals, assignments, vaults and keys."""
    now = time.time() if now is None else now
    material = cached_rsa_key("keyvault-cmk", 3072)  # lab's choice: every key has the same material
    base = healthy_world(urls, material, client_certificate_der, "own", now)
    tenant = base.tenant_id
    placements = layout.layout(spec)
    subs = [stable_id(f"fleet-subscription:{s}") for s in range(spec.subscriptions)]
    principals: dict[str, Principal] = {
        p.object_id: p for p in (base.diagnoser, base.admin, base.principals[base.caller_id])
    }
    assignments: list[RoleAssignment] = []
    for sid in subs:
        scope = f"/subscriptions/{sid}"
        assignments += [
            RoleAssignment(stable_id(f"ra:reader:{sid}"), scope, READER, base.diagnoser_id),
            RoleAssignment(stable_id(f"ra:owner:{sid}"), scope, OWNER, base.admin_id),
            RoleAssignment(stable_id(f"ra:kvadmin:{sid}"), scope, KV_ADMINISTRATOR, base.admin_id),
        ]
    vaults: dict[str, Vault] = {}
    identities: dict[str, UserAssignedIdentity] = {}
    granted: set[tuple[str, str]] = set()
    worlds: list[World] = []
    tags: dict[str, dict[str, str]] = {}
    for p in placements:
        sid = subs[p.subscription]
        group = f"/subscriptions/{sid}/resourceGroups/{p.group}"
        vault = vaults.get(p.vault)
        if vault is None:
            vault = vaults[p.vault] = Vault(
                id=f"{group}/providers/Microsoft.KeyVault/vaults/{p.vault}",
                name=p.vault,
                url=vault_urls[p.vault],
                location=base.location,
            )
            assignments.append(
                RoleAssignment(
                    stable_id(f"ra:crypto-user:{p.vault}"),
                    vault.id,
                    KV_CRYPTO_USER,
                    base.diagnoser_id,
                )
            )
        if p.key not in vault.keys:
            vault.keys[p.key] = Key(
                name=p.key,
                version=stable_id(f"key-version:{p.vault}/{p.key}").replace("-", ""),
                private_key=material,
                enabled=p.key != layout.SOLO_KEY,
                nbf=now - 365 * DAY,
                exp=now + 365 * DAY,
                created=now - 365 * DAY,
                updated=now - 365 * DAY,
            )
        ident = identities.get(p.principal)
        if ident is None:
            home = f"/subscriptions/{subs[0]}/resourceGroups/rg-ajo-identities"
            ident = identities[p.principal] = UserAssignedIdentity(
                id=f"{home}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{p.principal}",
                name=p.principal,
                client_id=stable_id(f"app:{p.principal}"),
                principal_id=stable_id(f"sp:{p.principal}"),
            )
            principals[ident.principal_id] = Principal(
                object_id=ident.principal_id,
                app_id=ident.client_id,
                display_name=p.principal,
                type="ManagedIdentity",
            )
        app = legacy_application(principals, tenant, now) if p.principal == LEGACY else None
        # the principal Key Vault sees: the application's when the account names one
        cmk_principal = app.object_id if app else ident.principal_id
        if (cmk_principal, vault.id) not in granted:
            granted.add((cmk_principal, vault.id))
            assignments.append(
                RoleAssignment(
                    stable_id(f"ra:cmk:{p.principal}:{p.vault}"),
                    vault.id,
                    KV_CRYPTO_SERVICE_ENCRYPTION_USER,
                    cmk_principal,
                )
            )
        default_identity = f"UserAssignedIdentity={ident.id}"
        if app:
            default_identity += f"&FederatedClientId={app.app_id}"
        account = CosmosAccount(
            id=f"{group}/providers/Microsoft.DocumentDB/databaseAccounts/{p.name}",
            name=p.name,
            endpoint=urls["cosmos"].rstrip("/") + "/",
            location=base.location,
            key_uri=vault.key_uri(p.key),
            default_identity=default_identity,
            user_assigned=[ident.id],
            sql_role_assignments=[
                SqlRoleAssignment(
                    stable_id("sql:diagnoser"), COSMOS_DATA_READER, base.diagnoser_id
                ),
                SqlRoleAssignment(stable_id("sql:caller"), COSMOS_DATA_CONTRIBUTOR, base.caller_id),
            ],
        )
        tags[account.id.lower()] = dict(p.tags)
        worlds.append(
            dataclasses.replace(
                base,
                subscription_id=sid,
                resource_group=p.group,
                principals=principals,
                role_assignments=assignments,
                vault=vault,
                identities=[ident],
                cosmos=account,
                cmk_principal_id=cmk_principal,
                key_name=p.key,
                management_groups=[layout.management_group(p.subscription), tenant],
            )
        )
    return layout.Fleet(spec, placements, worlds, subs, tags)


class FleetLab(Lab):
    """A `Lab` whose world is a fleet (`fleet`, `fleet:N`, `fleet-throttled[:N]`)."""

    # no Log Analytics (the timeline's) in a fleet
    service_names = tuple(s for s in SERVICES if s != "loganalytics")

    def __init__(self, scenario: str = layout.NAME, **options: Any) -> None:
        try:
            spec = layout.parse(scenario)
        except layout.BadFleetName as exc:
            raise InputError(str(exc)) from None
        if spec is None:
            raise InputError(f"{scenario!r} is not a fleet scenario")
        super().__init__(layout.NAME, **options)
        self.scenario = scenario
        self.spec = spec
        self.fleet: layout.Fleet | None = None  # set by start()
        self.states: list[State] = []

    def _start(self, hosts: list[str], socks: list[socket.socket]) -> None:
        self._stop = threading.Event()
        self._dir = Path(tempfile.mkdtemp(prefix="diagnose-lab-fleet-"))
        self._publish_urls(hosts, socks)
        vault_host = hosts[self.service_names.index("vault")]
        shown_vault = url_host(vault_host)
        if self.faults.lasting("vault", "dns"):  # every vault's host: nothing resolves it
            shown_vault = f"vault.{INVALID_DOMAIN}"
        vault_names = list(dict.fromkeys(p.vault for p in layout.layout(self.spec)))
        vault_socks = {vault_names[0]: socks[self.service_names.index("vault")]}
        for name in vault_names[1:]:
            vault_socks[name] = Server.bind(vault_host)
            socks.append(vault_socks[name])  # closed by start() if anything below fails
        vault_urls = {
            name: f"https://{shown_vault}:{sock.getsockname()[1]}/"
            for name, sock in vault_socks.items()
        }
        context, der = self._write_tls(hosts)
        fleet = build(self.spec, self.urls, vault_urls, der)
        self.fleet, self.world = fleet, fleet.worlds[0]
        base_state = State(fleet.worlds[0], self.propagation_s)
        self.states = [base_state]
        for world in fleet.worlds[1:]:
            state = State(world, self.propagation_s)
            state.lock, state.requests = base_state.lock, base_state.requests  # one log, one lock
            self.states.append(state)
        self._state = base_state
        signer = Signer(cached_rsa_key("token-signing", 2048))
        contexts = [Context(s, signer, self.urls) for s in self.states]
        self._server = Server(context, self._stop)
        base_ctx = contexts[0]
        services: dict[str, Service] = {
            "entra": Entra(base_ctx),
            "graph": Graph(base_ctx),
            "arm": FleetArm(fleet, [Arm(c) for c in contexts], self.spec.throttled),
            "vault": KeyVault(base_ctx),
            "cosmos": Cosmos(base_ctx),
            "ims": Ims(base_ctx),
            "platform": Platform(base_ctx),
        }
        latency = self.latency_ms / 1000
        faults = self.faults
        wrong_tls = _wrong_context(hosts) if self._has_kind("wrong-cert") else None
        for name, sock in zip(self.service_names, socks, strict=False):  # then the vaults
            if self._unreachable(name):
                sock.close()
                continue
            endpoint = Endpoint(services[name], base_state, self.urls[name], self._stop, latency)
            endpoint.faults, endpoint.wrong_tls = faults, wrong_tls
            self._server.add(sock, endpoint)
        first_of_vault: dict[str, Context] = {}
        for ctx, world in zip(contexts, fleet.worlds, strict=True):
            first_of_vault.setdefault(world.vault.name, ctx)
        for name, sock in list(vault_socks.items())[1:]:
            if self._unreachable("vault"):
                sock.close()
                continue
            endpoint = Endpoint(
                KeyVault(first_of_vault[name]),
                base_state,
                vault_urls[name].rstrip("/"),
                self._stop,
                latency,
            )
            endpoint.faults, endpoint.wrong_tls = faults, wrong_tls
            self._server.add(sock, endpoint)
        self.env = lab_env(fleet.worlds[0], self.urls, self.ca_bundle)
        self._server.start()
