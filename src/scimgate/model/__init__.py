"""Pure SCIM domain logic shared by every layer: no HTTP, no database.

Offers: ``schemas`` and ``discovery`` (RFC 7643 resource types and attributes),
``filter`` (the RFC 7644 §3.4.2.2 grammar) and ``matching`` (evaluating it in
memory), ``patch``/``patch_apply``/``patch_members``/``patch_values`` (PATCH),
``projection`` (attributes/excludedAttributes), ``validation``, ``entities``,
``lifecycle`` (who is enabled and which roles they hold, with the reason and
event-type constants), ``idp`` (which IdP sent a request) and ``keys``
(case-insensitive attribute names). ``scim/``, ``service/`` and ``storage/``
may all import it.
"""
