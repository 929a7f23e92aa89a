"""Screenshots of Japanese and Chinese pages are refused where no font can draw them."""

import os

import pytest


@pytest.fixture
def no_cjk_font(tmp_path, monkeypatch):
    """A machine whose fontconfig knows no Japanese or Chinese font."""
    fc_list = tmp_path / "fc-list"
    fc_list.write_text("#!/bin/sh\nexit 0\n")
    fc_list.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_a_screenshot_in_japanese_or_chinese_needs_a_font(
    page, shot, no_cjk_font, monkeypatch, language
):
    page.set_content(f'<html lang="{language}"><body><h1>技術特典</h1></body></html>')
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="fonts-noto-cjk"):
        shot(page, f"boxes-{language}")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="fonts-noto-cjk"):
        shot(page, f"boxes-{language}")


def test_an_english_screenshot_needs_no_cjk_font(page, shot, no_cjk_font):
    page.set_content('<html lang="en"><body><h1>Technical benefits</h1></body></html>')
    shot(page, "no-cjk-needed")
