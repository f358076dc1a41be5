-- Trial accounts that expired get their credit reset.
BEGIN;
UPDATE accounts SET credit = 0, plan = 'free';
DELETE FROM sessions WHERE expires_at < now();
COMMIT;
