"""The feed in two browsers: posting with files, live delivery, group privacy.

Each test uses its own personas of the demo area; the officer and the guard
post, shop owners read. Titles carry a random suffix so tests never see each
other's posts by accident.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from chainels_app.seed import DEMO_PASSWORD
from tests.e2e.conftest import AppServer
from tests.e2e.helpers import login

pytestmark = pytest.mark.browser

OFFICER = "wijkagent@demo.example"
GUARD = "beveiliging@demo.example"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def _pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _open_composer(page: Page) -> None:
    page.get_by_role("button", name="Nieuw bericht").click()
    expect(page.get_by_role("button", name="Plaatsen")).to_be_visible()


def _attach(page: Page, files: list[dict]) -> None:
    page.locator("#composer-files input[type=file]").set_input_files(files)
    for file in files:
        expect(page.get_by_text(file["name"])).to_be_visible()


def _publish(page: Page, title: str, body: str, groups: tuple[str, ...] = ()) -> None:
    page.get_by_label("Titel").fill(title)
    page.get_by_label("Tekst", exact=False).fill(body)
    for group in groups:
        page.get_by_role("checkbox", name=group).check()
    page.get_by_role("button", name="Plaatsen").click()
    expect(page.get_by_text("Uw bericht is geplaatst.")).to_be_visible()


def _card(page: Page, title: str):
    return page.locator("[data-post-id]").filter(has_text=title)


def test_officer_posts_photo_and_pdf_and_a_reader_sees_it_live(
    page: Page,
    new_context: Callable[[], BrowserContext],
    app_server: AppServer,
) -> None:
    title = f"Nepbiljetten in omloop {uuid.uuid4().hex[:6]}"
    reader = new_context().new_page()
    login(reader, "drogisterij@demo.example", DEMO_PASSWORD)

    login(page, OFFICER, DEMO_PASSWORD)
    _open_composer(page)
    _attach(
        page,
        [
            {"name": "verdachte.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()},
            {
                "name": "signalement.pdf",
                "mimeType": "application/pdf",
                "buffer": _pdf(),
            },
        ],
    )
    _publish(page, title, "Let op bij **briefjes van 50 euro**.")

    card = _card(reader, title)
    expect(card).to_be_visible()
    expect(card.get_by_text("Peter Bakker")).to_be_visible()
    expect(card.get_by_text("Politie Basisteam Centrum")).to_be_visible()

    photo = card.get_by_role("img", name="verdachte.jpg")
    expect(photo).to_be_visible()
    photo_url = photo.evaluate("img => img.closest('a').href")
    response = reader.request.get(photo_url)
    assert response.status == 200
    assert response.headers["content-type"] == "image/jpeg"

    with reader.expect_download() as download:
        card.get_by_role("link", name="signalement.pdf").click()
    assert download.value.suggested_filename == "signalement.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF")


def test_a_group_post_reaches_only_that_group(
    page: Page,
    new_context: Callable[[], BrowserContext],
    app_server: AppServer,
) -> None:
    title = f"Alleen voor Veiligheid {uuid.uuid4().hex[:6]}"
    outsider = new_context().new_page()
    login(outsider, "juwelier@demo.example", DEMO_PASSWORD)
    insider = new_context().new_page()
    login(insider, OFFICER, DEMO_PASSWORD)

    login(page, GUARD, DEMO_PASSWORD)
    _open_composer(page)
    _attach(page, [{"name": "camera.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    _publish(page, title, "Camerabeeld van vanmiddag.", groups=("Veiligheid",))

    expect(_card(insider, title)).to_be_visible()
    post_url = (
        _card(insider, title).get_by_role("link", name=title).get_attribute("href")
    )
    photo_url = _card(insider, title).get_by_role("img").get_attribute("src")

    outsider.reload()
    expect(outsider.get_by_role("button", name="Uitloggen")).to_be_visible()
    expect(_card(outsider, title)).to_have_count(0)
    assert outsider.request.get(photo_url).status == 404
    outsider.goto(post_url)
    expect(outsider.get_by_role("alert")).to_contain_text("Niet gevonden")
    expect(outsider.get_by_role("heading", name=title)).to_have_count(0)


def test_comments_and_votes_update_live_in_a_second_browser(
    page: Page,
    new_context: Callable[[], BrowserContext],
    app_server: AppServer,
) -> None:
    title = f"Wie heeft dit gezien {uuid.uuid4().hex[:6]}"
    login(page, "fietsen@demo.example", DEMO_PASSWORD)
    _open_composer(page)
    _publish(page, title, "Een man met een rode jas.")
    _card(page, title).get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()

    other = new_context().new_page()
    login(other, "slagerij@demo.example", DEMO_PASSWORD)
    feed_card = _card(other, title)
    expect(feed_card).to_be_visible()

    feed_card.get_by_role("button", name="Stem").click()
    expect(page.get_by_role("button", name="Stem")).to_have_text("1")

    page.get_by_label("Uw reactie").fill("Ik heb hem om drie uur gezien.")
    page.get_by_role("button", name="Reageren").click()
    expect(feed_card.get_by_role("link", name="1 Reacties")).to_be_visible()

    feed_card.get_by_role("link", name=title).click()
    expect(other.get_by_text("Ik heb hem om drie uur gezien.")).to_be_visible()
    other.get_by_label("Uw reactie").fill("Hier ook, bij de slager.")
    other.get_by_role("button", name="Reageren").click()
    expect(page.get_by_text("Hier ook, bij de slager.")).to_be_visible()

    page.get_by_role("button", name="Bewerken").click()
    expect(page.get_by_label("Tekst", exact=False)).to_have_value(
        "Een man met een rode jas."
    )
    page.get_by_label("Titel").fill(f"{title} (gevonden)")
    page.get_by_role("button", name="Opslaan").click()
    expect(other.get_by_role("heading", name=f"{title} (gevonden)")).to_be_visible()


def test_bad_input_is_refused_with_a_clear_message(page: Page) -> None:
    login(page, "modehuis@demo.example", DEMO_PASSWORD)
    _open_composer(page)
    page.locator("#composer-files input[type=file]").set_input_files(
        [
            {
                "name": "foto.jpg",
                "mimeType": "image/jpeg",
                "buffer": b"\x7fELF" + b"0" * 64,
            }
        ]
    )
    expect(page.get_by_role("alert")).to_contain_text("Dit soort bestand")

    page.get_by_label("Titel").fill("   ")
    page.get_by_role("button", name="Plaatsen").click()
    expect(page.get_by_role("alert")).to_contain_text("titel")


def test_a_member_chooses_how_mail_arrives(page: Page) -> None:
    login(page, "opticien@demo.example", DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Instellingen").click()
    choice = page.get_by_role("combobox", name="Mededeling")
    expect(choice).to_have_value("instant")
    choice.select_option(label="Uit")
    expect(page.get_by_text("Opgeslagen.")).to_be_visible()

    page.reload()
    expect(page.get_by_role("combobox", name="Mededeling")).to_have_value("off")
    expect(page.get_by_text("Een alarm dat aan u gericht is")).to_be_visible()
