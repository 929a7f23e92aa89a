"""Schemathesis against the API's own OpenAPI document, served by the running app, with every
check on (issue 19): no 500, every status and body as documented, bad input refused, valid
input accepted."""

import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from api import services
from entitlements.rules import Benefit
from support.models import ContractLink

from .factories import contract_for

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = Path(__file__).parent / "api" / "schemathesis.toml"


def schemathesis():
    found = Path(sys.executable).parent / "schemathesis"
    if found.exists():
        return str(found)
    if os.environ.get("CI") or not shutil.which("schemathesis"):
        pytest.fail("The tests need schemathesis: pip install -e '.[dev]'")
    return shutil.which("schemathesis")


def test_the_api_answers_as_its_document_says(live_server, settings, alice, contoso, tmp_path):
    settings.API_REQUESTS_PER_MINUTE = 1_000_000  # the checks send thousands of requests
    gold = contoso.offers.get(level="gold")
    contract = contract_for(gold, Benefit.PRODUCT_SUPPORT, alice)
    ContractLink.objects.create(user=alice, contract=contract)
    _token, raw = services.create_token(
        alice,
        "schemathesis",
        ["benefits:read", "activations:write", "support:read", "support:write"],
        timezone.now() + datetime.timedelta(days=1),
    )
    result = subprocess.run(
        [
            schemathesis(),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {raw}",
            "--checks",
            "all",
            "--seed",
            "20261201",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # its cache of what it found, kept out of the project
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
