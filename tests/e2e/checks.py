"""Checks a browser test makes on whatever page it is on: money columns that can be seen at
any width, and axe-core's verdict."""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

#: For each money (numeric) cell: it is displayed; after scrolling it into view (which
#: scrolls its table's scroll container too; a folded <details> is opened first) it lies
#: inside that container and the viewport; and what is drawn at its centre is the cell
#: itself, not the sticky first column (which the container is scrolled back past, as a
#: reader would), and any box scrolled to reach it is one a reader can scroll. The page
#: itself never scrolls sideways.
_MONEY_CELLS_JS = """
() => {
  const problems = [];
  const root = document.documentElement;
  const width = root.clientWidth;
  if (root.scrollWidth > width + 1) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth}px in ${width}px`);
  }
  const cells = [...document.querySelectorAll('td.num, th.num')];
  // A table folded in a <details> (a chart's numbers) is opened, as a reader would.
  const opened = new Set(cells.map(c => c.closest('details:not([open])')).filter(d => d));
  for (const d of opened) d.open = true;
  for (const cell of cells) {
    const label = `${cell.tagName} "${cell.textContent.trim().slice(0, 40)}"`;
    const style = getComputedStyle(cell);
    if (cell.getClientRects().length === 0 || style.visibility !== 'visible') {
      problems.push(`${label} is not displayed`);
      continue;
    }
    const ancestors = [];
    for (let el = cell.parentElement; el && el !== document.body; el = el.parentElement) {
      ancestors.push([el, el.scrollLeft]);
    }
    cell.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
    const wrap = cell.closest('.table-wrap');
    const sticky = cell.parentElement.firstElementChild;
    if (wrap && sticky !== cell) {
      // Scrolled in from the right, the cell lands under the sticky first column: a reader
      // scrolls a little further back.
      const under = sticky.getBoundingClientRect().right - cell.getBoundingClientRect().left;
      if (under > 0) wrap.scrollLeft -= under;
    }
    const r = cell.getBoundingClientRect();
    const box = wrap ? wrap.getBoundingClientRect() : {left: 0, right: width};
    const left = Math.max(box.left, 0), right = Math.min(box.right, width);
    if (r.left < left - 1 || r.right > right + 1) {
      problems.push(`${label} lies outside what can be seen ` +
                    `(${r.left}-${r.right} in ${left}-${right})`);
      continue;
    }
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    if (!hit || !(hit === cell || cell.contains(hit))) {
      const what = hit ? `${hit.tagName}.${hit.className}` : 'nothing';
      problems.push(`${label} is covered by ${what}`);
    }
    // A script can scroll any box; a reader only one whose overflow lets them.
    for (const [el, before] of ancestors) {
      const overflow = getComputedStyle(el).overflowX;
      if (el.scrollLeft !== before && !['auto', 'scroll'].includes(overflow)) {
        problems.push(`${label} is only reached by scrolling ${el.tagName}.${el.className}, ` +
                      `which a reader cannot (overflow-x: ${overflow})`);
      }
      el.scrollLeft = before;
    }
  }
  for (const d of opened) d.open = false;
  window.scrollTo({top: 0, left: 0, behavior: 'instant'});
  return {count: cells.length, problems};
}
"""


def assert_money_visible(page, *, at_least: int = 1) -> None:
    """Every money cell on the page can be seen, in the viewport or by scrolling its table;
    and the page has at least `at_least` of them (so the check checked something)."""
    found = page.evaluate(_MONEY_CELLS_JS)
    assert not found["problems"], "\n".join(found["problems"])
    assert found["count"] >= at_least, f"only {found['count']} money cells on {page.url}"


_axe = Axe()


def assert_accessible(page) -> None:
    """axe-core (shipped in axe-playwright-python, no network) finds nothing serious or
    critical on the page."""
    results = _axe.run(page)
    serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:5])
               for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe on {page.url}: {serious}"
