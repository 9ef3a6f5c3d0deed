"""Item 2 and item 5: each store is configured as its design doc says; backups, point-in-time
recovery, deletion protection, encryption are on, and prod has replicas of every store."""

import re

from conftest import REPO, module, one, refers_to, tfvars

PROD = "prod"


# --- Cloud SQL (commerce) ---

def test_cloudsql_primaries_back_up_daily_with_point_in_time_recovery():
    cloudsql = module("cloudsql")
    settings = one(cloudsql.resource("google_sql_database_instance", "primary")["settings"])
    backup = one(settings["backup_configuration"])
    assert backup["enabled"] is True
    assert backup["point_in_time_recovery_enabled"] is True
    assert refers_to(backup["transaction_log_retention_days"], "transaction_log_retention_days")
    assert cloudsql.default("transaction_log_retention_days") == 7
    # One more base backup than days of WAL (commerce design doc).
    assert cloudsql.default("retained_backups") == cloudsql.default("transaction_log_retention_days") + 1


def test_cloudsql_is_protected_from_deletion_in_terraform_and_in_the_api():
    cloudsql = module("cloudsql")
    assert cloudsql.default("deletion_protection") is True
    for kind in ("primary", "replica"):
        instance = cloudsql.resource("google_sql_database_instance", kind)
        assert refers_to(instance["deletion_protection"], "deletion_protection")
        assert refers_to(one(instance["settings"])["deletion_protection_enabled"], "deletion_protection")
    assert tfvars(PROD)["deletion_protection"] is True


def test_cloudsql_has_only_a_private_ip_and_requires_tls():
    for kind in ("primary", "replica"):
        ip = one(one(module("cloudsql").resource("google_sql_database_instance", kind)["settings"])["ip_configuration"])
        assert ip["ipv4_enabled"] is False
        assert ip["ssl_mode"] == "ENCRYPTED_ONLY"
        assert refers_to(ip["private_network"], "network_id")


def test_cloudsql_prod_is_regional_and_every_database_has_a_read_replica():
    assert module("cloudsql").default("availability_type") == "REGIONAL"
    assert tfvars(PROD)["cloudsql_availability_type"] == "REGIONAL"
    databases = tfvars(PROD)["commerce_databases"]
    assert "main" in databases
    for name, database in databases.items():
        assert database["read_replicas"] >= 1, f"prod commerce database {name} has no read replica"


def test_cloudsql_query_insights_and_a_maintenance_window_are_set():
    settings = one(module("cloudsql").resource("google_sql_database_instance", "primary")["settings"])
    assert one(settings["insights_config"])["query_insights_enabled"] is True
    window = one(settings["maintenance_window"])
    assert refers_to(window["day"], "maintenance_window.day")


def _flags(kind):
    settings = one(module("cloudsql").resource("google_sql_database_instance", kind)["settings"])
    return {f["name"]: f["value"] for f in settings["database_flags"]}


def test_cloudsql_sets_the_flags_commerce_monitoring_reads_on_primaries_and_replicas_alike():
    primary, replica = _flags("primary"), _flags("replica")
    assert primary == replica
    # pg_stat_statements feeds polygate_commerce_slow_statements; statement text stays out of logs.
    assert primary["pg_stat_statements.track"] == "all"
    assert primary["track_io_timing"] == "on"
    assert primary["log_lock_waits"] == "on"
    assert primary["log_min_duration_statement"] == "-1"
    assert sorted(primary) == sorted(module("cloudsql").locals["module_flags"])


# --- ElastiCache (session, caches) ---

def test_elasticache_runs_cluster_mode_with_failover_across_zones_and_encryption_everywhere():
    group = module("elasticache").resource("aws_elasticache_replication_group", "this")
    assert group["cluster_mode"] == "enabled"
    assert group["automatic_failover_enabled"] is True
    assert group["multi_az_enabled"] is True
    assert group["at_rest_encryption_enabled"] is True
    assert group["kms_key_id"] == "${aws_kms_key.this.arn}"
    assert group["transit_encryption_enabled"] is True
    assert group["transit_encryption_mode"] == "required"
    assert group["user_group_ids"], "RBAC user group must replace the open default user"


def test_elasticache_default_user_is_switched_off():
    default = module("elasticache").resource("aws_elasticache_user", "default_off")
    assert default["user_name"] == "default"
    assert default["access_string"].startswith("off")


def test_elasticache_takes_daily_snapshots_and_cannot_be_configured_without():
    elasticache = module("elasticache")
    group = elasticache.resource("aws_elasticache_replication_group", "this")
    assert refers_to(group["snapshot_retention_limit"], "snapshot_retention_days")
    assert elasticache.default("snapshot_retention_days") >= 1
    condition = one(elasticache.variables["snapshot_retention_days"]["validation"])["condition"]
    assert ">= 1" in condition, "snapshots must not be switchable off"
    assert group.get("final_snapshot_identifier")


def test_elasticache_eviction_policy_is_the_one_the_session_design_names():
    design = (REPO / "subgraphs" / "session" / "README.md").read_text()
    named = re.search(r"run its Redis with \*\*`([a-z-]+)`\*\*", design)
    assert named, "the session design doc no longer names a maxmemory-policy"
    elasticache = module("elasticache")
    assert elasticache.default("maxmemory_policy") == named.group(1)
    params = {p["name"]: p["value"] for p in elasticache.resource("aws_elasticache_parameter_group", "this")["parameter"]}
    assert refers_to(params["maxmemory-policy"], "maxmemory_policy")
    assert params["cluster-enabled"] == "yes"


