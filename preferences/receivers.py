"""Cache invalidation (the only use of signals here): a tenant policy written in any way (API,
admin, a migration's data, a test factory) invalidates the tenant's cached configuration."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from mmm_project.caching import TENANT_CONFIG, generation_bump
from preferences.models import TenantPolicy


@receiver([post_save, post_delete], sender=TenantPolicy, dispatch_uid="tenant-policy-config-generation")
def tenant_policy_changed(sender, instance: TenantPolicy, **kwargs) -> None:
    generation_bump(namespace=TENANT_CONFIG, tenant_id=instance.tenant_id)
