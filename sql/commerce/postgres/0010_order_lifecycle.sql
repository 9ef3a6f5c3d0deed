-- The order lifecycle after placing (README, "After placing: payment, shipping, refunds"): an
-- order ships to a snapshot of an address book entry, is paid through a payment provider, and
-- shipping turns its reservations into stock that left the warehouse. Also: stock counts wide
-- enough for years, a check that `inventory.reserved` still totals the live reservations, and
-- indexes for the foreign keys that lacked one.
--
-- Not compatible with the previous release's order writers (a rolling deploy must stop them
-- first): the placing function takes the shipping address now, and reservations have a state
-- instead of `released`.

-- Stock counts: BIGINT. `on_hand` is current stock, not a running total, so INTEGER would hold
-- any real warehouse; the wider type costs 8 bytes a row on a small table and ends the argument.
-- Per-line quantities stay INTEGER: at most 10,000 by the domain rule (Quantity::MAX).
-- The view of 0007 reads the columns, so it is dropped and made again, unchanged.
DROP VIEW product_documents;
ALTER TABLE inventory ALTER COLUMN on_hand TYPE BIGINT, ALTER COLUMN reserved TYPE BIGINT;
CREATE VIEW product_documents AS
SELECT p.id, p.sku, p.name, p.description, p.category_id, c.slug AS category, p.active,
       p.created_at,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('amount_minor', cp.amount_minor,
                                                     'currency', cp.currency)
                                  ORDER BY cp.currency)
                 FROM (SELECT DISTINCT ON (pr.currency) pr.currency, pr.amount_minor
                       FROM prices pr
                       WHERE pr.product_id = p.id AND pr.valid_from <= now()
                       ORDER BY pr.currency, pr.valid_from DESC) cp), '[]') AS prices,
       COALESCE((SELECT sum(i.on_hand - i.reserved) FROM inventory i
                 WHERE i.product_id = p.id), 0)::BIGINT AS available
FROM products p
LEFT JOIN categories c ON c.id = p.category_id;

-- An order ships to a snapshot of an address (PostalAddress in domain/address.rs), never `{}`.
-- NOT VALID: orders placed before addresses existed keep their `{}`; every new row is checked.
ALTER TABLE orders ADD CONSTRAINT orders_ship_to_is_an_address
    CHECK (ship_to ? 'recipient' AND ship_to ? 'line1' AND ship_to ? 'city' AND ship_to ? 'country')
    NOT VALID;

-- The request carries the address too, so the sweeper can finish an order from this row alone.
-- Its saga now also ships: placed -> shipping -> shipped.
ALTER TABLE order_requests
    ADD COLUMN ship_to JSONB CHECK (ship_to IS NULL OR jsonb_typeof(ship_to) = 'object');
ALTER TABLE order_requests DROP CONSTRAINT order_requests_state_check;
ALTER TABLE order_requests ADD CONSTRAINT order_requests_state_check CHECK (
    state IN ('reserving', 'placed', 'rejected', 'releasing', 'cancelled', 'shipping', 'shipped'));
DROP INDEX order_requests_unfinished_idx;
CREATE INDEX order_requests_unfinished_idx ON order_requests (updated_at)
    WHERE state IN ('reserving', 'releasing', 'shipping');

-- A reservation is held, then released (cancelled or refunded before shipping) or shipped (the
-- units left the warehouse: `on_hand` and `reserved` fell together). `settled_at` is when it
-- stopped being held; settled rows are archived after a while (0011).
ALTER TABLE stock_reservations
    ADD COLUMN state TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'released', 'shipped')),
    ADD COLUMN settled_at TIMESTAMPTZ,
    ADD CONSTRAINT stock_reservations_settled_when CHECK ((state = 'held') = (settled_at IS NULL));
UPDATE stock_reservations SET state = 'released', settled_at = now() WHERE released;
ALTER TABLE stock_reservations DROP COLUMN released;

-- Payments: the client's key for the payOrder call (a retry finds the same attempt), the
-- provider's reason for a decline, and at most one live attempt per order, so two calls can
-- never both charge it. payments_order_key leads with order_id, so it also serves "the payments
-- of an order", which payments_order_idx did.
ALTER TABLE payments
    ADD COLUMN request_key TEXT CHECK (char_length(request_key) BETWEEN 1 AND 100),
    ADD COLUMN failure     TEXT CHECK (char_length(failure) <= 200),
    ADD COLUMN updated_at  TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE UNIQUE INDEX payments_order_key ON payments (order_id, request_key);
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id)
    WHERE status IN ('pending', 'authorized', 'captured');
