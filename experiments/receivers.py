"""Cache invalidation (the only use of signals here): an experiment written in any way
invalidates the tenant's cached configuration, so assignments follow its status at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from experiments.models import Experiment
from mmm_project.caching import TENANT_CONFIG, generation_bump


@receiver([post_save, post_delete], sender=Experiment, dispatch_uid="experiment-config-generation")
def experiment_changed(sender, instance: Experiment, **kwargs) -> None:
    generation_bump(namespace=TENANT_CONFIG, tenant_id=instance.tenant_id)
