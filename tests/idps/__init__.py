"""Real identity providers the SSO tests run against, started on 127.0.0.1."""
