"""Software in a browser: an Action Pack admin gets keys (the same on reload; another company
gets others), narrows the downloads by language and OS and downloads the file; a pool runs
out, the partner is told, support staff load keys from a file and the row offers them."""

import re

import pytest
from playwright.sync_api import expect

from software.models import KeyShortage, LicenseKey, Product

from .conftest import say

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe runs as an inline script
]

SOFTWARE = "/dashboard/mpn/membership/benefits/software"


def expand(page, name):
    row = page.locator("details.product").filter(has_text=name)
    row.locator("summary").click()
    return row


def keys_in(row):
    return row.locator("ul.license-keys code").all_inner_texts()


def test_an_action_pack_admin_gets_keys_and_downloads_the_file(
    page, browser, portal, sign_in_as, axe, shot, tmp_path
):
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(f"{portal}/dashboard/mpn/membership/benefits/technical")
    page.get_by_role("link", name="Software", exact=True).click()
    expect(page.get_by_role("heading", name="Software", exact=True)).to_be_visible()
    expect(page.locator("details.product")).to_have_count(3)  # Visio isn't in Action Pack
    page.get_by_label("Product name").fill("windows")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("details.product")).to_have_count(1)

    row = expand(page, "Windows Server 2022")
    expect(row).to_contain_text("Microsoft Action Pack")
    expect(row).to_contain_text("Use the Datacenter key on virtualization hosts only")
    row.get_by_role("button", name="Get keys").click()
    expect(row.locator("ul.license-keys code")).to_have_count(1)
    expect(row.get_by_role("button", name="Copy license key")).to_be_visible()
    expect(row).to_contain_text("First viewed")
    ours = keys_in(row)
    axe(page)
    shot(page, "software-keys")

    page.reload()
    row = expand(page, "Windows Server 2022")
    assert keys_in(row) == ours  # the same keys on reload, without asking again

    # Another company's admin gets keys of its own.
    contoso = browser.new_context()
    theirs = contoso.new_page()
    sign_in_as(theirs, "admin@contoso.example")
    theirs.goto(portal + SOFTWARE)
    other = expand(theirs, "Windows Server 2022")
    expect(other).to_contain_text("Gold Cloud Platform")
    other.get_by_role("button", name="Get keys").click()
    expect(other.locator("ul.license-keys code")).to_have_count(5)
    assert not set(keys_in(other)) & set(ours)
    contoso.close()

    # Language and OS type narrow the links; the file downloads.
    row = page.locator("details.product").filter(has_text="Windows Server 2022")
    row.get_by_label("Language").select_option("ja")
    row.get_by_label("Operating system type").select_option("windows_x86")
    links = row.locator("ul.downloads a")
    expect(links).to_have_count(1)
    expect(links).to_contain_text("Windows 32-bit")
    with page.expect_download() as download:
        links.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert "ja" in download.value.suggested_filename
    assert "デモ" in path.read_text(encoding="utf-8")


def test_the_pool_runs_out_the_partner_is_told_and_keys_loaded_by_staff_are_offered(
    page, browser, portal, sign_in_as, settings, shot, tmp_path
):
    settings.KEYS_POLL_SECONDS = 1
    office = Product.objects.get(name="Office LTSC Professional Plus")
    LicenseKey.objects.filter(product=office, offer__isnull=True).delete()
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(portal + SOFTWARE)
    row = expand(page, "Office LTSC")
    row.get_by_role("button", name="Get keys").click()
    expect(row.get_by_role("alert")).to_contain_text("No keys left.")
    expect(row.locator("ul.license-keys")).to_have_count(0)
    shot(page, "software-no-keys-left")
    assert KeyShortage.objects.filter(product=office, resolved_at__isnull=True).count() == 1

    # Support staff see it, and load a file of keys.
    staff = browser.new_context()
    admin = staff.new_page()
    sign_in_as(admin, "support@benefits.example")
    admin.goto(f"{portal}/admin/software/product/?pool=ran_out")
    expect(admin.locator("#result_list")).to_contain_text("Office LTSC Professional Plus")
    admin.goto(f"{portal}/admin/software/licensekey/add/")
    admin.get_by_label("Product").select_option(label="Office LTSC Professional Plus 2021")
    keys = tmp_path / "keys.csv"
    keys.write_text("key\nNEW00-OFFIC-EKEYS-00001\nnot a key\n", encoding="utf-8")
    admin.get_by_label("File of keys").set_input_files(keys)
    admin.get_by_role("button", name="Load keys").click()
    expect(admin.locator(".errorlist")).to_contain_text("Row 3: “NOT A KEY” is not a key")
    keys.write_text("key\nNEW00-OFFIC-EKEYS-00001\nNEW00-OFFIC-EKEYS-00002\n", encoding="utf-8")
    admin.get_by_label("File of keys").set_input_files(keys)
    admin.get_by_role("button", name="Load keys").click()
    expect(admin.locator(".messagelist")).to_contain_text("2 keys of Office LTSC")
    staff.close()

    # The partner's row noticed by itself.
    expect(row.get_by_role("status")).to_contain_text("License keys are available again.")
    row.get_by_role("button", name="Get keys").click()
    expect(row.locator("ul.license-keys code")).to_have_text([re.compile("NEW00-OFFIC")])


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_the_page_at_a_phone_in_japanese_and_chinese(browser, portal, sign_in_as, axe, language):
    context = browser.new_context(viewport={"width": 390, "height": 800}, bypass_csp=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": portal}])
    page = context.new_page()
    sign_in_as(page, "admin@contoso.example")
    from accounts.models import User

    User.objects.filter(email="admin@contoso.example").update(language=language)
    page.goto(portal + SOFTWARE)
    expect(page.get_by_role("heading", name=say(language, "Software"), exact=True)).to_be_visible()
    row = page.locator("details.product").first
    row.locator("summary").click()
    row.get_by_role("button", name=say(language, "Get keys")).click()
    expect(row.locator("ul.license-keys code").first).to_be_visible()
    width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1]
    axe(page)
    context.close()
