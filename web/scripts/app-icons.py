"""Draws the shopper app's mark: a white shopping bag on the theme's teal, three shops
joined inside it (the mall's network). One geometry, written as icon.svg and drawn with
Pillow (4x supersampled) as the PNGs the manifest names. Run from the repository root:

    .venv/bin/python web/scripts/app-icons.py

The maskable icon fills the whole square and keeps the mark inside the middle 80%
circle (its safe zone); the others have rounded corners on a transparent ground."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "src" / "app" / "public"
TEAL = "#087f5b"  # theme.ts: primaryColor teal at primaryShade 9
WHITE = "#ffffff"
# In a 512 x 512 box.
CORNER = 112
BODY = (132, 200, 380, 400)
BODY_RADIUS = 18
HANDLE = (256, 200, 56, 18)  # centre x, centre y, radius, stroke width
SHOPS = ((256, 256), (196, 344), (316, 344))
SHOP_RADIUS = 20
LINK = 12


def svg() -> str:
    (x0, y0, x1, y1), (hx, hy, hr, hw) = BODY, HANDLE
    links = "M" + "L".join(f"{x} {y}" for x, y in SHOPS)
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="{SHOP_RADIUS}"/>' for x, y in SHOPS)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">'
        f'<rect width="512" height="512" rx="{CORNER}" fill="{TEAL}"/>'
        f'<path d="M{hx - hr} {hy}A{hr} {hr} 0 0 1 {hx + hr} {hy}" fill="none" '
        f'stroke="{WHITE}" stroke-width="{hw}"/>'
        f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{BODY_RADIUS}" '
        f'fill="{WHITE}"/>'
        f'<path d="{links}Z" fill="none" stroke="{TEAL}" stroke-width="{LINK}"/>'
        f'<g fill="{TEAL}">{dots}</g></svg>\n'
    )


def png(size: int, *, maskable: bool) -> Image.Image:
    big = size * 4
    k = big / 512
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=TEAL)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=CORNER * k, fill=TEAL)
    hx, hy, hr, hw = HANDLE
    outer = hr + hw / 2
    draw.arc(
        ((hx - outer) * k, (hy - outer) * k, (hx + outer) * k, (hy + outer) * k),
        180,
        360,
        fill=WHITE,
        width=round(hw * k),
    )
    draw.rounded_rectangle(tuple(v * k for v in BODY), radius=BODY_RADIUS * k, fill=WHITE)
    for a, b in zip(SHOPS, SHOPS[1:] + SHOPS[:1], strict=True):
        draw.line((a[0] * k, a[1] * k, b[0] * k, b[1] * k), fill=TEAL, width=round(LINK * k))
    for x, y in SHOPS:
        r = SHOP_RADIUS * k
        draw.ellipse((x * k - r, y * k - r, x * k + r, y * k + r), fill=TEAL)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(svg(), encoding="utf-8")
    png(192, maskable=False).save(OUT / "icon-192.png", optimize=True)
    png(512, maskable=False).save(OUT / "icon-512.png", optimize=True)
    png(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    png(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
