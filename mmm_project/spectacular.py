"""drf-spectacular's settings (the OpenAPI document at ``/v1/mmm/openapi.json``), kept out of
``settings.py`` as they read nothing from the environment."""

SPECTACULAR_SETTINGS = {
    "TITLE": "MMM Engine API",
    "DESCRIPTION": (
        "Turns engineering signals into Mirror, Mentor and Multiplier nudges, gated by tenant policy, "
        "actor preferences and fatigue control, with Ed25519-signed receipts."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # self-hosted assets: the docs work without internet access
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SurfaceEnum": ["ide", "ci", "alert"],
        "ActionTypeEnum": ["mirror", "mentor", "multiplier"],
        "DecideSurfaceEnum": ["ide", "ci"],
        "ExperimentTypeEnum": ["ab", "bandit"],
    },
}
