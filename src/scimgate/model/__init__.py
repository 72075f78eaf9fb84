"""Pure SCIM domain logic shared by every layer: schemas, filters, paths, PATCH.

Nothing here touches HTTP or the database, so ``scim/``, ``service/`` and
``storage/`` may all import it.
"""
