-- Sign-in with OpenID Connect (issue 5). An account is matched by its email address the first
-- time its owner signs in through the provider, and is bound then to the provider's subject
-- (`iss` + `sub`): from then on only that subject signs in as it, even if the email claim
-- changes or another identity claims the same address.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_issuer, oidc_subject)
    WHERE oidc_subject IS NOT NULL;
