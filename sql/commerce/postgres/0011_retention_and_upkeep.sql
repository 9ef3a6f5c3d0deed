-- Retention and partition upkeep that runs for years (README, "Partitioning" and "Retention").
--
-- 1. Settled saga rows leave the hot tables. An order request whose saga finished (rejected,
--    cancelled, shipped) and a reservation that was released or shipped are moved, in batches,
--    to archive tables once their order is older than the retention window; the archives are
--    partitioned by the month they were archived in and leave like old order months (DETACH,
--    then export and drop). Why move instead of partitioning the hot tables: a request's key must
--    stay unique for as long as it is kept, and a unique index on a partitioned table must carry
--    the partition key, so monthly partitions would let a retry that crosses a month boundary
--    place a second order; and a reservation may stay held for months (a backorder), so no month
--    of reservations could ever be detached whole.
-- 2. The month routines cover every monthly table (orders, order_items and the two archives) and
--    can be limited to some of them (pg_partman may manage orders and order_items), and the
--    detachable months are listed with whether PostgreSQL allows DETACH ... CONCURRENTLY for
--    their table (it refuses when the table has a DEFAULT partition), for the application's pass,
--    which runs each detach outside a transaction.

-- The smallest id made at `at` (ids.rs: 41 bits of milliseconds since 2026-01-01 above 23 bits of
-- shard and sequence): `order_id < commerce_id_at(t)` means "the order was placed before t",
-- which a btree on the id answers by range.
CREATE FUNCTION commerce_id_at(at timestamptz)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT (floor(extract(epoch FROM at) * 1000)::bigint - 1767225600000) << 23
$$;

CREATE TABLE order_requests_archive (
    user_id          BIGINT      NOT NULL,
    idempotency_key  TEXT        NOT NULL,
    fingerprint      TEXT        NOT NULL,
    order_id         BIGINT      NOT NULL,
    order_created_at TIMESTAMPTZ NOT NULL,
    currency         CHAR(3)     NOT NULL,
    lines            JSONB       NOT NULL,
    ship_to          JSONB,
    state            TEXT        NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    archived_at      TIMESTAMPTZ NOT NULL
) PARTITION BY RANGE (archived_at);
-- Support looks a request up by its order; the archive takes no other reads.
CREATE INDEX order_requests_archive_order_idx ON order_requests_archive (order_id);

CREATE TABLE stock_reservations_archive (
    order_id         BIGINT      NOT NULL,
    product_id       BIGINT      NOT NULL,
    warehouse_id     BIGINT      NOT NULL,
    sku              TEXT        NOT NULL,
    quantity         INTEGER     NOT NULL,
    unit_price_minor BIGINT      NOT NULL,
    currency         CHAR(3)     NOT NULL,
    state            TEXT        NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    settled_at       TIMESTAMPTZ NOT NULL,
    archived_at      TIMESTAMPTZ NOT NULL
) PARTITION BY RANGE (archived_at);
CREATE INDEX stock_reservations_archive_order_idx ON stock_reservations_archive (order_id);

-- Every monthly table, in the order months are detached (lines before their orders), with its
-- partition key. Archives have no DEFAULT partition: the pass makes the month it archives into
-- before archiving, so nothing can miss a partition there.
CREATE FUNCTION commerce_monthly_tables()
RETURNS TABLE (ord int, parent text, key_column text)
LANGUAGE sql IMMUTABLE AS $$
    VALUES (1, 'order_items', 'created_at'), (2, 'orders', 'created_at'),
           (3, 'order_requests_archive', 'archived_at'),
           (4, 'stock_reservations_archive', 'archived_at')
$$;

-- Replaces 0004's version, which knew only orders and order_items: the month containing
-- month_start for every monthly table (or those in `parents`), unless it exists. A month whose
-- rows sit in a DEFAULT partition is reported 'blocked' for the tables that have one.
DROP FUNCTION commerce_create_month_partitions(timestamp);
CREATE FUNCTION commerce_create_month_partitions(month_start timestamp, parents text[] DEFAULT NULL)
RETURNS TABLE (action text, partition_name text)
LANGUAGE plpgsql AS $$
DECLARE
    month_utc timestamp   := date_trunc('month', month_start);
    lo        timestamptz := month_utc AT TIME ZONE 'UTC';
    hi        timestamptz := (month_utc + interval '1 month') AT TIME ZONE 'UTC';
    t         record;
    child     text;
    stray     bigint      := 0;
    n         bigint;
