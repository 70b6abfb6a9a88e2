"""Screenshots of every view for the README and the closing notes, from the real app in headless Chromium.

    python3 tools/screenshots.py [--out docs]

Starts the app on a local port, opens each view by its link and saves a PNG per view; train.png is the Train
page in the middle of a quick-recipe run (started, shot after the third epoch's redraw, then stopped: nothing saved).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser import chromium, serve  # noqa: E402

VIEWS = {  # file name: (link, how many Plotly charts to wait for, viewport height)
    "explorer.png": ("/?sample=3&noise=1&start=120&t=140", 2, 1300),
    "explorer-edits.png": ("/?sample=3&noise=2&start=120&edits=c121-150&t=135", 3, 1900),
    "why.png": ("/why?sample=3&noise=1&start=120", 3, 900),  # opens on the first crossing the hidden neurons drove
    "compare.png": ("/compare?sample=3&noise=1&start=120&b_mode=freeze&b_theta=0.8", 1, 900),
    "model-card.png": ("/model_card", 2, 1300),
    "tour.png": ("/tour?tour=4", 1, 900),
    "presentation.png": ("/?present=1&sample=3&t=140", 1, 1080),
    "sweep.png": ("/sweep?n=360", 1, 1100),
    "first-screen-1440.png": ("/?sample=3&noise=1&start=120&t=140", 2, 900),  # what a newcomer sees, no scrolling
    "first-screen-1280.png": ("/?sample=3&noise=1&start=120&t=140", 2, 720),
}
WIDTH = {"presentation.png": 1920, "why.png": 1440, "compare.png": 1440, "tour.png": 1440,  # the pages' first screen
         "first-screen-1440.png": 1440, "first-screen-1280.png": 1280}
FIRST_SCREEN = {"first-screen-1440.png", "first-screen-1280.png"}  # the viewport only, as it opens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--only", nargs="*", help="file names to make (default: all)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with serve() as url, chromium(viewport=(1600, 1300)) as page:
        if not args.only or "train.png" in args.only:
            train_mid_run(page, url, out / "train.png")
        for name, (link, charts, height) in VIEWS.items():
            if args.only and name not in args.only:
                continue
            page.set_viewport_size({"width": WIDTH.get(name, 1600), "height": height})
            page.goto(url + link)
            page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                                   timeout=300_000)
            page.wait_for_timeout(2500)  # fonts, the cursor placed, images decoded
            page.screenshot(path=str(out / name), full_page=name not in FIRST_SCREEN)
            print(out / name)


def train_mid_run(page, url: str, path: Path, epochs_seen: int = 3) -> None:
    """Start the quick recipe on the Train page, wait (without touching the page: it redraws itself) until the gate
    figure shows ``epochs_seen`` epochs, shoot, then stop the run."""
    page.set_viewport_size({"width": 1600, "height": 1700})
    page.goto(url + "/train")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text(f"Epoch {epochs_seen + 1} of").wait_for(timeout=300_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(path), full_page=True)
    print(path)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("nothing was saved").wait_for(timeout=60_000)


if __name__ == "__main__":
    main()
