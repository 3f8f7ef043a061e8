"""The decision engine's steps as plain functions over plain data (DESIGN.md "The decision flow").

Nothing here touches the database, the cache or HTTP: ``decisions.services`` loads the inputs,
calls these steps in order, and persists the result.
"""
