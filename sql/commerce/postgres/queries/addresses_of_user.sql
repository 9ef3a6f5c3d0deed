-- A user's address book, newest first (ids grow with time), at most $2 entries: read by
-- `User.addresses` and by every `placeOrder` that ships to the default (newest) address.
-- Index: addresses_user_id_idx (user_id); a book holds at most 20 rows, so the sort is free.
SELECT id, user_id, label, recipient, line1, line2, city, region, postal_code, country,
       created_at
FROM addresses
WHERE user_id = $1
ORDER BY id DESC
LIMIT $2
