"""Persistence: settings, the database and the object store. Imports nothing of ours."""