BEGIN
    FOR t IN SELECT * FROM commerce_monthly_tables() LOOP
        IF to_regclass(t.parent || '_default') IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %I WHERE %I >= $1 AND %I < $2',
                           t.parent || '_default', t.key_column, t.key_column)
                INTO n USING lo, hi;
            stray := stray + n;
        END IF;
    END LOOP;
    -- Creation order: orders before their lines, then the archives (0004's order).
    FOR t IN SELECT * FROM commerce_monthly_tables() ORDER BY CASE ord WHEN 2 THEN 0 ELSE ord END LOOP
        CONTINUE WHEN parents IS NOT NULL AND NOT t.parent = ANY (parents);
        child := t.parent || '_p' || to_char(month_utc, 'YYYY_MM');
        CONTINUE WHEN to_regclass(child) IS NOT NULL;
        IF stray > 0 AND to_regclass(t.parent || '_default') IS NOT NULL THEN
            RAISE WARNING 'commerce: % rows of % sit in the default partitions; % not created',
                stray, to_char(month_utc, 'YYYY-MM'), child;
            action := 'blocked';
        ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           child, t.parent, lo, hi);
            action := 'created';
        END IF;
        partition_name := child;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The months that end on or before `cutoff`, in detach order, of every monthly table (or those in
-- `parents`): `pending` when a concurrent detach was interrupted (it must be finished with
-- DETACH ... FINALIZE), `online` when the table has no DEFAULT partition, so PostgreSQL
-- allows DETACH ... CONCURRENTLY (which takes only a SHARE UPDATE EXCLUSIVE lock on the table,
-- instead of ACCESS EXCLUSIVE, but cannot run in a transaction block).
CREATE FUNCTION commerce_partitions_ending_by(cutoff timestamptz, parents text[] DEFAULT NULL)
RETURNS TABLE (parent text, partition_name text, pending boolean, online boolean)
LANGUAGE sql STABLE AS $$
    SELECT t.parent, c.oid::regclass::text, i.inhdetachpending,
           to_regclass(t.parent || '_default') IS NULL
    FROM commerce_monthly_tables() t
    JOIN pg_inherits i ON i.inhparent = to_regclass(t.parent)
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE (parents IS NULL OR t.parent = ANY (parents))
      AND substring(pg_get_expr(c.relpartbound, c.oid) FROM $re$ TO \('([^']+)'\)$re$)::timestamptz
          <= cutoff
    ORDER BY t.ord, c.relname
$$;