DROP INDEX payments_order_idx;

-- Foreign keys without an index. Restocks are few (a row per delivery to a warehouse, not per
-- order), so indexing them costs little, and "the restocks of a product" is a query staff run.
CREATE INDEX stock_movements_product_id_idx ON stock_movements (product_id);
CREATE INDEX stock_movements_warehouse_id_idx ON stock_movements (warehouse_id);
-- stock_reservations.warehouse_id stays unindexed on purpose: the index would cost a write on
-- every reserved line (the hottest insert of the catalog database) to speed up one statement,
-- the RESTRICT check of deleting a warehouse, which the application never does and an operator
-- does once in years (a scan of a table that archiving keeps to weeks of rows).

-- `inventory.reserved` is a copy: the sum of the held reservations of its product and warehouse,
-- kept so that holding stock reads and locks one row instead of summing. This finds every row
-- where the copy and the sum disagree (one statement, so one snapshot: both change in the same
-- transactions). Expected: no rows. Cost: one scan of the held reservations and of inventory.
CREATE FUNCTION commerce_inventory_drift()
RETURNS TABLE (product_id BIGINT, warehouse_id BIGINT, reserved BIGINT, held BIGINT)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(i.product_id, h.product_id), coalesce(i.warehouse_id, h.warehouse_id),
           coalesce(i.reserved, 0), coalesce(h.held, 0)
    FROM inventory i
    FULL JOIN (SELECT r.product_id, r.warehouse_id, sum(r.quantity)::BIGINT AS held
               FROM stock_reservations r WHERE r.state = 'held'
               GROUP BY r.product_id, r.warehouse_id) h
           ON h.product_id = i.product_id AND h.warehouse_id = i.warehouse_id
    WHERE coalesce(i.reserved, 0) <> coalesce(h.held, 0)
    ORDER BY 1, 2
$$;

-- The placing functions of 0006 and 0008 wrote `{}` as the address; the new one takes one
-- address per order (p_ship_tos) and keeps stock in BIGINT. Otherwise as 0008.
DROP FUNCTION place_order_at_once(SMALLINT, BIGINT, TEXT, TEXT, BIGINT, TIMESTAMPTZ, TEXT, JSONB,
                                  BIGINT[], INTEGER[], BIGINT[]);
DROP FUNCTION place_orders_together(SMALLINT[], BIGINT[], TEXT[], TEXT[], BIGINT[], TIMESTAMPTZ[],
                                    TEXT[], JSONB[], INTEGER[], BIGINT[], INTEGER[], BIGINT[]);

-- Placing several orders in one transaction (README, "Placing orders together"); see 0008 for
-- the lock orders and the meaning of every argument. p_ship_tos[o] is order o's address.
CREATE FUNCTION place_orders_together(
    p_shards       SMALLINT[],
    p_user_ids     BIGINT[],
    p_keys         TEXT[],
    p_fingerprints TEXT[],
    p_order_ids    BIGINT[],
    p_created_ats  TIMESTAMPTZ[],
    p_currencies   TEXT[],
    p_lines        JSONB[],
    p_line_orders  INTEGER[],
    p_products     BIGINT[],
    p_quantities   INTEGER[],
    p_item_ids     BIGINT[],
    p_ship_tos     JSONB[]
) RETURNS TABLE (
    ord              INTEGER,
    outcome          TEXT,
    product_id       BIGINT,
    warehouse_id     BIGINT,
    sku              TEXT,
    quantity         INTEGER,
    unit_price_minor BIGINT
) LANGUAGE plpgsql
-- Array arguments make custom plans look cheaper than generic ones, so PL/pgSQL would plan
-- most statements again on every call; planning cost more than running them (measured with
-- pg_stat_statements.track_planning: about 0.4 ms per call).
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
DECLARE
    n_orders     INTEGER := cardinality(p_order_ids);
    n_lines      INTEGER := cardinality(p_products);
    v_owned      SMALLINT[];
    v_claimed    BIGINT[];
    -- Per order: NULL while it may still place, else why not, and the product refused.
    v_refusals   TEXT[];
    v_refused    BIGINT[];
    -- Per line: what the catalog says, then the stock row that holds it.
    v_skus       TEXT[];
    v_active     BOOLEAN[];
    v_prices     BIGINT[];
    v_holds      INTEGER[];
    -- The locked stock rows, sorted by (product_id, warehouse_id); s_free drops as lines hold.
    s_products   BIGINT[];
    s_warehouses BIGINT[];
    s_free       BIGINT[];
    v_line       INTEGER := 1;
    v_first      INTEGER;
    v_best       INTEGER;
    j            INTEGER;
