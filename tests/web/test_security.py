"""Sign-in, sessions, CSRF, API tokens, tenancy (404 across organizations), secrets and escaping."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner
from web_testkit import EMAIL, FAST, PASSWORD, TestClient, Web, connect, csrf_of, signed_in

from crmsync.cli import app as cli_app
from crmsync.engine import accounts
from crmsync.engine.commands import run_sync_all
from crmsync.errors import ConfigError
from crmsync.secrets import generate_key
from crmsync.store import push_state, records, tenancy
from crmsync.store.tables import admins, api_tokens
from crmsync.web.app import WebConfig, create_app


def test_passwords_are_argon2_and_tokens_are_stored_as_hashes(web: Web) -> None:
    engine = web.workspace.engine
    accounts.create_admin(engine, web.workspace.organization_id, " Admin@Example.org ", PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(admins.c.email, admins.c.password_hash)).one()
        hashes = conn.execute(sa.select(api_tokens.c.token_hash)).scalars().all()
    assert stored.email == "admin@example.org"
    assert stored.password_hash.startswith("$argon2id$")
    assert web.token not in hashes
    assert len(hashes[0]) == 64
    with pytest.raises(ConfigError, match="at least 12"):
        accounts.create_admin(engine, web.workspace.organization_id, "b@example.org", "short")
    with pytest.raises(ConfigError, match="exists already"):
        accounts.create_admin(engine, web.workspace.organization_id, "ADMIN@example.org", PASSWORD)
    assert accounts.authenticate(engine, "admin@example.org", "wrong password!") is None
    assert accounts.authenticate(engine, "nobody@example.org", PASSWORD) is None


def test_sign_in_sessions_cookies_and_sign_out(web: Web) -> None:
    accounts.create_admin(web.workspace.engine, web.workspace.organization_id, EMAIL, PASSWORD)
    with TestClient(web.client.app) as client:
        assert client.get("/integrations", follow_redirects=False).headers["location"].startswith("/sign-in")
        token = csrf_of(client.get("/sign-in").text)
        wrong = client.post("/sign-in", data={"email": EMAIL, "password": "nope", "csrf_token": token})
        assert wrong.status_code == 401
        assert "wrong" in wrong.text
        forged = client.post("/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "x"})
        assert forged.status_code == 403
        answer = client.post(
            "/sign-in",
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": token, "next": "//evil.example"},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/integrations"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie
        csrf = csrf_of(client.get("/integrations").text)
        # Forms without the session's CSRF token are refused; cookie-authenticated API writes too.
        assert client.post("/integrations/sf/reset-token", data={"csrf_token": "nope"}).status_code == 403
        assert client.post("/api/v1/connections/sf/reset-token").status_code == 403
        ok = client.post("/api/v1/connections/sf/reset-token", headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200
        assert client.get("/api/v1/connections").status_code == 200
        assert client.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        client.cookies.set("crmsync_session", answer.cookies["crmsync_session"])
        assert client.get("/api/v1/connections").status_code == 401


def test_cookies_are_secure_over_https_or_when_configured(web: Web) -> None:
    accounts.create_admin(web.workspace.engine, web.workspace.organization_id, EMAIL, PASSWORD)
    for base, config, secure in (
        ("https://testserver", WebConfig(), True),
        ("http://testserver", WebConfig(cookie_secure="always"), True),
        ("https://testserver", WebConfig(cookie_secure="never"), False),
    ):
        with TestClient(create_app(web.workspace, config), base_url=base) as client:
            token = csrf_of(client.get("/sign-in").text)
            answer = client.post(
                "/sign-in",
                data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert ("Secure" in answer.headers["set-cookie"]) is secure


def test_an_organization_cannot_see_another_ones_data(web: Web) -> None:
    """Organization B gets 404 for A's connection, log entries, locks and records."""
    run_sync_all(web.workspace, "sf", retry=FAST)
    org_a = web.workspace.organization_id
    with web.workspace.engine.begin() as conn:
        cid = tenancy.get_connection(conn, org_a, "sf").id  # type: ignore[union-attr]
        (fund,) = records.insert_many(conn, org_a, "funds", [{"name": "A's fund"}])
        for _ in range(3):
            push_state.record_failure(conn, org_a, cid, "funds", fund, code="X", message="a's error")
    entry = web.client.get("/api/v1/logs", params={"limit": 1}).json()["entries"][0]
    other = web.org_workspace("other")
    _, b_token = accounts.create_token(other.engine, other.organization_id, "b")
    with TestClient(web.client.app, headers={"Authorization": f"Bearer {b_token}"}) as b:
        assert b.get("/api/v1/connections").json() == {"connections": []}
        for path in (
            "/api/v1/connections/sf",
            "/api/v1/connections/sf/settings",
            f"/api/v1/logs/{entry['id']}",
        ):
            assert b.get(path).status_code == 404, path
        assert b.post("/api/v1/connections/sf/sync-all").status_code == 404
        assert b.get("/api/v1/logs").json()["entries"] == []
        assert b.get("/api/v1/locks").json()["locks"] == []
        assert b.get("/api/v1/locks", params={"connection": "sf"}).status_code == 404
        assert b.post("/api/v1/locks/archive", json={"keys": [f"funds:{fund}"]}).status_code == 404
        # B has a connection of the same name: A's record ids are still not B's records.
        connect(other, _emulator_of(web))
        assert b.get(f"/api/v1/connections/sf/records/funds/{fund}").status_code == 404
        assert b.post(f"/api/v1/connections/sf/records/funds/{fund}/resync").status_code == 404
        assert all(r["id"] != fund for r in b.get("/api/v1/connections/sf/records/funds").json()["records"])
    assert len(web.client.get("/api/v1/locks").json()["locks"]) == 1


