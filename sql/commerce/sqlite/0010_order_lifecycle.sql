-- The order lifecycle after placing (SQLite flavour of postgres/0010_order_lifecycle.sql):
-- addresses snapshotted into orders, payments, and shipping that turns reservations into stock
-- that left. SQLite's INTEGER is 64-bit already, so stock counts need no change. SQLite cannot
-- alter a CHECK or drop a constrained column in place, so order_requests and stock_reservations
-- are rebuilt (embedded databases are small).

-- An order ships to a snapshot of an address, never `{}` (rows from before keep theirs).
CREATE TRIGGER orders_ship_to_is_an_address BEFORE INSERT ON orders
WHEN json_type(NEW.ship_to, '$.recipient') IS NULL OR json_type(NEW.ship_to, '$.line1') IS NULL
  OR json_type(NEW.ship_to, '$.city') IS NULL OR json_type(NEW.ship_to, '$.country') IS NULL
BEGIN
    SELECT RAISE(ABORT, 'orders.ship_to must be an address');
END;

CREATE TABLE order_requests_new (
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    idempotency_key  TEXT    NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    fingerprint      TEXT    NOT NULL,
    order_id         INTEGER NOT NULL UNIQUE,
    order_created_at INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    lines            TEXT    NOT NULL CHECK (json_valid(lines) AND json_type(lines) = 'array'),
    ship_to          TEXT    CHECK (ship_to IS NULL OR (json_valid(ship_to)
                                                        AND json_type(ship_to) = 'object')),
    state            TEXT    NOT NULL
                     CHECK (state IN ('reserving', 'placed', 'rejected', 'releasing', 'cancelled',
                                      'shipping', 'shipped')),
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
) STRICT;
INSERT INTO order_requests_new (user_id, idempotency_key, fingerprint, order_id, order_created_at,
                                currency, lines, state, updated_at)
SELECT user_id, idempotency_key, fingerprint, order_id, order_created_at, currency, lines, state,
       updated_at
FROM order_requests;
DROP TABLE order_requests;
ALTER TABLE order_requests_new RENAME TO order_requests;
CREATE INDEX order_requests_unfinished_idx ON order_requests (updated_at)
    WHERE state IN ('reserving', 'releasing', 'shipping');

CREATE TABLE stock_reservations_new (
    order_id         INTEGER NOT NULL,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    warehouse_id     INTEGER NOT NULL REFERENCES warehouses (id) ON DELETE RESTRICT,
    sku              TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    currency         TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'held'
                     CHECK (state IN ('held', 'released', 'shipped')),
    settled_at       INTEGER,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id),
    CONSTRAINT stock_reservations_settled_when CHECK ((state = 'held') = (settled_at IS NULL))
) STRICT;
INSERT INTO stock_reservations_new (order_id, product_id, warehouse_id, sku, quantity,
                                    unit_price_minor, currency, state, settled_at, created_at)
SELECT order_id, product_id, warehouse_id, sku, quantity, unit_price_minor, currency,
       CASE WHEN released = 1 THEN 'released' ELSE 'held' END,
       CASE WHEN released = 1 THEN created_at END, created_at
FROM stock_reservations;
DROP TABLE stock_reservations;
ALTER TABLE stock_reservations_new RENAME TO stock_reservations;
CREATE INDEX stock_reservations_product_idx ON stock_reservations (product_id);

ALTER TABLE payments ADD COLUMN request_key TEXT
    CHECK (request_key IS NULL OR length(request_key) BETWEEN 1 AND 100);
ALTER TABLE payments ADD COLUMN failure TEXT CHECK (failure IS NULL OR length(failure) <= 200);
ALTER TABLE payments ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX payments_order_key ON payments (order_id, request_key);
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id)
    WHERE status IN ('pending', 'authorized', 'captured');
DROP INDEX payments_order_idx;

CREATE INDEX stock_movements_product_id_idx ON stock_movements (product_id);
CREATE INDEX stock_movements_warehouse_id_idx ON stock_movements (warehouse_id);

-- Stock rows whose `reserved` is not the total of their held reservations (expected: none).
CREATE VIEW commerce_inventory_drift AS
SELECT i.product_id, i.warehouse_id, i.reserved,
       coalesce((SELECT sum(r.quantity) FROM stock_reservations r
                 WHERE r.product_id = i.product_id AND r.warehouse_id = i.warehouse_id
                   AND r.state = 'held'), 0) AS held
FROM inventory i
WHERE i.reserved <> held
UNION ALL
SELECT r.product_id, r.warehouse_id, 0, sum(r.quantity)
FROM stock_reservations r
WHERE r.state = 'held'
  AND NOT EXISTS (SELECT 1 FROM inventory i
                  WHERE i.product_id = r.product_id AND i.warehouse_id = r.warehouse_id)
GROUP BY r.product_id, r.warehouse_id;
