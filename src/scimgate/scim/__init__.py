"""The SCIM 2.0 HTTP layer (RFC 7644), mounted at ``/scim/v2/{tenant}``.

Offers to the app factory: ``routes.scim_routes`` (the mounted routes),
``audit.AuditedScim`` (the recording wrapper around them), ``context.limits_from``
and ``handlers`` (the one place typed errors become SCIM Error responses). Inside:

* ``routes``: one thin endpoint per path and verb, dispatching through the
  service object of the resource type (``service.resource_services``);
* ``context``: bearer authentication, the tenant's scope, the detected IdP;
* ``params``: request bodies and query strings, parsed once;
* ``responses``: ``ScimResponse`` (content type, ETag, Location);
* ``compat``: the registry of named IdP tolerances applied before the services;
* ``audit``: the audit recorder; ``context`` also applies the per-token rate limit
  (``service.ratelimit``).

It holds the ``Database`` handle only to pass it to services.
"""
