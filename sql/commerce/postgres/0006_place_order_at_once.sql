-- Placing an order in one transaction, where the buyer's shard and the catalog share a database
-- (one-database deployments, and every shard not yet moved off the catalog database). The saga
-- (README, "Placing orders") needs three commits and about twenty statements because its steps
-- may run on different servers; here the same three steps (store the request, hold the stock,
-- write the order) run in one call and commit once, with the same rows as the saga leaves.
--
-- Lines come sorted by product id, the lock order the saga's reserve_stock uses too, so two
-- orders of the same products wait for each other instead of deadlocking.
--
-- Returns one row per held line (outcome 'held'), or a single row:
--   'moving'      this database no longer owns p_shard (the fence); nothing was written
--   'existing'    the user already used p_key; nothing was written, ask for the stored request
--   'unavailable' | 'no_price' | 'short'   refused for product_id; the request is stored
--                 'rejected' (so a retry answers the same) and no stock is held
CREATE FUNCTION place_order_at_once(
    p_shard       SMALLINT,
    p_user_id     BIGINT,
    p_key         TEXT,
    p_fingerprint TEXT,
    p_order_id    BIGINT,
    p_created_at  TIMESTAMPTZ,
    p_currency    TEXT,
    p_lines       JSONB,
    p_products    BIGINT[],
    p_quantities  INTEGER[],
    p_item_ids    BIGINT[]
) RETURNS TABLE (
    outcome          TEXT,
    product_id       BIGINT,
    warehouse_id     BIGINT,
    sku              TEXT,
    quantity         INTEGER,
    unit_price_minor BIGINT
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    v_skus       TEXT[]   := '{}';
    v_prices     BIGINT[] := '{}';
    v_warehouses BIGINT[] := '{}';
    v_sku        TEXT;
    v_active     BOOLEAN;
    v_price      BIGINT;
    v_warehouse  BIGINT;
    v_refusal    TEXT;
BEGIN
    -- The fence of every shard write (0005): share-lock the ownership row until commit.
    PERFORM 1 FROM shard_ownership WHERE logical_shard = p_shard FOR SHARE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'moving'::TEXT, NULL::BIGINT, NULL::BIGINT, NULL::TEXT, NULL::INTEGER,
                            NULL::BIGINT;
        RETURN;
    END IF;

    -- Claims the key. A concurrent call with the same key waits here until this one commits,
    -- then finds the key taken.
    INSERT INTO order_requests (user_id, idempotency_key, fingerprint, order_id,
                                order_created_at, currency, lines, state)
    VALUES (p_user_id, p_key, p_fingerprint, p_order_id, p_created_at, p_currency, p_lines,
            'placed')
    ON CONFLICT ON CONSTRAINT order_requests_pkey DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'existing'::TEXT, NULL::BIGINT, NULL::BIGINT, NULL::TEXT,
                            NULL::INTEGER, NULL::BIGINT;
        RETURN;
    END IF;

    FOR i IN 1 .. cardinality(p_products) LOOP
        SELECT p.sku, p.active,
               (SELECT pr.amount_minor FROM prices pr
                WHERE pr.product_id = p.id AND pr.currency = p_currency AND pr.valid_from <= now()
                ORDER BY pr.valid_from DESC LIMIT 1)
        INTO v_sku, v_active, v_price
        FROM products p WHERE p.id = p_products[i];
        IF NOT FOUND OR NOT v_active THEN
            v_refusal := 'unavailable';
        ELSIF v_price IS NULL THEN
            v_refusal := 'no_price';
        ELSE
            v_warehouse := NULL;
            -- queries/reserve_line.sql, retried like the saga's reserve_line when a concurrent
            -- buyer took the chosen warehouse's last units while another still has enough.
            FOR attempt IN 1 .. 5 LOOP
                UPDATE inventory inv
                SET reserved = inv.reserved + p_quantities[i], updated_at = now()
                WHERE inv.product_id = p_products[i]
                  AND inv.warehouse_id = (SELECT c.warehouse_id FROM inventory c
                                          WHERE c.product_id = p_products[i]
                                            AND c.on_hand - c.reserved >= p_quantities[i]
                                          ORDER BY c.on_hand - c.reserved DESC, c.warehouse_id
                                          LIMIT 1
                                          FOR UPDATE)
                  AND inv.on_hand - inv.reserved >= p_quantities[i]
                RETURNING inv.warehouse_id INTO v_warehouse;
                EXIT WHEN v_warehouse IS NOT NULL
                       OR NOT EXISTS (SELECT 1 FROM inventory c
                                      WHERE c.product_id = p_products[i]
                                        AND c.on_hand - c.reserved >= p_quantities[i]);
            END LOOP;
            IF v_warehouse IS NULL THEN
                v_refusal := 'short';
            END IF;
        END IF;

        IF v_refusal IS NOT NULL THEN
            -- Give back the lines held so far. This transaction still locks their rows, so
            -- nobody has seen or changed them since.
            UPDATE inventory inv
            SET reserved = inv.reserved - h.quantity
            FROM unnest(p_products[1 : i - 1], v_warehouses, p_quantities[1 : i - 1])
                 AS h(product_id, warehouse_id, quantity)
            WHERE inv.product_id = h.product_id AND inv.warehouse_id = h.warehouse_id;
            UPDATE order_requests SET state = 'rejected'
            WHERE user_id = p_user_id AND idempotency_key = p_key;
            RETURN QUERY SELECT v_refusal, p_products[i], NULL::BIGINT, NULL::TEXT, NULL::INTEGER,
                                NULL::BIGINT;
            RETURN;
        END IF;
        v_skus := v_skus || v_sku;
        v_prices := v_prices || v_price;
        v_warehouses := v_warehouses || v_warehouse;
    END LOOP;

    INSERT INTO stock_reservations (order_id, product_id, warehouse_id, sku, quantity,
                                    unit_price_minor, currency)
    SELECT p_order_id, h.product_id, h.warehouse_id, h.sku, h.quantity, h.price, p_currency
    FROM unnest(p_products, v_warehouses, v_skus, p_quantities, v_prices)
         AS h(product_id, warehouse_id, sku, quantity, price);

    INSERT INTO orders (id, user_id, status, currency, total_minor, ship_to, created_at)
    SELECT p_order_id, p_user_id, 'pending', p_currency, sum(h.quantity::BIGINT * h.price), '{}',
           p_created_at
    FROM unnest(p_quantities, v_prices) AS h(quantity, price);

    INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                             unit_price_minor, currency)
    SELECT h.id, p_order_id, p_created_at, h.product_id, h.sku, h.quantity, h.price, p_currency
    FROM unnest(p_item_ids, p_products, v_skus, p_quantities, v_prices)
         AS h(id, product_id, sku, quantity, price);

    RETURN QUERY
    SELECT 'held'::TEXT, h.product_id, h.warehouse_id, h.sku, h.quantity, h.price
    FROM unnest(p_products, v_warehouses, v_skus, p_quantities, v_prices)
         AS h(product_id, warehouse_id, sku, quantity, price);
END
$fn$;
