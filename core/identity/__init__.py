"""Who acts: a person's identity (declared, or signed in through OpenID Connect), the roles a
token's groups give, the sign-in set-up read from `[auth]`, and JWTs verified against a JWKS."""
