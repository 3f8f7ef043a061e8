"""Bearer-JWT authentication and scope/role permissions (spec 11, 12.8, NFR-7)."""