def test_elasticache_scales_shards_on_cpu_and_memory_and_replicas_on_cpu():
    policies = module("elasticache").resources["aws_appautoscaling_policy"]
    metrics = {
        one(one(p["target_tracking_scaling_policy_configuration"])["predefined_metric_specification"])["predefined_metric_type"]
        for p in policies.values()
    }
    assert metrics == {
        "ElastiCachePrimaryEngineCPUUtilization",
        "ElastiCacheDatabaseMemoryUsageCountedForEvictPercentage",
        "ElastiCacheReplicaEngineCPUUtilization",
    }
    group = module("elasticache").resource("aws_elasticache_replication_group", "this")
    ignored = one(group["lifecycle"])["ignore_changes"]
    assert "${num_node_groups}" in ignored or "num_node_groups" in str(ignored), "Terraform must not undo auto scaling"


def test_elasticache_prod_has_a_replica_per_shard():
    redis = tfvars(PROD)["redis"]
    assert redis["replicas_per_shard"] >= 1
    assert redis["shards_min"] <= redis["shards"] <= redis["shards_max"]


# --- MongoDB Atlas (catalog) ---

def test_atlas_cluster_is_sharded_backed_up_continuously_and_protected():
    atlas = module("mongodb-atlas")
    cluster = atlas.resource("mongodbatlas_advanced_cluster", "this")
    assert cluster["cluster_type"] == "SHARDED"
    assert cluster["backup_enabled"] is True
    assert cluster["pit_enabled"] is True
    assert refers_to(cluster["termination_protection_enabled"], "termination_protection")
    assert atlas.default("termination_protection") is True
    assert cluster["advanced_configuration"]["minimum_enabled_tls_protocol"] in ("TLS1_2", "TLS1_3")


def test_atlas_backup_schedule_keeps_a_point_in_time_window_and_every_cadence():
    schedule = module("mongodb-atlas").resource("mongodbatlas_cloud_backup_schedule", "this")
    assert refers_to(schedule["restore_window_days"], "backup.restore_window_days")
    for cadence in ("hourly", "daily", "weekly", "monthly"):
        assert schedule.get(f"policy_item_{cadence}"), f"no {cadence} snapshots"
    assert module("mongodb-atlas").default("backup")["restore_window_days"] >= 1


def test_atlas_autoscales_compute_and_every_shard_has_three_members():
    cluster = module("mongodb-atlas").resource("mongodbatlas_advanced_cluster", "this")
    spec = cluster["replication_specs"]
    assert "range(var.shards)" in spec, "one replication spec per shard"
    assert "compute_enabled = true" in spec and "node_count = 3" in spec


def test_atlas_shard_key_is_a_named_variable_defaulting_to_the_hashed_product_key():
    atlas = module("mongodb-atlas")
    assert atlas.default("shard_keys") == {
        "products": {"field": "_id", "kind": "hashed"},
        "reviews": {"field": "sku", "kind": "hashed"},
    }
    assert "catalog" in atlas.variables["shard_keys"]["description"]


def test_atlas_is_reached_through_privatelink_and_signs_in_with_the_task_role():
    atlas = module("mongodb-atlas")
    assert atlas.resource("aws_vpc_endpoint", "atlas")["vpc_endpoint_type"] == "Interface"
    user = atlas.resource("mongodbatlas_database_user", "catalog")
    assert user["aws_iam_type"] == "ROLE" and user["auth_database_name"] == "$external"
    assert "password" not in user


def test_atlas_prod_has_at_least_one_shard():
    assert tfvars(PROD)["atlas"]["shards"] >= 1


# --- Neo4j Aura (org) ---

def test_aura_refuses_the_free_tier_which_has_no_scheduled_snapshots():
    condition = one(module("neo4j-aura").variables["type"]["validation"])["condition"]
    assert "free-db" not in condition
    assert "professional-db" in condition


def test_aura_prod_has_read_secondaries_on_the_tier_that_offers_them():
    aura = tfvars(PROD)["aura"]
    assert aura["secondaries"] >= 1
    assert aura["type"] == "enterprise-db"


# --- Timescale Cloud (telemetry) ---

def test_timescale_prod_is_highly_available_with_a_read_replica():
    timescale = tfvars(PROD)["timescale"]
    assert timescale["ha_replicas"] >= 1
    assert timescale["read_replica_nodes"] >= 1
    assert timescale["environment_tag"] == "PROD"


def test_timescale_is_reached_over_vpc_peering():
    timescale = module("timescale")
    service = timescale.resource("timescale_service", "primary")
    assert service["vpc_id"] == "${timescale_vpcs.this.id}"
    assert timescale.resource("aws_vpc_peering_connection_accepter", "timescale")["auto_accept"] is True


# --- Qdrant Cloud (search) ---

def test_qdrant_has_a_backup_schedule_that_outlives_the_cluster():
    qdrant = module("qdrant")
    schedule = qdrant.resource("qdrant-cloud_accounts_backup_schedule", "this")
    assert refers_to(schedule["cron_expression"], "backup_cron")
    assert schedule["delete_backups_on_destroy"] is False
    assert qdrant.resource("qdrant-cloud_accounts_cluster", "this")["delete_backups_on_destroy"] is False


def test_qdrant_prod_replicates_every_shard_on_two_nodes():
    qdrant = tfvars(PROD)["qdrant"]
    assert qdrant["nodes"] >= 2
    assert qdrant["replication_factor"] >= 2


def test_qdrant_is_never_open_to_the_whole_internet():
    condition = one(module("qdrant").variables["allowed_source_cidrs"]["validation"])["condition"]
    assert '"0.0.0.0/0"' in condition
