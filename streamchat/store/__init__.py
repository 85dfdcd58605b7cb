"""The history store: saved conversations in SQLite, kept private on disk.

``database`` (the store and its records), ``schema`` (tables and migrations),
``files`` (where it lives, private files and folders), ``checkpoint`` (a
streaming answer saved at a bounded rate), ``writer`` (one thread that runs
every store call in order, so a UI never waits on the disk).
"""
