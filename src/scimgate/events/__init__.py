"""Delivery of the outbox to webhooks: signing, HTTP, retries, the worker loop.

A layer beside ``service``: it may use service, storage and model, never the
HTTP layers. SCIM requests only insert event rows; everything here runs in
``scimgate worker`` (or a thread of ``scimgate serve --with-worker``).
"""
