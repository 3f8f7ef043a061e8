"""The project's URLs plus ``POST /bench/floor``: the hardware floor a decide is compared with.

The floor is a bare DRF view with the project's authentication (bearer JWT verified against
``JWT_JWKS``), JSON parser and renderer, that inserts the request body as one JSON row into
``bench_floor`` (created by the benchmark) and answers 201: what any authenticated write costs
on this machine, with none of the decision flow.
"""

import json

from django.db import connection
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class FloorView(APIView):
    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_floor (tenant_id, body) VALUES (%s, %s) RETURNING id",
                [request.user.tenant_id, json.dumps(request.data)],
            )
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id}, status=201)


urlpatterns = [
    path("bench/floor", FloorView.as_view()),
    path("", include("mmm_project.urls")),
]
