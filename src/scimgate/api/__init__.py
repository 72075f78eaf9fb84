"""The host-app JSON API (FastAPI), mounted at ``/api``: ``create_api`` and ``attach``.

Nothing is imported here, so that the CLI can use ``scimgate.api.models``
without loading FastAPI.
"""
