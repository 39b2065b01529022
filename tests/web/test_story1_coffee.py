"""Story 1 in a real Chromium at 375 × 812: a coffee-shop owner registers "one free coffee a day for riders,
10 a day"; a rider claims one and sees its QR code and typed code; the owner redeems it by typing the code;
nobody gets the 11th coffee. Once in zh-CN, once in en, once in elderly mode; axe runs on every screen."""
from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.charity.support import make_grid, open_shop, register_pledge, unique, users
from tests.web.support import RESULTS, WebApp

pytestmark = pytest.mark.integration

WORDS = {
    "zh-CN": {"charity": "公益物品", "merchant": "商户中心", "approved": "已通过", "register": "登记公益物品",
              "save": "登记", "redeem": "核销领取码", "redeem_button": "核销", "claim": "领取", "code": "领取码",
              "left_10": "今日剩余 10/10", "left_1": "今日剩余 1/10", "sold_out": "已领完", "unknown": "本店没有这个领取码",
              "again": "这个领取码已经核销过了", "redeemed": "已核销", "groups_rider": "外卖骑手"},
    "en": {"charity": "Charity items", "merchant": "My shop", "approved": "Approved", "register": "Register an item",
           "save": "Register", "redeem": "Redeem a code", "redeem_button": "Redeem", "claim": "Claim", "code": "Your code",
           "left_10": "10/10 left today", "left_1": "1/10 left today", "sold_out": "All claimed",
           "unknown": "No claim with this code at your shop", "again": "This code was redeemed already",
           "redeemed": "Redeemed", "groups_rider": "delivery riders"},
}


def sign_out(web) -> None:
    web.page.evaluate("localStorage.clear()")
    web.page.goto(web.base_url + "/login")


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_the_coffee_is_registered_claimed_shown_redeemed_and_never_an_eleventh(web, suite, persona, mode):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"

    # The owner's shop in micro-grid 7, approved by its grid worker (over the API).
    owner = persona(roles=("resident", "merchant"), locale=language, elderly=elderly)
    grid = make_grid(suite, unique("第7微网格"))
    shop = open_shop(suite, owner.client, grid, name=unique("U巷咖啡"))

    # 商户中心: the shop and its approval; register the coffee. The API's field message shows beside the
    # field, and nothing typed is lost.
    web.open("/merchant", "merchant")
    web.expect_title(words["merchant"])
    expect(page.get_by_test_id(f"shop-{shop['id']}")).to_contain_text(words["approved"])
    page.get_by_role("link", name=words["register"]).or_(page.get_by_role("button", name=words["register"])).click()
    web.expect_title(words["register"])
    web.screen("register an item")
    title = "骑手免费咖啡一杯" if language == "zh-CN" else "One free coffee a day for riders"
    page.fill("input[name=title]", title)
    page.fill("input[name=stock]", "0")
    page.get_by_role("button", name=words["save"], exact=True).click()
    expect(page.locator(".van-field__error-message")).to_contain_text("1")
    expect(page.locator("input[name=title]")).to_have_value(title)
    web.screen("register an item (refused)")
    page.fill("input[name=stock]", "10")
    page.get_by_role("button", name=words["save"], exact=True).click()
    page.wait_for_url("**/merchant")
    item = owner.client.get("/pledges", params={"mine": "true"}).json()["items"]
    assert [(i["title"], i["stock"], i["stock_period"], i["beneficiary_groups"]) for i in item] == \
        [(title, 10, "day", ["rider"])]
    pledge_id = item[0]["id"]
    expect(page.get_by_test_id(f"item-{pledge_id}")).to_contain_text(words["left_10"])
    web.screen("merchant (with the coffee)")

    # Nine riders claim theirs elsewhere (over the API): one coffee left today.
    for other in users(suite, 9, roles=["resident"], groups=["rider"]):
        assert other.post(f"/pledges/{pledge_id}/claims").status_code == 201

    # A rider opens 公益, sees 1/10 left, claims it and sees the QR code with the typed code under it.
    sign_out(web)
    rider = persona(roles=("resident",), groups=("rider",), locale=language, elderly=elderly)
    web.tab("charity").click()
    web.expect_title(words["charity"])
    card = page.get_by_test_id(f"pledge-{pledge_id}")
    for _ in range(20):  # the list loads more as it is scrolled
        if card.count():
            break
        page.mouse.wheel(0, 4000)
        page.wait_for_load_state("networkidle")
    expect(card).to_contain_text(words["left_1"])
    expect(card).to_contain_text(words["groups_rider"])
    web.screen("charity")
    card.get_by_role("button", name=re.compile(words["claim"])).click()
    page.wait_for_url(re.compile(r".*/claims/\d+$"))
    web.expect_title(words["code"])
    expect(page.get_by_test_id("qr-code")).to_be_visible()
    # It says so above the code, and nothing floats over the code.
    expect(page.get_by_test_id("claim-fresh")).to_be_visible()
    expect(page.locator(".notice-toast.shown")).to_have_count(0)
    mine = rider.client.get("/claims").json()["items"]
    assert len(mine) == 1 and mine[0]["state"] == "claimed"
    code = mine[0]["code"]
    expect(page.get_by_test_id("claim-code")).to_have_text(f"{code[:4]} {code[4:]}")
    web.screen("claim (QR code)")
    web.document(f"claim-{mode}")

    # Back in the list the coffee is gone for today; the 11th rider is refused.
    page.goto(web.base_url + "/charity")
    for _ in range(20):
        if card.count():
            break
        page.mouse.wheel(0, 4000)
        page.wait_for_load_state("networkidle")
    expect(card.get_by_role("button")).to_be_disabled()
    expect(card.get_by_role("button")).to_contain_text(words["sold_out"])
    web.screen("charity (sold out)")
    eleventh = users(suite, 1, roles=["resident"], groups=["rider"])[0].post(f"/pledges/{pledge_id}/claims")
    assert eleventh.status_code == 409, eleventh.text
    assert eleventh.json()["remaining"] == 0

    # The rider's claims list shows it, waiting at the counter.
    page.goto(web.base_url + "/claims")
    expect(page.get_by_test_id(f"claim-{mine[0]['id']}")).to_be_visible()
    web.screen("my claims")

    # The owner redeems it by typing the code: a wrong code first, then the rider's, typed loosely.
    sign_out(web)
    web.elderly = elderly
    web.sign_in(owner.username, owner.password)
    web.open("/merchant/redeem", "redeem")
    page.fill("input[name=code]", "WRNG2345")
    page.get_by_role("button", name=words["redeem_button"], exact=True).click()
    expect(page.locator(".van-field__error-message")).to_have_text(words["unknown"])
    expect(page.locator("input[name=code]")).to_have_value("WRNG2345")
    web.screen("redeem (unknown code)")
    page.fill("input[name=code]", f"{code[:4].lower()} {code[4:].lower()}")
    page.get_by_role("button", name=words["redeem_button"], exact=True).click()
    expect(page.get_by_test_id("redeemed")).to_contain_text(words["redeemed"])
    expect(page.get_by_test_id(f"today-{mine[0]['id']}")).to_contain_text(words["redeemed"])
    web.screen("redeem (done)")
    assert rider.client.get("/claims").json()["items"][0]["state"] == "redeemed"

    # Typed a second time, the code is refused and says why.
    page.fill("input[name=code]", code)
    page.get_by_role("button", name=words["redeem_button"], exact=True).click()
    expect(page.locator(".van-field__error-message")).to_have_text(words["again"])
    web.screen("redeem (again)")


