"""Demo shops of the 新域好店家 initiative (28 merchants of U巷 and 中潭一哩街区), their charity items,
and a micro-wish. Idempotent: every call is an `ensure_*` as the system caller.

Shops are placed on the grids the grid seed created: U巷 in 第7微网格; 中潭一哩街区 runs through 第5微网格 and
第6微网格 (the typhoon story's three grids, all in 宜北). A shop without an owner account was recorded by a
grid worker on a visit: it counts in the initiative but registers no items, because its owner redeems the
codes at the counter with their own account.
"""
from __future__ import annotations

U_LANE, ZHONGTAN = "U巷", "中潭一哩街区"
# (name, street, category, demo owner username or None); each street's shops in the order of its grids.
SHOPS = [
    ("U巷咖啡", U_LANE, "cafe", "coffee"),
    ("U巷面包房", U_LANE, "bakery", None), ("小巷花店", U_LANE, "florist", None),
    ("老弄堂书店", U_LANE, "bookshop", None), ("巷口便利店", U_LANE, "convenience", None),
    ("新华理发", U_LANE, "barber", None), ("街角修鞋铺", U_LANE, "repair", None),
    ("U巷茶铺", U_LANE, "tea", None), ("番禺路水果店", U_LANE, "grocer", None),
    ("邻里洗衣", U_LANE, "laundry", None), ("小院甜品", U_LANE, "dessert", None),
    ("新华汽修", U_LANE, "repair", None), ("巷里健身房", U_LANE, "gym", None),
    ("暖新药房", U_LANE, "pharmacy", None),
    ("中潭一哩食堂", ZHONGTAN, "canteen", "canteen"), ("一哩早餐铺", ZHONGTAN, "breakfast", None),
    ("中潭五金", ZHONGTAN, "hardware", None), ("一哩咖啡", ZHONGTAN, "cafe", None),
    ("老上海馄饨", ZHONGTAN, "restaurant", None), ("街坊菜摊", ZHONGTAN, "grocer", None),
    ("一哩照相馆", ZHONGTAN, "photo", None), ("阿强理发", ZHONGTAN, "barber", "barber"),
    ("中潭眼镜", ZHONGTAN, "optician", None), ("一哩雨具店", ZHONGTAN, "umbrellas", None),
    ("中潭围巾铺", ZHONGTAN, "clothing", None), ("一哩文具", ZHONGTAN, "stationery", None),
    ("中潭面馆", ZHONGTAN, "restaurant", None), ("一哩修车铺", ZHONGTAN, "bicycle_repair", None),
]

# (shop, item) — the "十个一" of the report: a coffee, an umbrella, a breakfast, a haircut.
ITEMS = [
    ("U巷咖啡", {"title": "骑手免费咖啡一杯", "title_en": "One free coffee a day for riders",
                "description": "外卖骑手每天凭码领取一杯美式咖啡,每天10杯,先到先得,营业时间内都可兑换。",
                "description_en": "Delivery riders: one americano a day, 10 a day, first come first served.",
                "beneficiary_groups": ["rider"], "stock": 10, "stock_period": "day", "per_person_limit": 1,
                "per_person_period": "day"}),
    ("U巷咖啡", {"title": "雨天爱心雨伞", "title_en": "An umbrella on rainy days",
                "description": "户外工作者雨天可领一把雨伞,共20把。", "beneficiary_groups": ["outdoor"],
                "stock": 20, "stock_period": "total", "per_person_limit": 1, "per_person_period": "total"}),
    ("中潭一哩食堂", {"title": "环卫工人免费早餐", "title_en": "Free breakfast for sanitation workers",
                   "description": "每天早上6点到9点,环卫工人免费早餐一份。", "beneficiary_groups": ["sanitation"],
                   "stock": 30, "stock_period": "day", "per_person_limit": 1, "per_person_period": "day",
                   "redemption_hours": {"start": "06:00", "end": "09:00"}}),
    ("阿强理发", {"title": "免费理发", "title_en": "A free haircut",
               "description": "户外工作者和独居老人每周可免费理发一次,每周5位。",
               "beneficiary_groups": ["outdoor", "elderly"], "stock": 5, "stock_period": "week",
               "per_person_limit": 1, "per_person_period": "week",
               "redemption_hours": {"start": "10:00", "end": "18:00", "weekdays": [1, 2, 3, 4, 5]}}),
]


def grid_of(street: str, index: int) -> str:
    """U巷 lies in 第7微网格; the first seven shops of 中潭一哩街区 in 第5微网格, the other seven in 第6."""
    if street == U_LANE:
        return "第7微网格"
    return "第5微网格" if index < 7 else "第6微网格"


WISH = {"title": "一台电饭煲", "estimated_value": 300,
        "story": "网约车司机老王一家四口,家里的电饭煲坏了,孩子放学回家要吃饭。希望有好心商户帮忙添一台。"}


def seed(call, people: dict) -> None:
    listed = call("volunteers", "list_grids")
    listed = listed["items"] if isinstance(listed, dict) else listed
    grids = {g["name"]: g["id"] for g in _walk(listed)}
    shops, position = {}, {}
    for name, street, category, owner in SHOPS:
        index = position[street] = position.get(street, -1) + 1
        shops[name] = call("volunteers", "ensure_merchant", {
            "name": name, "street_area": street, "category": category, "good_shop": True,
            "grid_id": grids.get(grid_of(street, index)), "address": f"新华路街道 {street}",
            "user_id": people[owner]["id"] if owner in people else None, "status": "approved"})
    for shop, item in ITEMS:
        if shops[shop]["user_id"] is not None:
            call("volunteers", "ensure_item", {"merchant_id": shops[shop]["id"], **item})
    call("volunteers", "ensure_wish", {**WISH, "owner_id": people["rider"]["id"],
                                       "grid_id": grids.get("第7微网格"), "state": "published"})


def _walk(grids: list[dict]):
    """Every grid of a list that may be flat or a tree (`children`)."""
    for grid in grids:
        yield grid
        yield from _walk(grid.get("children") or [])
