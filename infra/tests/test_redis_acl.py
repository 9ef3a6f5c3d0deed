"""The ElastiCache application user's access string admits every command the services send and
refuses the administrative ones, checked with `ACL DRYRUN` on a real Redis 7 (Debian's
redis-server, which e2e/servers/redis.sh installs). Skipped, with the reason, where no
redis-server is installed."""

import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, module

# Commands the clients send outside scripts: the session store's script calls (EVALSHA, and
# SCRIPT LOAD / EVAL when a script is not cached yet), the caches' MGET/SET/DEL, health checks,
# the cluster client's topology discovery and connection set-up.
CLIENT_COMMANDS = [
    ["EVALSHA", "0" * 40, "1", "k"], ["EVAL", "return 1", "1", "k"], ["SCRIPT", "LOAD", "return 1"],
    ["HGETALL", "k"], ["MGET", "a", "b"], ["SET", "k", "v", "PX", "60000"], ["DEL", "k"],
    ["PING"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "NODES"], ["HELLO", "3"],
    ["CLIENT", "SETNAME", "polygate"],
    # the session store's health monitor (store/redis/health.rs): INFO and CLUSTER INFO per node
    ["INFO"], ["CLUSTER", "INFO"],
]
REFUSED = [["FLUSHALL"], ["CONFIG", "GET", "maxmemory"], ["DEBUG", "SLEEP", "0"], ["KEYS", "x"]]


# A well-formed example of each command the session store's Lua calls (ACL DRYRUN checks arity).
SCRIPT_EXAMPLES = {
    "DEL": ["k"], "HDEL": ["k", "f"], "HEXISTS": ["k", "f"], "HGETALL": ["k"], "HLEN": ["k"], "HMGET": ["k", "f"],
    "HSET": ["k", "f", "v"], "PEXPIRE": ["k", "1000"], "PTTL": ["k"], "TIME": [],
    "ZADD": ["k", "1", "m"], "ZCARD": ["k"], "ZRANGE": ["k", "0", "-1"], "ZREM": ["k", "m"],
    "ZREMRANGEBYSCORE": ["k", "-inf", "1"],
}


def _script_commands() -> list[list[str]]:
    """Every redis.call('X', ...) in the session store's Lua, as a well-formed example."""
    names = set()
    for path in (REPO / "subgraphs" / "session" / "src").rglob("*.rs"):
        names.update(re.findall(r"redis\.call\('([A-Z]+)'", path.read_text()))
    assert names, "found no Lua in the session store"
    unknown = names - SCRIPT_EXAMPLES.keys()
    assert not unknown, f"the session store's Lua now calls {sorted(unknown)}: add an example above"
    return [[n, *SCRIPT_EXAMPLES[n]] for n in sorted(names)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_cli():
    server = shutil.which("redis-server")
    if not server or not shutil.which("redis-cli"):
        pytest.skip("redis-server is not installed here (e2e/servers/redis.sh installs it)")
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", data],
            stdout=subprocess.DEVNULL,
        )
        try:
            cli = ["redis-cli", "-p", str(port)]
            for _ in range(50):
                if subprocess.run(cli + ["PING"], capture_output=True, text=True).stdout.strip() == "PONG":
                    break
                time.sleep(0.1)
            yield cli
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _access_string() -> str:
    return module("elasticache").resource("aws_elasticache_user", "app")["access_string"]


def _dryrun(cli, command):
    out = subprocess.run(cli + ["ACL", "DRYRUN", "app", *command], capture_output=True, text=True)
    return (out.stdout + out.stderr).strip()


def test_the_app_user_may_send_every_command_the_services_send(redis_cli):
    rules = _access_string().split()
    setuser = subprocess.run(redis_cli + ["ACL", "SETUSER", "app", "nopass", *rules], capture_output=True, text=True)
    assert setuser.stdout.strip() == "OK", setuser.stdout + setuser.stderr
    refused = {" ".join(c): _dryrun(redis_cli, c) for c in CLIENT_COMMANDS + _script_commands()}
    refused = {c: r for c, r in refused.items() if r != "OK"}
    assert not refused, f"the access string {_access_string()!r} refuses: {refused}"


def test_the_app_user_may_not_administer_the_cluster(redis_cli):
    subprocess.run(redis_cli + ["ACL", "SETUSER", "app", "nopass", *_access_string().split()], check=True, capture_output=True)
    for command in REFUSED:
        assert "no permissions" in _dryrun(redis_cli, command), f"{command} is allowed"
