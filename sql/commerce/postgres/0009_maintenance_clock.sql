-- The maintenance routine takes its clock: `as_of` (default now()) decides which month is the
-- current one. The application passes the instant its own clock gives, so a test can run the
-- routine as of the 1st, the 15th or the last day of a month, and an operator can premake the
-- months of a planned import. Replaces the two-argument version: a caller that passes two
-- arguments (the previous release during a rolling deploy) gets now() as before.
DROP FUNCTION commerce_maintain_partitions(int, int);

CREATE FUNCTION commerce_maintain_partitions(
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