-- Replaces 0004's version (orders and order_items only): DETACHes, inside the caller's
-- transaction, every month `commerce_partitions_ending_by` lists, except one a concurrent detach
-- left pending (reported 'pending'; the application's pass finishes it). Used by the SQL routine
-- below, which pg_cron can run; the application detaches concurrently where it can instead.
DROP FUNCTION commerce_detach_partitions_before(timestamptz);
CREATE FUNCTION commerce_detach_partitions_before(cutoff timestamptz, parents text[] DEFAULT NULL)
RETURNS TABLE (action text, partition_name text)
LANGUAGE plpgsql AS $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT * FROM commerce_partitions_ending_by(cutoff, parents) LOOP
        IF p.pending THEN
            action := 'pending';
        ELSE
            EXECUTE format('ALTER TABLE %I DETACH PARTITION %s', p.parent, p.partition_name);
            PERFORM commerce_drop_foreign_keys(p.partition_name::regclass);
            action := 'detached';
        END IF;
        partition_name := p.partition_name;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The whole routine in one transaction, for a scheduler inside the database (pg_cron) or by hand:
-- same signature and meaning as 0009's, now over every monthly table.
CREATE OR REPLACE FUNCTION commerce_maintain_partitions(
    premake int DEFAULT 3,
    retain_months int DEFAULT 12,
    as_of timestamptz DEFAULT now())
RETURNS TABLE (action text, partition_name text)
LANGUAGE plpgsql AS $$
DECLARE
    this_month timestamp := date_trunc('month', as_of AT TIME ZONE 'UTC');
BEGIN
    IF premake IS NULL OR premake < 0 OR premake > 120 THEN
        RAISE EXCEPTION 'premake must be between 0 and 120, not %', premake;
    END IF;
    IF retain_months IS NULL OR retain_months < 1 THEN
        RAISE EXCEPTION 'retain_months must be at least 1, not %', retain_months;
    END IF;
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must be an instant';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('commerce_maintain_partitions'));
    FOR i IN 0..premake LOOP
        RETURN QUERY SELECT * FROM commerce_create_month_partitions(this_month + make_interval(months => i));
    END LOOP;
    RETURN QUERY SELECT * FROM commerce_detach_partitions_before(
        (this_month - make_interval(months => retain_months)) AT TIME ZONE 'UTC');
END
$$;

-- Rows in the DEFAULT partitions (want 0), now of whichever monthly tables have one: an operator
-- may drop them to let every month detach concurrently (README, "Partitioning").
CREATE OR REPLACE FUNCTION commerce_default_partition_rows()
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total bigint := 0;
    n     bigint;
    t     record;
BEGIN
    FOR t IN SELECT * FROM commerce_monthly_tables() LOOP
        IF to_regclass(t.parent || '_default') IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %I', t.parent || '_default') INTO n;
            total := total + n;
        END IF;
    END LOOP;
    RETURN total;
END
$$;

-- Moves up to `batch` settled order requests and `batch` settled reservations whose order was
-- placed before `orders_before` into the archives, stamped `as_of` (whose month partition it
-- makes first). Rows of orders still in flight (placed, reserving, releasing, shipping; held)
-- stay, however old. Returns how many of each moved; the caller repeats until fewer than
-- `batch` move, one short transaction each. SKIP LOCKED: a row a saga step holds right now is
-- left for the next batch instead of waited for.
-- Indexes: order_requests_order_id_key and stock_reservations_pkey, range scans on the order id.
CREATE FUNCTION commerce_archive_settled(orders_before timestamptz, batch int, as_of timestamptz)
RETURNS TABLE (requests bigint, reservations bigint)
LANGUAGE plpgsql AS $$
DECLARE
    boundary bigint := commerce_id_at(orders_before);
BEGIN
    IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 100000, not %', batch;
    END IF;
    PERFORM commerce_create_month_partitions(as_of AT TIME ZONE 'UTC',
                                             ARRAY['order_requests_archive',
                                                   'stock_reservations_archive']);
    WITH moved AS (
        DELETE FROM order_requests r
        WHERE r.ctid = ANY (ARRAY(
            SELECT c.ctid FROM order_requests c
            WHERE c.order_id < boundary AND c.state IN ('rejected', 'cancelled', 'shipped')
            ORDER BY c.order_id
            LIMIT batch
            FOR UPDATE SKIP LOCKED))
        RETURNING r.*)
    INSERT INTO order_requests_archive (user_id, idempotency_key, fingerprint, order_id,
                                        order_created_at, currency, lines, ship_to, state,
                                        updated_at, archived_at)
    SELECT m.user_id, m.idempotency_key, m.fingerprint, m.order_id, m.order_created_at,
           m.currency, m.lines, m.ship_to, m.state, m.updated_at, as_of
    FROM moved m;
    GET DIAGNOSTICS requests = ROW_COUNT;

    WITH moved AS (
        DELETE FROM stock_reservations r
        WHERE r.ctid = ANY (ARRAY(
            SELECT c.ctid FROM stock_reservations c
            WHERE c.order_id < boundary AND c.state IN ('released', 'shipped')
            ORDER BY c.order_id
            LIMIT batch
            FOR UPDATE SKIP LOCKED))
        RETURNING r.*)
    INSERT INTO stock_reservations_archive (order_id, product_id, warehouse_id, sku, quantity,
                                            unit_price_minor, currency, state, created_at,
                                            settled_at, archived_at)
    SELECT m.order_id, m.product_id, m.warehouse_id, m.sku, m.quantity, m.unit_price_minor,
           m.currency, m.state, m.created_at, m.settled_at, as_of
    FROM moved m;
    GET DIAGNOSTICS reservations = ROW_COUNT;
    RETURN NEXT;
END
$$;

-- The archives get their first months at once, like 0004 did for orders.
SELECT count(*) FROM commerce_maintain_partitions(3, 12);
