"""Item 2, services: the gateway and one service per subgraph as containers with health checks,
rolling deploys that roll back, auto scaling on CPU and on latency, TLS at every load balancer."""

import re

from conftest import ENV_NAMES, REPO, env, module, one, tfvars

SUBGRAPH_PORTS = {"gateway": 4000, "commerce": 4001, "session": 4002, "telemetry": 4003, "catalog": 4004, "org": 4005, "search": 4006}


def test_every_service_of_the_system_is_deployed_in_every_environment():
    for env_name in ENV_NAMES:
        assert set(tfvars(env_name)["services"]) == set(SUBGRAPH_PORTS), env_name


def test_ports_are_the_ones_the_code_listens_on():
    ports = env("prod").locals["ports"]
    assert ports == SUBGRAPH_PORTS
    # Where a subgraph crate exists, its DEFAULT_PORT must agree.
    for name, port in SUBGRAPH_PORTS.items():
        crate = REPO / "subgraphs" / name / "src"
        if not crate.is_dir():
            continue
        declared = set(re.findall(r"DEFAULT_PORT: u16 = (\d+)", "".join(p.read_text() for p in crate.rglob("*.rs"))))
        assert declared <= {str(port)}, f"{name} declares DEFAULT_PORT {declared}, infra uses {port}"


def test_prod_runs_at_least_two_tasks_of_everything_and_three_gateways():
    services = tfvars("prod")["services"]
    for name, service in services.items():
        assert service["min_tasks"] >= 2, f"prod {name} would not survive a task or zone loss"
        assert service["max_tasks"] > service["min_tasks"], f"prod {name} cannot scale out"
    assert services["gateway"]["min_tasks"] >= 3


def test_deploys_roll_without_capacity_loss_and_roll_back_by_themselves():
    service = module("gateway").resource("aws_ecs_service", "this")
    assert service["deployment_minimum_healthy_percent"] == 100
    assert service["deployment_maximum_percent"] == 200
    breaker = one(service["deployment_circuit_breaker"])
    assert breaker["enable"] is True and breaker["rollback"] is True
    assert "desired_count" in str(one(service["lifecycle"])["ignore_changes"]), "auto scaling owns desired_count"


def test_subgraphs_are_health_checked_on_ready_and_the_gateway_on_health():
    gateway = module("gateway")
    group = gateway.resource("aws_lb_target_group", "service")
    assert one(group["health_check"])["path"] == "${each.value.health_check_path}"
    assert 'health_check_path = optional(string, "/ready")' in gateway.variables["services"]["type"]
    # The environment overrides only the gateway's (modules/gateway/main.tf says why).
    assert 'health_check_path = k == "gateway" ? "/health" : "/ready"' in (env("prod").directory / "main.tf").read_text()


def test_every_service_scales_on_cpu_and_on_p99_latency():
    gateway = module("gateway")
    cpu = gateway.resource("aws_appautoscaling_policy", "cpu")
    assert one(one(cpu["target_tracking_scaling_policy_configuration"])["predefined_metric_specification"])["predefined_metric_type"] == "ECSServiceAverageCPUUtilization"
    latency_alarm = gateway.resource("aws_cloudwatch_metric_alarm", "latency")
    assert latency_alarm["metric_name"] == "TargetResponseTime"
    assert latency_alarm["extended_statistic"] == "p99"
    assert latency_alarm["alarm_actions"] == ["${aws_appautoscaling_policy.latency[each.key].arn}"]
    for kind in ("cpu", "latency"):
        assert gateway.resource("aws_appautoscaling_policy", kind)["for_each"] == "${var.services}"


def test_load_balancers_speak_tls_only():
    gateway = module("gateway")
    listeners = gateway.resources["aws_lb_listener"]
    for name, listener in listeners.items():
        assert listener["protocol"] == "HTTPS", name
        assert listener["ssl_policy"].startswith("ELBSecurityPolicy-TLS13"), name
    for name, lb in gateway.resources["aws_lb"].items():
        assert lb["drop_invalid_header_fields"] is True, name
    assert "0.0.0.0/0" not in str(gateway.resources["aws_vpc_security_group_ingress_rule"]["internal_lb_from_callers"])


def test_containers_run_read_only_and_take_secrets_from_secrets_manager():
    definition = module("gateway").resource("aws_ecs_task_definition", "this")["container_definitions"]
    assert definition.count("readonlyRootFilesystem = true") == 2
    assert "valueFrom" in definition and "aws_secretsmanager_secret.service[each.key].arn" in definition
    secret = module("gateway").resource("aws_secretsmanager_secret", "service")
    assert secret["kms_key_id"] == "${aws_kms_key.this.arn}"


def test_images_are_immutable_and_scanned():
    repository = module("gateway").resource("aws_ecr_repository", "this")
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert one(repository["image_scanning_configuration"])["scan_on_push"] is True
    condition = one(module("gateway").variables["image_tag"]["validation"])["condition"]
    assert '"latest"' in condition


def test_every_service_may_reach_only_its_own_store():
    egress = env("prod").locals["egress"]
    assert set(egress) == set(SUBGRAPH_PORTS)
    text = (env("prod").directory / "main.tf").read_text()
    assert 'session   = [local.redis_egress]' in text
    assert 'commerce  = [local.cloudsql_egress, local.redis_egress]' in text