# The picture the camera sees: the QR code the rider's phone shows, drawn on a 640 × 480 frame held at arm's
# length (white around it), as the grey levels of Chromium's fake camera file (YUV 4:2:0, no colour).
FRAME = (640, 480)
GREYS = """(img) => {
  const [w, h] = [640, 480], side = 300;
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
  g.imageSmoothingEnabled = false;
  g.drawImage(img, (w - side) / 2, (h - side) / 2, side, side);
  const rgba = g.getImageData(0, 0, w, h).data;
  let out = '';
  for (let i = 0; i < rgba.length; i += 4)
    out += String.fromCharCode(Math.round(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]));
  return btoa(out);
}"""


def camera_file(path, greys: bytes) -> None:
    width, height = FRAME
    chroma = bytes([128]) * (width // 2 * height // 2)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
                     + b"FRAME\n" + greys + chroma + chroma)


@pytest.mark.parametrize("mode", ["zh-CN", "en", "elderly"])
def test_the_owner_redeems_the_coffee_by_scanning_the_riders_qr_code_with_the_camera(
        web, suite, persona, browser_type, browser_type_launch_args, browser_context_args, mode, tmp_path):
    page = web.page
    language = "en" if mode == "en" else "zh-CN"
    words = WORDS[language]
    elderly = mode == "elderly"

    # The coffee, registered over the API; a rider claims it in the app and shows its QR code.
    owner = persona(roles=("resident", "merchant"), locale=language, elderly=elderly, sign_in=False)
    shop = open_shop(suite, owner.client, make_grid(suite, unique("第7微网格")), name=unique("U巷咖啡"))
    pledge = register_pledge(owner.client, shop["id"])
    web.elderly = False  # the sign-in page is not the account's yet
    rider = persona(roles=("resident",), groups=("rider",), locale=language, elderly=elderly)
    claim = rider.client.post(f"/pledges/{pledge['id']}/claims")
    assert claim.status_code == 201, claim.text
    claim = claim.json()
    web.open(f"/claims/{claim['id']}", "claim (QR code)")
    qr = page.get_by_test_id("qr-code")
    expect(qr).to_be_visible()
    greys = base64.b64decode(qr.evaluate(GREYS))
    assert len(greys) == FRAME[0] * FRAME[1] and min(greys) < 60 and max(greys) > 200  # a code, not a blank
    picture = tmp_path / "qr.y4m"
    camera_file(picture, greys)

    # The owner's phone: a Chromium whose camera sees that picture, its permission already given.
    browser = browser_type.launch(**{**browser_type_launch_args, "args": [
        *browser_type_launch_args["args"], "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={picture}"]})
    try:
        context = browser.new_context(**browser_context_args, permissions=["camera"])
        counter = WebApp(page=context.new_page(), base_url=suite.base_url)
        try:
            counter.sign_in(owner.username, owner.password)
            counter.elderly = elderly
            counter.open("/merchant/redeem", "redeem")
            counter.page.get_by_test_id("scan").click()
            expect(counter.page.get_by_test_id("redeemed")).to_contain_text(words["redeemed"], timeout=15_000)
            expect(counter.page.get_by_test_id(f"today-{claim['id']}")).to_contain_text(words["redeemed"])
            counter.screen("redeem (scanned)")
        except Exception:
            counter.save_screenshot(RESULTS / f"camera-scan-{mode}.png")
            print("the owner's page said:\n" + "\n".join(counter.console[-40:]))
            raise
        finally:
            context.close()
    finally:
        browser.close()
    assert rider.client.get("/claims").json()["items"][0]["state"] == "redeemed"
