-- Whether a customer proved their address with a mailed code. Accounts from before
-- verification existed count as verified: they keep sharing as they did.
ALTER TABLE customers ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT 1;

-- One-time codes sent by mail (password reset, address verification, change of address):
-- at most one per customer and purpose (a newer one replaces it), stored only as a SHA-256
-- hash, gone with their customer.
CREATE TABLE mail_codes (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    new_email TEXT,
    new_email_key TEXT,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, purpose)
);