BEGIN
    v_refusals := array_fill(NULL::TEXT, ARRAY[n_orders]);
    v_refused := array_fill(NULL::BIGINT, ARRAY[n_orders]);
    v_holds := array_fill(NULL::INTEGER, ARRAY[n_lines]);

    -- The fence of every shard write (0005): share-lock each shard's ownership row until commit.
    SELECT array_agg(o.logical_shard) INTO v_owned
    FROM (SELECT s.logical_shard FROM shard_ownership s
          WHERE s.logical_shard = ANY (p_shards)
          ORDER BY s.logical_shard FOR SHARE) o;
    FOR o IN 1 .. n_orders LOOP
        IF v_owned IS NULL OR NOT p_shards[o] = ANY (v_owned) THEN
            v_refusals[o] := 'moving';
        END IF;
    END LOOP;

    -- Claims the keys (lock order 1). A key already used, by an earlier call or an earlier
    -- order of this one, is not claimed again.
    WITH claimed AS (
        INSERT INTO order_requests (user_id, idempotency_key, fingerprint, order_id,
                                    order_created_at, currency, lines, ship_to, state)
        SELECT r.user_id, r.idempotency_key, r.fingerprint, r.order_id, r.created_at, r.currency,
               r.lines, r.ship_to, 'placed'
        FROM unnest(p_user_ids, p_keys, p_fingerprints, p_order_ids, p_created_ats, p_currencies,
                    p_lines, p_ship_tos, v_refusals)
             AS r(user_id, idempotency_key, fingerprint, order_id, created_at, currency, lines,
                  ship_to, refusal)
        WHERE r.refusal IS NULL
        ORDER BY r.user_id, r.idempotency_key
        ON CONFLICT ON CONSTRAINT order_requests_pkey DO NOTHING
        RETURNING order_id)
    SELECT array_agg(c.order_id) INTO v_claimed FROM claimed c;
    FOR o IN 1 .. n_orders LOOP
        IF v_refusals[o] IS NULL AND (v_claimed IS NULL OR NOT p_order_ids[o] = ANY (v_claimed)) THEN
            v_refusals[o] := 'existing';
        END IF;
    END LOOP;

    -- What each line buys: the product, and its current price in its order's currency.
    SELECT array_agg(p.sku ORDER BY l.i), array_agg(coalesce(p.active, false) ORDER BY l.i),
           array_agg(pr.amount_minor ORDER BY l.i)
    INTO v_skus, v_active, v_prices
    FROM unnest(p_products, p_line_orders) WITH ORDINALITY AS l(product_id, o, i)
    LEFT JOIN products p ON p.id = l.product_id
    LEFT JOIN LATERAL (SELECT x.amount_minor FROM prices x
                       WHERE x.product_id = l.product_id AND x.currency = p_currencies[l.o]
                         AND x.valid_from <= now()
                       ORDER BY x.valid_from DESC LIMIT 1) pr ON true;

    -- Locks the stock (lock order 2), then holds lines in memory, order by order, as
    -- reserve_line.sql would: the warehouse with the most available, then the lowest id.
    SELECT array_agg(s.product_id ORDER BY s.product_id, s.warehouse_id),
           array_agg(s.warehouse_id ORDER BY s.product_id, s.warehouse_id),
           array_agg(s.on_hand - s.reserved ORDER BY s.product_id, s.warehouse_id)
    INTO s_products, s_warehouses, s_free
    FROM (SELECT inv.product_id, inv.warehouse_id, inv.on_hand, inv.reserved FROM inventory inv
          WHERE inv.product_id = ANY (p_products)
          ORDER BY inv.product_id, inv.warehouse_id FOR UPDATE) s;

    FOR o IN 1 .. n_orders LOOP
        v_first := v_line;
        WHILE v_line <= n_lines AND p_line_orders[v_line] = o LOOP
            IF v_refusals[o] IS NULL THEN
                IF v_skus[v_line] IS NULL OR NOT v_active[v_line] THEN
                    v_refusals[o] := 'unavailable';
                ELSIF v_prices[v_line] IS NULL THEN
                    v_refusals[o] := 'no_price';
                ELSE
                    v_best := NULL;
                    j := array_position(s_products, p_products[v_line]);
                    WHILE j IS NOT NULL AND j <= cardinality(s_products)
                          AND s_products[j] = p_products[v_line] LOOP
                        IF s_free[j] >= p_quantities[v_line]
                           AND (v_best IS NULL OR s_free[j] > s_free[v_best]) THEN
                            v_best := j;
                        END IF;
                        j := j + 1;
                    END LOOP;
                    IF v_best IS NULL THEN
                        v_refusals[o] := 'short';
                    ELSE
                        s_free[v_best] := s_free[v_best] - p_quantities[v_line];
                        v_holds[v_line] := v_best;
                    END IF;
                END IF;
                IF v_refusals[o] IS NOT NULL THEN
                    v_refused[o] := p_products[v_line];
                END IF;
            END IF;
            v_line := v_line + 1;
        END LOOP;
        IF v_refusals[o] IS NOT NULL THEN
            -- Gives back what this order held before its refusal, for the orders after it.
            FOR i IN v_first .. v_line - 1 LOOP
                IF v_holds[i] IS NOT NULL THEN
                    s_free[v_holds[i]] := s_free[v_holds[i]] + p_quantities[i];
                    v_holds[i] := NULL;
                END IF;
            END LOOP;
        END IF;
    END LOOP;

    UPDATE inventory inv
    SET reserved = inv.reserved + d.quantity, updated_at = now()
    FROM (SELECT h.slot, sum(p_quantities[h.i]) AS quantity
          FROM unnest(v_holds) WITH ORDINALITY AS h(slot, i)
          WHERE h.slot IS NOT NULL GROUP BY h.slot) d
    WHERE inv.product_id = s_products[d.slot] AND inv.warehouse_id = s_warehouses[d.slot];

    -- A refused request is stored 'rejected', so a retry answers the same.
    UPDATE order_requests r SET state = 'rejected'
    FROM unnest(p_user_ids, p_keys, p_order_ids, v_refusals) AS x(user_id, idempotency_key,
                                                                  order_id, refusal)
    WHERE x.refusal IN ('unavailable', 'no_price', 'short')
      AND r.user_id = x.user_id AND r.idempotency_key = x.idempotency_key
      AND r.order_id = x.order_id;

    -- The rows of the placed orders, one statement per table.
    INSERT INTO stock_reservations (order_id, product_id, warehouse_id, sku, quantity,
                                    unit_price_minor, currency)
    SELECT p_order_ids[l.o], l.product_id, s_warehouses[l.slot], v_skus[l.i], l.quantity,
           v_prices[l.i], p_currencies[l.o]
    FROM unnest(p_line_orders, p_products, p_quantities, v_holds) WITH ORDINALITY
         AS l(o, product_id, quantity, slot, i)
    WHERE v_refusals[l.o] IS NULL;

    INSERT INTO orders (id, user_id, status, currency, total_minor, ship_to, created_at)
    SELECT p_order_ids[l.o], p_user_ids[l.o], 'pending', p_currencies[l.o],
           sum(l.quantity::BIGINT * v_prices[l.i]), p_ship_tos[l.o], p_created_ats[l.o]
    FROM unnest(p_line_orders, p_quantities) WITH ORDINALITY AS l(o, quantity, i)
    WHERE v_refusals[l.o] IS NULL
    GROUP BY l.o;

    INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                             unit_price_minor, currency)
    SELECT l.item_id, p_order_ids[l.o], p_created_ats[l.o], l.product_id, v_skus[l.i],
           l.quantity, v_prices[l.i], p_currencies[l.o]
    FROM unnest(p_line_orders, p_products, p_quantities, p_item_ids) WITH ORDINALITY
         AS l(o, product_id, quantity, item_id, i)
    WHERE v_refusals[l.o] IS NULL;

    RETURN QUERY
    SELECT o::INTEGER, v_refusals[o], v_refused[o], NULL::BIGINT, NULL::TEXT, NULL::INTEGER,
           NULL::BIGINT
    FROM generate_series(1, n_orders) AS o
    WHERE v_refusals[o] IS NOT NULL
    UNION ALL
    SELECT l.o, 'held'::TEXT, l.product_id, s_warehouses[l.slot], v_skus[l.i], l.quantity,
           v_prices[l.i]
    FROM unnest(p_line_orders, p_products, p_quantities, v_holds) WITH ORDINALITY
         AS l(o, product_id, quantity, slot, i)
    WHERE v_refusals[l.o] IS NULL;
END
$fn$;