def _emulator_of(web: Web) -> object:
    class _Stub:
        base_url = web.client.get("/api/v1/connections/sf").json()["login_url"]

    return _Stub()


def test_credentials_are_never_shown_or_logged(
    web: Web, browser_client: tuple[TestClient, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = browser_client
    run_sync_all(web.workspace, "sf", retry=FAST)
    pages = ["/integrations", "/integrations/sf/settings", "/integrations/sf/set-up", "/logs", "/locks"]
    texts = [client.get(p).text for p in pages]
    texts += [web.client.get(p).text for p in ("/api/v1/connections", "/api/v1/connections/sf/settings")]
    texts += [web.client.get("/api/v1/logs", params={"limit": 500}).text, caplog.text]
    for text in texts:
        assert "emulator-password" not in text
        assert "emulator-secret" not in text


def test_output_is_escaped(web: Web, browser_client: tuple[TestClient, str]) -> None:
    client, _ = browser_client
    evil = "<script>alert(1)</script>"
    with web.workspace.engine.begin() as conn:
        (supporter,) = records.insert_many(
            conn, web.workspace.organization_id, "supporters", [{"first_name": evil, "last_name": evil}]
        )
    for path in ("/integrations/sf/records/supporters", f"/integrations/sf/records/supporters/{supporter}"):
        html = client.get(path).text
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    answer = client.get("/integrations/sf/records/supporters")
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_admin_and_token_commands(web: Web, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMSYNC_SECRET_KEY", generate_key())
    url = str(web.workspace.engine.url.render_as_string(hide_password=False))
    if web.workspace.engine.dialect.name != "sqlite":
        pytest.skip("the CLI opens the database by URL; SQLite is enough here")
    runner = CliRunner()
    made = runner.invoke(
        cli_app,
        ["--database", url, "admin", "create", "cli@example.org", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    short = runner.invoke(
        cli_app, ["--database", url, "admin", "create", "b@example.org", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1
    assert "at least 12" in short.output
    created = runner.invoke(cli_app, ["--database", url, "token", "create", "billing"])
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("cst_")
    assert (
        web.client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    listed = runner.invoke(cli_app, ["--database", url, "token", "list"])
    assert "billing" in listed.output
    assert token not in listed.output
    token_id = next(line.split()[0] for line in listed.output.splitlines() if "billing" in line)
    assert runner.invoke(cli_app, ["--database", url, "token", "revoke", token_id]).exit_code == 0
    assert (
        web.client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    assert runner.invoke(cli_app, ["--database", url, "token", "revoke", "9999"]).exit_code == 1
    with TestClient(web.client.app) as browser:
        signed_in(browser, "cli@example.org")
