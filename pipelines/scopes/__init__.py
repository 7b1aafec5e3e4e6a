"""Web scopes: one-time codes (email, SMS), OpenID Connect sign-on, domain ownership, device/IP/GPS metadata."""
