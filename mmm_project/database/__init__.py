"""Database helpers shared by the apps (writes the ORM cannot make cheap enough)."""
