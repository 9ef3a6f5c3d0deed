-- Our monthly partition maintenance for orders and order_items, used when pg_partman is not
-- installed and configured (maintenance.rs decides). Months are UTC: a partition covers
-- [YYYY-MM-01 00:00Z, next month 00:00Z). Children are named <table>_pYYYY_MM, pg_partman 4's
-- monthly naming. Every function returns one (action, partition_name) row per change.

-- Creates the orders and order_items partitions of the month containing month_start (UTC), unless
-- they exist. If the DEFAULT partition already holds rows of that month, creating the partition
-- would fail, so the month is reported 'blocked' (and a WARNING raised) for an operator to move
-- those rows; nothing else is touched.
CREATE FUNCTION commerce_create_month_partitions(month_start timestamp)
RETURNS TABLE (action text, partition_name text)
LANGUAGE plpgsql AS $$
DECLARE
    month_utc timestamp   := date_trunc('month', month_start);
    lo        timestamptz := month_utc AT TIME ZONE 'UTC';
    hi        timestamptz := (month_utc + interval '1 month') AT TIME ZONE 'UTC';
    parent    text;
    child     text;
    stray     bigint      := 0;
    n         bigint;
BEGIN
    FOREACH parent IN ARRAY ARRAY['orders', 'order_items'] LOOP
        IF to_regclass(parent || '_default') IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %I WHERE created_at >= $1 AND created_at < $2',
                           parent || '_default')
                INTO n USING lo, hi;
            stray := stray + n;
        END IF;
    END LOOP;
    FOREACH parent IN ARRAY ARRAY['orders', 'order_items'] LOOP
        child := parent || '_p' || to_char(month_utc, 'YYYY_MM');
        CONTINUE WHEN to_regclass(child) IS NOT NULL;
        IF stray > 0 THEN
            RAISE WARNING 'commerce: % rows of % sit in the default partitions; % not created',
                stray, to_char(month_utc, 'YYYY-MM'), child;
            action := 'blocked';
        ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           child, parent, lo, hi);
            action := 'created';
        END IF;
        partition_name := child;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Drops the foreign keys of a detached partition, so the archived table neither blocks nor is
-- checked against live rows (a detached order_items month would otherwise keep referencing
-- orders, and DETACH of the orders month would then fail).
CREATE FUNCTION commerce_drop_foreign_keys(detached regclass)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    fk name;
BEGIN
    FOR fk IN SELECT conname FROM pg_constraint WHERE conrelid = detached AND contype = 'f' AND conparentid = 0 LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', detached, fk);
    END LOOP;
END
$$;

-- DETACHes (never drops) every orders / order_items partition that ends at or before cutoff,
-- lines first so the orders month has no referencing rows left. The detached tables stay in the
-- schema, read-only by convention, until exported and dropped (README "Partitioning").
CREATE FUNCTION commerce_detach_partitions_before(cutoff timestamptz)
RETURNS TABLE (action text, partition_name text)
LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    child  regclass;
BEGIN
    FOREACH parent IN ARRAY ARRAY['order_items', 'orders'] LOOP
        FOR child IN
            SELECT c.oid::regclass
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass(parent)
              AND substring(pg_get_expr(c.relpartbound, c.oid) FROM $re$ TO \('([^']+)'\)$re$)::timestamptz
                  <= cutoff
            ORDER BY c.relname
        LOOP
            EXECUTE format('ALTER TABLE %I DETACH PARTITION %s', parent, child);
            PERFORM commerce_drop_foreign_keys(child);
            action := 'detached';
            partition_name := child::text;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

-- The maintenance routine: makes sure the current month and the next `premake` months have
-- partitions, and detaches the months that ended more than `retain_months` months before the
-- start of the current month. Idempotent; concurrent runs queue on an advisory lock.
CREATE FUNCTION commerce_maintain_partitions(premake int DEFAULT 3, retain_months int DEFAULT 12)
RETURNS TABLE (action text, partition_name text)
LANGUAGE plpgsql AS $$
DECLARE
    this_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
BEGIN
    IF premake IS NULL OR premake < 0 OR premake > 120 THEN
        RAISE EXCEPTION 'premake must be between 0 and 120, not %', premake;
    END IF;
    IF retain_months IS NULL OR retain_months < 1 THEN
        RAISE EXCEPTION 'retain_months must be at least 1, not %', retain_months;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('commerce_maintain_partitions'));
    FOR i IN 0..premake LOOP
        RETURN QUERY SELECT * FROM commerce_create_month_partitions(this_month + make_interval(months => i));
    END LOOP;
    RETURN QUERY SELECT * FROM commerce_detach_partitions_before(
        (this_month - make_interval(months => retain_months)) AT TIME ZONE 'UTC');
END
$$;

-- Rows in the DEFAULT partitions, for monitoring: anything but 0 means a month had no partition.
CREATE FUNCTION commerce_default_partition_rows()
RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*) FROM orders_default) + (SELECT count(*) FROM order_items_default)
$$;

-- A fresh database gets its first months at once; the scheduler keeps them coming.
SELECT count(*) FROM commerce_maintain_partitions(3, 12);
