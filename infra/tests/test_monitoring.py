"""Item 3: alarms exist for every store and for the services, and every metric the Prometheus
rules and the dashboard read is one the code registers."""

import json
import re

import yaml

from conftest import INFRA, env, module, registered_metric_names, tfvars

RULES = INFRA / "monitoring" / "rules"
DASHBOARD = INFRA / "monitoring" / "dashboards" / "gateway.json"


def test_elasticache_alarms_cover_cpu_memory_evictions_replication_lag_and_connections():
    alarms = module("monitoring").locals["redis_alarms"]
    assert {a["metric"] for a in alarms.values()} == {
        "EngineCPUUtilization",
        "DatabaseMemoryUsageCountedForEvictPercentage",
        "Evictions",
        "ReplicationLag",
        "CurrConnections",
    }
    alarm = module("monitoring").resource("aws_cloudwatch_metric_alarm", "redis")
    assert alarm["treat_missing_data"] == "notBreaching"


def test_elasticache_alarms_exist_for_every_node_the_largest_cluster_can_have():
    # One alarm per node id <group>-<shard>-<node>, shards up to shards_max, nodes per shard up
    # to 1 + replicas_max: reproduce the module's arithmetic for prod.
    redis = tfvars("prod")["redis"]
    nodes = redis["shards_max"] * (1 + redis["replicas_max"])
    assert nodes >= redis["shards"] * (1 + redis["replicas_per_shard"])
    expression = module("monitoring").locals["redis_nodes"]
    assert "range(1, var.elasticache.shards_max + 1)" in expression
    assert "range(1, var.elasticache.replicas_max + 2)" in expression


def test_cloudsql_alert_policies_cover_cpu_disk_replication_lag_connections_and_availability():
    policies = module("monitoring").locals["cloudsql_policies"]
    metrics = {p["metric"] for p in policies.values()}
    assert metrics == {
        "cloudsql.googleapis.com/database/cpu/utilization",
        "cloudsql.googleapis.com/database/disk/utilization",
        "cloudsql.googleapis.com/database/replication/replica_lag",
        "cloudsql.googleapis.com/database/postgresql/num_backends",
    }
    down = module("monitoring").resource("google_monitoring_alert_policy", "cloudsql_down")
    assert "cloudsql.googleapis.com/database/up" in str(down)


def test_atlas_alerts_cover_cpu_disk_connections_replication_and_topology():
    monitoring = module("monitoring")
    metrics = {a["metric"] for a in monitoring.locals["atlas_metric_alerts"].values()}
    assert {"NORMALIZED_SYSTEM_CPU_USER", "DISK_PARTITION_SPACE_USED_DATA", "CONNECTIONS_PERCENT", "OPLOG_SLAVE_LAG_MASTER_TIME"} <= metrics
    assert "NO_PRIMARY" in monitoring.locals["atlas_event_alerts"]
    assert monitoring.resource("mongodbatlas_alert_configuration", "oplog_window")["event_type"] == "REPLICATION_OPLOG_WINDOW_RUNNING_OUT"


def _rules():
    groups = []
    for path in sorted(RULES.glob("*.yml")):
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return [rule for group in groups for rule in group["rules"]]


def test_every_store_has_an_alert_from_its_subgraph_side():
    # Aura, Timescale Cloud and Qdrant Cloud have no provider alerting in Terraform; the subgraphs'
    # own store-call metrics (every store, same names) are their first line.
    alerts = {r["alert"]: r for r in _rules() if "alert" in r}
    for name in ("StoreCallErrors", "StoreCallsSlow"):
        assert name in alerts
    recorded = {r["record"]: r["expr"] for r in _rules() if "record" in r}
    assert "by (subgraph, engine)" in recorded["polygate:store_call_error_ratio:rate5m"]


def test_prometheus_alerts_cover_the_issue_list():
    alerts = {r["alert"] for r in _rules() if "alert" in r}
    expected = {
        "GatewayErrorRateHigh",       # error rate
        "SubgraphP99High",            # p99 per subgraph
        "SubgraphStoreUnavailable",   # STORE_UNAVAILABLE rate
        "ProductCacheHitRatioLow",    # cache hit ratio
        "OrderPlacingSaturated",      # batch sizes
        "SessionRedisNodeDown",       # the session store's view of every Redis node
        "SessionRedisEvicting",
        "SessionRedisWrongEvictionPolicy",
    }
    assert expected <= alerts


def _metric_names(text: str) -> set[str]:
    names = set(re.findall(r"\b(polygate_[a-z0-9_]+)", text))
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def test_rules_read_only_metrics_the_code_registers():
    registered = registered_metric_names()
    assert "polygate_store_call_seconds" in registered, "could not read the metric registrations"
    used = set()
    for path in RULES.glob("*.yml"):
        used |= _metric_names(path.read_text())
    assert used, "no metric found in the rules"
    assert used <= registered, f"rules read metrics nobody exports: {sorted(used - registered)}"


def test_dashboard_reads_only_metrics_the_code_registers():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    used = set().union(*(_metric_names(e) for e in exprs))
    assert used <= registered_metric_names(), f"dashboard reads metrics nobody exports: {sorted(used - registered_metric_names())}"
    assert dashboard["uid"] == "polygate-gateway"


def test_environments_load_every_rule_file_into_managed_prometheus():
    call = env("prod").modules["monitoring"]
    assert "monitoring/rules" in call["prometheus_rule_files"] and "*.yml" in call["prometheus_rule_files"]
