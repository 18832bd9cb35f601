-- Whether each customer proved their address: only a verified customer shares, is shared
-- with or makes links (when auth.email_verification is required). Customers known before
-- verification existed count as verified, as the customers service counts them.
ALTER TABLE people ADD COLUMN verified BOOLEAN NOT NULL DEFAULT TRUE;
