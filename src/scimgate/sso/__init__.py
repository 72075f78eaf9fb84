"""Single sign-on over HTTP, mounted at ``/sso``: the start picker, SAML and OIDC routes."""
