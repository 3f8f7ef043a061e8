"""Cache invalidation (the only use of signals here): a playbook or version written in any way
invalidates the tenant's cached configuration, so decisions match the published playbooks at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from mmm_project.caching import TENANT_CONFIG, generation_bump
from playbooks.models import Playbook, PlaybookVersion


@receiver([post_save, post_delete], sender=Playbook, dispatch_uid="playbook-config-generation")
@receiver([post_save, post_delete], sender=PlaybookVersion, dispatch_uid="playbook-version-config-generation")
def playbook_changed(sender, instance, **kwargs) -> None:
    generation_bump(namespace=TENANT_CONFIG, tenant_id=instance.tenant_id)
