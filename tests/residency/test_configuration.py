"""Regions from the environment and the tenant -> region map (NFR-3); no database needed."""

from __future__ import annotations

from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from mmm_project.residency import context
from mmm_project.residency.databases import database_settings, region_variables, tenant_regions


def _env(**variables: str) -> environ.Env:
    env = environ.Env()
    env.ENVIRON = dict(variables)
    return env


def test_without_region_urls_there_is_one_region_and_no_router(tmp_path: Path):
    databases = database_settings(_env(DATABASE_URL="postgres://u@127.0.0.1:5432/mmm"), tmp_path)
    assert list(databases) == ["default"]


def test_each_database_url_region_adds_an_alias_named_after_it(tmp_path: Path):
    env = _env(
        DATABASE_URL="postgres://u@127.0.0.1:5432/mmm",
        DATABASE_URL_EU="postgres://u@10.0.0.2:5432/mmm_eu",
        DATABASE_URL_US_EAST="postgres://u@10.0.0.3:5432/mmm_us",
        DATABASE_URL_EMPTY="",
    )
    databases = database_settings(env, tmp_path)
    assert list(databases) == ["default", "eu", "us_east"]
    assert (databases["eu"]["HOST"], databases["eu"]["NAME"]) == ("10.0.0.2", "mmm_eu")
    # every region gets the same connection settings as the default one
    assert (
        databases["eu"]["ENGINE"]
        == databases["default"]["ENGINE"]
        == "django_prometheus.db.backends.postgresql"
    )
    assert databases["eu"]["OPTIONS"]["connect_timeout"] == 3


def test_database_url_default_is_refused():
    with pytest.raises(ValueError, match="DATABASE_URL_DEFAULT"):
        region_variables({"DATABASE_URL_DEFAULT": "postgres://u@h/db"})


def test_tenant_regions_are_read_as_tenant_equals_region():
    assert tenant_regions(_env(TENANT_REGIONS="acme=EU, globex=eu,initech=default")) == {
        "acme": "eu",
        "globex": "eu",
        "initech": "default",
    }
    assert tenant_regions(_env()) == {}


def test_a_tenant_pinned_to_a_region_without_a_database_stops_start_up():
    saved = (context._config.regions, context._config.tenant_regions, context._config.unscoped)
    try:
        with pytest.raises(ImproperlyConfigured, match="DATABASE_URL_APAC"):
            context.configure(aliases=["default"], tenant_regions={"acme": "apac"})
    finally:
        context._config.regions, context._config.tenant_regions, context._config.unscoped = saved


def test_with_one_region_unscoped_work_uses_the_default_database():
    saved = (context._config.regions, context._config.tenant_regions, context._config.unscoped)
    try:
        context.configure(aliases=["default"], tenant_regions={})
        assert context.current_alias() == "default"
        context.configure(aliases=["default", "eu"], tenant_regions={"acme": "eu"})
        with pytest.raises(context.NoRegionContext, match="tenant_context"):
            context.current_alias()
        with context.tenant_context("acme"):
            assert context.current_alias() == "eu"
            with context.tenant_context("other"):
                assert context.current_alias() == "default"
            assert context.current_alias() == "eu"
        assert [alias for alias in context.each_region()] == ["default", "eu"]
        with pytest.raises(context.ResidencyError, match="unknown region"):
            with context.region_context("apac"):
                pass
    finally:
        context._config.regions, context._config.tenant_regions, context._config.unscoped = saved


def test_the_router_is_installed_only_with_several_regions(settings):
    routers = ["mmm_project.residency.router.RegionRouter"] if len(settings.DATABASES) > 1 else []
    assert settings.DATABASE_ROUTERS == routers
