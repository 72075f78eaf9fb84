"""The server-rendered admin console, mounted at ``/admin``."""
