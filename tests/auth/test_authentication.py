"""Bearer JWT authentication and scope/role permissions over HTTP (NFR-7, ST-MMM-02)."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from rest_framework.test import APIClient

from mmm_project.auth.keys import signing_key

pytestmark = pytest.mark.django_db

PLAYBOOKS = "/v1/mmm/playbooks"


def _get(token: str | None, path: str = PLAYBOOKS, header: str | None = None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(path)


def _claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "sub": "actor-1",
        "tenant_id": "tenant-a",
        "actor_type": "human",
        "roles": [],
        "scope": "mmm.read mmm.decide",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _local_sign(claims: dict) -> str:
    key = signing_key()
    return jwt.encode(claims, key.key, algorithm="EdDSA", headers={"kid": key.kid})


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)


def test_valid_token_is_accepted(make_token):
    # given a token of tenant-a with mmm.read / when listing playbooks / then 200
    response = _get(make_token(scopes=["mmm.read"]))
    assert response.status_code == 200
    assert response.json() == []


def test_no_token_is_401_with_bearer_challenge():
    response = _get(None)
    _assert_error(response, 401, "UNAUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401_token_expired():
    expired = _local_sign(_claims(iat=int(time.time()) - 600, exp=int(time.time()) - 120))
    _assert_error(_get(expired), 401, "TOKEN_EXPIRED")


def test_token_signed_by_another_key_is_401():
    # given a token whose kid names our key but whose signature comes from a different key
    forged = jwt.encode(
        _claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": signing_key().kid}
    )
    response = _get(forged)
    _assert_error(response, 401, "INVALID_TOKEN")
    assert "signature" in response.json()["error"]["message"]


def test_tampered_payload_is_401(make_token):
    # given a valid token whose payload is swapped for another tenant's claims
    header, _payload, signature = make_token().split(".")
    other = jwt.utils.base64url_encode(json.dumps(_claims(tenant_id="tenant-b")).encode()).decode()
    _assert_error(_get(f"{header}.{other}.{signature}"), 401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt"],
)
def test_malformed_authorization_header_is_401(header):
    _assert_error(_get(None, header=header), 401, "INVALID_TOKEN")


def test_unknown_kid_is_401():
    key = signing_key()
    token = jwt.encode(_claims(), key.key, algorithm="EdDSA", headers={"kid": "rotated-away"})
    _assert_error(_get(token), 401, "INVALID_TOKEN")


def test_alg_none_is_401():
    token = jwt.encode(_claims(), None, algorithm="none")
    _assert_error(_get(token), 401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    ("override", "claim"),
    [({"tenant_id": None}, "tenant_id"), ({"sub": None}, "sub"), ({"exp": None}, "exp")],
)
def test_missing_required_claim_is_401_naming_it(override, claim):
    response = _get(_local_sign(_claims(**override)))
    _assert_error(response, 401, "INVALID_TOKEN")
    assert claim in response.json()["error"]["message"]


def test_unknown_actor_type_is_401():
    _assert_error(_get(_local_sign(_claims(actor_type="robot"))), 401, "INVALID_TOKEN")


def test_missing_scope_is_403(make_token):
    # given a token with mmm.decide only / when reading playbooks (needs mmm.read) / then 403
    response = _get(make_token(scopes=["mmm.decide"]))
    _assert_error(response, 403, "FORBIDDEN")
    assert "mmm.read" in response.json()["error"]["message"]


def test_missing_admin_role_is_403(make_token):
    response = _get(make_token(roles=["developer"]), path="/v1/mmm/tenants/tenant-a/policy")
    _assert_error(response, 403, "FORBIDDEN")


@pytest.mark.parametrize("role", ["tenant_admin", "mmm_admin"])
def test_admin_roles_are_accepted(make_token, role):
    response = _get(make_token(roles=[role]), path="/v1/mmm/tenants/tenant-a/policy")
    assert response.status_code == 200
    assert response.json()["tenant_id"] == "tenant-a"


def test_scope_claim_may_be_a_list():
    assert _get(_local_sign(_claims(scope=["mmm.read"]))).status_code == 200


def test_rs256_key_from_configured_jwks_is_accepted(settings):
    # given a JWKS holding an RSA public key (as an IAM would publish it)
    private = generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "iam-2026", "alg": "RS256", "use": "sig"})
    settings.JWT_JWKS = json.dumps({"keys": [jwk]})
    token = jwt.encode(_claims(), private, algorithm="RS256", headers={"kid": "iam-2026"})
    # when / then: accepted, and the embedded local key no longer is
    assert _get(token).status_code == 200
    local = jwt.encode(_claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "x"})
    _assert_error(_get(local), 401, "INVALID_TOKEN")


def test_algorithm_must_match_the_key(settings):
    # given an RSA key in the JWKS / when a token claims HS256 with the public key as secret
    private = generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "iam", "alg": "RS256"})
    settings.JWT_JWKS = json.dumps({"keys": [jwk]})
    settings.DEBUG = False
    token = jwt.encode(_claims(), "x" * 32, algorithm="HS256", headers={"kid": "iam"})
    # then refused: HS256 is never accepted with DEBUG off
    _assert_error(_get(token), 401, "INVALID_TOKEN")


def test_hs256_only_when_debug(settings):
    settings.JWT_HS256_SECRET = "local-shared-secret-of-32-bytes!"
    token = jwt.encode(_claims(), settings.JWT_HS256_SECRET, algorithm="HS256")
    settings.DEBUG = True
    assert _get(token).status_code == 200
    settings.DEBUG = False
    _assert_error(_get(token), 401, "INVALID_TOKEN")


def test_issuer_and_audience_enforced_when_configured(settings):
    settings.JWT_ISSUER = "https://iam.example"
    settings.JWT_AUDIENCE = "mmm-engine"
    good = _local_sign(_claims(iss="https://iam.example", aud="mmm-engine"))
    wrong_aud = _local_sign(_claims(iss="https://iam.example", aud="other"))
    assert _get(good).status_code == 200
    _assert_error(_get(wrong_aud), 401, "INVALID_TOKEN")
