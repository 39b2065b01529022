"""Grid outlines: what a plausible ring is, and the demo's outlines (children inside parents, neighbours apart)."""
from __future__ import annotations

import pytest

from services.volunteers import seed
from services.volunteers.contracts import GridRequestSchema, OutlineSchema
from shared.errors import Invalid
from shared.rpc import load

SQUARE = [[121.42, 31.2], [121.43, 31.2], [121.43, 31.21], [121.42, 31.21], [121.42, 31.2]]


def polygon(ring):
    return {"type": "Polygon", "coordinates": [ring]}


def refusal(outline) -> dict:
    with pytest.raises(Invalid) as raised:
        load(GridRequestSchema, {"name": "第8微网格", "level": 1, "outline": outline})
    return raised.value.errors["outline"]


def test_a_closed_ring_in_lon_lat_is_kept_as_sent():
    grid = load(GridRequestSchema, {"name": "第8微网格", "level": 1, "outline": polygon(SQUARE)})
    assert grid["outline"] == polygon(SQUARE)
    assert load(GridRequestSchema, {"name": "第8微网格", "level": 1})["outline"] is None


@pytest.mark.parametrize(("ring", "words"), [
    (SQUARE[:-1] + [[121.425, 31.2]], "not closed"),
    ([[121.42, 31.2], [121.43, 31.2], [121.44, 31.2], [121.42, 31.2]], "no area"),
    ([[121.42, 31.2], [121.44, 31.21], [121.44, 31.2], [121.42, 31.22], [121.42, 31.2]], "crosses itself"),
    ([[121.42, 31.2], [121.43, 31.21], [121.43, 31.2], [121.42, 31.21], [121.42, 31.2]], "crosses itself"),
    ([[121.0, 31.0], [122.0, 31.0], [122.0, 32.0], [121.0, 32.0], [121.0, 31.0]], "0.5 degrees"),
    ([[31.2, 121.42], [31.21, 121.42], [31.21, 121.43], [31.2, 121.43], [31.2, 121.42]], "latitude -90..90"),
])
def test_an_implausible_ring_is_refused_with_a_field_message(ring, words):
    errors = refusal(polygon(ring))
    assert any(words in message for message in errors["coordinates"]), errors


def test_the_shape_of_a_polygon_is_checked_field_by_field():
    assert "type" in refusal({"type": "Point", "coordinates": [SQUARE]})
    assert "coordinates" in refusal({"type": "Polygon", "coordinates": [SQUARE, SQUARE]})  # no holes
    assert "coordinates" in refusal({"type": "Polygon", "coordinates": [SQUARE[:3]]})  # too few positions
    assert "coordinates" in refusal({"type": "Polygon", "coordinates": [[p + [0] for p in SQUARE]]})
    assert "coordinates" in refusal({"type": "Polygon"})


def _box(name):
    west, south, east, north = seed.BOXES[name]
    return west, south, east, north


def test_the_demo_grids_outlines_nest_and_lie_side_by_side():
    every = [seed.ROOT, *seed.BIG_GRIDS, *(m for micros in seed.BIG_GRIDS.values() for m in micros)]
    assert set(seed.BOXES) == set(every)
    for name in every:
        OutlineSchema().load(seed.outline(name))  # each one is a valid outline
    children = {seed.ROOT: list(seed.BIG_GRIDS), **seed.BIG_GRIDS}
    for parent, names in children.items():
        pw, ps, pe, pn = _box(parent)
        area = 0.0
        for name in names:
            w, s, e, n = _box(name)
            assert pw <= w < e <= pe and ps <= s < n <= pn, f"{name} lies outside {parent}"
            area += (e - w) * (n - s)
        for i, a in enumerate(names):  # neighbours touch but do not overlap
            for b in names[i + 1:]:
                aw, as_, ae, an = _box(a)
                bw, bs, be, bn = _box(b)
                assert min(ae, be) <= max(aw, bw) or min(an, bn) <= max(as_, bs), f"{a} overlaps {b}"
        assert area == pytest.approx((pe - pw) * (pn - ps)), f"{parent}'s children leave a gap"
    # 新华路 U巷 (the docs' loose shop sign) lies in 第7微网格
    w, s, e, n = _box("第7微网格")
    assert w <= 121.4251 <= e and s <= 31.2065 <= n
