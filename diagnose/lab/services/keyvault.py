"""Key Vault data plane: the 401 challenge, key get/update, remote wrapkey/unwrapkey, real 403 bodies."""

from __future__ import annotations

import binascii
import re
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from diagnose.lab.derived import KEY_OPERATIONS, firewall_allows, key_allows
from diagnose.lab.keys import b64u, b64u_decode, b64u_uint
from diagnose.lab.services.common import AzureService, Context
from diagnose.lab.transport import Denied, Request, Response
from diagnose.lab.world import Key

_KEY = r"/keys/(?P<name>[^/]+)"
_DELETED = r"/deletedkeys/(?P<name>[^/]+)"
_VERSION = r"(?:/(?P<version>[^/]*))?"
# The operations Key Vault refuses outside a key's nbf/exp window (of those the lab serves).
TIME_BOUND_OPERATIONS = ("wrapKey",)
_ALGORITHMS = {
    "RSA-OAEP": lambda: padding.OAEP(
        mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None
    ),  # noqa: S303
    "RSA-OAEP-256": lambda: padding.OAEP(
        mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    ),
    "RSA1_5": padding.PKCS1v15,
}


class KeyVault(AzureService):
    name = "vault"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.route("GET", _KEY + _VERSION, self.get_key)
        self.route("PATCH", _KEY + _VERSION, self.update_key)
        self.route("POST", _KEY + _VERSION + r"/(?P<op>wrapkey|unwrapkey)", self.crypto)
        self.route("GET", _DELETED, self.get_deleted_key, re.I)
        self.route("POST", _DELETED + r"/recover", self.recover_key, re.I)

    def handle(self, req: Request) -> Response:
        # The SDK's first request carries no token (and an empty body): challenge before anything else.
        if not req.header("Authorization"):
            return self._challenge()
        return super().handle(req)

    def _challenge(self) -> Response:
        authority = f"{self.ctx.urls['entra']}/{self.world.tenant_id}"
        resp = self.error(401, "Unauthorized", "Request is missing a Bearer or PoP token.")
        resp.headers["WWW-Authenticate"] = (
            f'Bearer authorization="{authority}", resource="https://vault.azure.net"'
        )
        return resp

    def unauthenticated(self, req: Request, reason: str) -> Response:
        if reason.startswith("audience:"):
            resp = self.error(
                401,
                "Unauthorized",
                f"AKV10022: Invalid audience. Expected https://vault.azure.net, found: {reason.split(':', 1)[1]}.",
            )
        elif reason == "tenant":
            resp = self.error(
                401,
                "Unauthorized",
                "AKV10032: Invalid issuer. Expected one of the tenant's issuers.",
            )
        else:
            resp = self.error(
                401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."
            )
        resp.headers["WWW-Authenticate"] = self._challenge().headers["WWW-Authenticate"]
        return resp

    def not_found(self, req: Request) -> Response:
        return self.error(
            404,
            "NotFound",
            f"The requested resource '{req.path}' was not found. The request URI is not valid.",
        )

    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        inner = extra.pop("inner", None)
        body: dict[str, Any] = {"code": code, "message": message}
        if inner:
            body["innererror"] = {"code": inner}
        return Response(status, {"error": body})

    # -- checks -------------------------------------------------------------------------------------
    def _caller(self, claims: dict[str, Any]) -> str:
        return f"appid={claims.get('appid')};oid={claims.get('oid')};iss={claims.get('iss')}"

    def _vault_tag(self) -> str:
        v = self.world.vault
        return f"{v.name};location={v.location}"

    def _authorize(self, req: Request, operation: str, name: str) -> dict[str, Any]:
        claims = self.authenticate(req)
        w = self.world
        if not firewall_allows(w, trusted_service=False, client_ip=req.client_ip):
            # Key Vault's words by bypass: "caller was ignored because bypass is set to None"
            # (troubleshoot-cmk 1.1), else "caller is not a trusted service" (as public threads show it,
            # e.g. https://github.com/microsoft/azure-container-apps/issues/888)
            why = (
                "caller is not a trusted service."
                if "azureservices" in w.vault.bypass.lower()
                else "caller was ignored because bypass is set to None "
            )
            raise Denied(
                self.error(
                    403,
                    "Forbidden",
                    f"Client address is not authorized and {why}\r\nClient address: {req.client_ip}\r\nCaller: {self._caller(claims)}\r\nVault: {self._vault_tag()}",
                    inner="ForbiddenByFirewall",
                )
            )
        oid = str(claims.get("oid"))
        if key_allows(w, oid, operation, name):
            return claims
        if w.vault.rbac:
            action = KEY_OPERATIONS[operation][0]
            raise Denied(
                self.error(
                    403,
                    "Forbidden",
                    f"Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {self._caller(claims)}\r\nAction: '{action}'\r\nResource: '{w.vault.id.lower()}/keys/{name.lower()}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: {self._vault_tag()}\r\n",
                    inner="ForbiddenByRbac",
                )
            )
        raise Denied(
            self.error(
                403,
                "Forbidden",
                f"The user, group or application '{self._caller(claims)}' does not have keys {operation} permission on key vault '{self._vault_tag()}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
                inner="AccessDenied",
            )
        )

    def _key(self, name: str, version: str | None) -> Key:
        key = self.world.vault.keys.get(name)
        if key is None or key.deleted or (version and version != key.version):
            ident = f"{name}/{version}" if version else name
            raise Denied(
                self.error(
                    404,
                    "KeyNotFound",
                    f"A key with (name/id) {ident} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
                )
            )
        return key

    def _usable(self, key: Key, operation: str) -> None:
        """Key state, in this order: disabled, outside its nbf/exp window, operation not permitted.

        The window follows Key Vault's key attributes ("Operations outside the nbf / exp window
        are automatically disallowed, except for decrypt, release, unwrap, and verify",
        https://learn.microsoft.com/azure/key-vault/keys/about-keys-details#key-attributes):
        of the operations served here, only wrapKey is refused. The texts and inner codes of
        the refusals are *lab's choice* (docs/lab.md, "Sources"): Key Vault publishes none for
        an expired key; they follow its disabled-key answer.
        """
        if not key.enabled:
            raise Denied(
                self.error(
                    403,
                    "Forbidden",
                    f"Operation {operation} is not allowed on a disabled key.",
                    inner="KeyDisabled",
                )
            )
        if operation in TIME_BOUND_OPERATIONS:
            now = time.time()
            if key.nbf is not None and key.nbf > now:
                raise Denied(
                    self.error(
                        403,
                        "Forbidden",
                        f"Operation {operation} is not allowed on a key that is not yet valid.",
                        inner="KeyNotYetValid",
                    )
                )
            if key.exp is not None and key.exp <= now:
                raise Denied(
                    self.error(
                        403,
                        "Forbidden",
                        f"Operation {operation} is not allowed on an expired key.",
                        inner="KeyExpired",
                    )
                )
        if operation in ("wrapKey", "unwrapKey") and operation not in key.ops:
            raise Denied(
                self.error(
                    403,
                    "Forbidden",
                    f"Operation {operation} is not permitted on this key.",
                    inner="KeyOperationForbidden",
                )
            )

    # -- answers -----------------------------------------------------------------------------------
    def key_json(self, key: Key) -> dict[str, Any]:
        v = self.world.vault
        pub = key.private_key.public_key().public_numbers()
        return {
            "key": {
                "kid": v.key_uri(key.name, key.version),
                "kty": "RSA",
                "key_ops": list(key.ops),
                "n": b64u_uint(pub.n),
                "e": b64u_uint(pub.e),
            },
            "attributes": {
                "enabled": key.enabled,
                **({"nbf": int(key.nbf)} if key.nbf is not None else {}),
                **({"exp": int(key.exp)} if key.exp is not None else {}),
                "created": int(key.created),
                "updated": int(key.updated),
                "recoveryLevel": "Recoverable" if v.purge_protection else "Recoverable+Purgeable",
                "recoverableDays": 90,
                "exportable": False,
            },
            "tags": {},
        }

    def get_key(self, req: Request, name: str, version: str | None = None) -> Response:
        self._authorize(req, "get", name)
        key = self._key(name, version or None)
        self._usable(key, "get")
        return Response(200, self.key_json(key))

    def update_key(self, req: Request, name: str, version: str | None = None) -> Response:
        self._authorize(req, "update", name)
        key = self._key(name, version or None)
        body = req.json()
        attrs = body.get("attributes") if isinstance(body, dict) else None
        if not isinstance(attrs, dict):
            return self.error(400, "BadParameter", "Property 'attributes' is required.")
        with self.state.write():
            if isinstance(attrs.get("enabled"), bool):
                key.enabled = attrs["enabled"]
            for field in ("nbf", "exp"):
                if field in attrs:
                    setattr(key, field, None if attrs[field] is None else float(attrs[field]))
            if isinstance(body.get("key_ops"), list):
                key.ops = [str(op) for op in body["key_ops"]]
            key.updated = time.time()
        return Response(200, self.key_json(key))

    def _deleted(self, name: str) -> Key:
        key = self.world.vault.keys.get(name)
        if key is None or not key.deleted or not self.world.vault.soft_delete:
            raise Denied(self.error(404, "KeyNotFound", f"Deleted Key not found: {name}"))
        return key

    def deleted_key_json(self, key: Key) -> dict[str, Any]:
        """DeletedKeyBundle: the key bundle plus its recovery id and dates."""
        deleted_at = key.deleted_at or time.time()
        return {
            **self.key_json(key),
            "recoveryId": f"{self.world.vault.url}deletedkeys/{key.name}",
            "deletedDate": int(deleted_at),
            "scheduledPurgeDate": int(deleted_at + 90 * 86400),
        }

    def get_deleted_key(self, req: Request, name: str) -> Response:
        """Get Deleted Key (keys/get permission, as the REST reference says)."""
        self._authorize(req, "get", name)
        return Response(200, self.deleted_key_json(self._deleted(name)))

    def recover_key(self, req: Request, name: str) -> Response:
        """Recover Deleted Key: back under /keys at its latest version (keys/recover permission)."""
        self._authorize(req, "recover", name)
        key = self._deleted(name)
        with self.state.write():
            key.deleted = False
            key.deleted_at = None
        return Response(200, self.key_json(key))

    def crypto(self, req: Request, name: str, op: str, version: str | None = None) -> Response:
        operation = "wrapKey" if op == "wrapkey" else "unwrapKey"
        self._authorize(req, operation, name)
        key = self._key(name, version or None)
        self._usable(key, operation)
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            return self.error(400, "BadParameter", "Property 'value' is required.")
        alg = body.get("alg")
        if alg not in _ALGORITHMS:
            return self.error(
                400,
                "BadParameter",
                f"Invalid algorithm '{alg}'. Supported: {', '.join(_ALGORITHMS)}.",
            )
        try:
            data = b64u_decode(body["value"])
        except (binascii.Error, ValueError):
            return self.error(400, "BadParameter", "Property 'value' is not valid base64url.")
        try:
            if operation == "wrapKey":
                out = key.private_key.public_key().encrypt(data, _ALGORITHMS[alg]())
            else:
                out = key.private_key.decrypt(data, _ALGORITHMS[alg]())
        except ValueError:
            return self.error(
                400,
                "BadParameter",
                f"The {operation} operation failed: the value is not valid for this key and algorithm.",
            )
        return Response(
            200, {"kid": self.world.vault.key_uri(key.name, key.version), "value": b64u(out)}
        )

    def is_write(self, req: Request) -> bool:
        return req.method == "PATCH" or (
            req.method == "POST" and req.path.rstrip("/").lower().endswith("/recover")
        )
