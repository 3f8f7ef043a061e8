"""The Django admin's region switch (NFR-3): ``/admin/region/<region>/`` makes the admin pages of
this session show (and edit) that region's database; ``default`` until switched."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse

from mmm_project.residency.context import regions
from mmm_project.residency.middleware import ADMIN_REGION_SESSION_KEY


@staff_member_required
def admin_region_switch(request: HttpRequest, region: str) -> HttpResponseRedirect:
    """Switch this admin session to ``region`` (a database alias) and go back to the admin index.

    Raises:
        Http404: ``region`` is not a configured region.
    """
    if region not in regions():
        raise Http404("no such region")
    request.session[ADMIN_REGION_SESSION_KEY] = region
    messages.info(request, f"The admin now shows region {region!r} (configured: {', '.join(regions())}).")
    return HttpResponseRedirect(reverse("admin:index"))
